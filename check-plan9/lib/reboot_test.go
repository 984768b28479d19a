package checkplan9

import (
	"bytes"
	"debug/plan9obj"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// aout writes a Plan 9 a.out in the layout debug/plan9obj reads: a header
// of big-endian words (with a 64-bit entry point for amd64), text, data and
// a symbol table, with a kerndate data symbol holding date, as mkdevc and
// the loader make it. Local symbols named edata, as real kernels have,
// come first. With stripped, the symbol table is empty.
func aout(amd64 bool, date uint32, stripped bool) []byte {
	const textSize, dataSize, kdOff = 0x800, 0x100, 0x40
	var dataStart uint64 = 0xf0100000 + textSize
	if amd64 {
		dataStart = 0xfffffffff0110000 + textSize
	}
	data := make([]byte, dataSize)
	binary.LittleEndian.PutUint32(data[kdOff:], date)
	var syms bytes.Buffer
	sym := func(value uint64, typ byte, name string) {
		if amd64 {
			binary.Write(&syms, binary.BigEndian, value)
		} else {
			binary.Write(&syms, binary.BigEndian, uint32(value))
		}
		syms.WriteByte(typ | 0x80)
		syms.WriteString(name)
		syms.WriteByte(0)
	}
	if !stripped {
		sym(dataStart-textSize, 'T', "_main")
		sym(0x160, 'a', "edata") // a local variable of some function
		sym(dataStart, 'D', "conf")
		sym(dataStart+kdOff, 'D', "kerndate")
		sym(dataStart+dataSize, 'B', "edata")
		sym(dataStart+dataSize+0x1000, 'B', "end")
	}
	var b bytes.Buffer
	magic := uint32(plan9obj.Magic386)
	if amd64 {
		magic = plan9obj.MagicAMD64
	}
	for _, w := range []uint32{magic, textSize, dataSize, 0x1000, uint32(syms.Len()), 0xf0100020, 0, 0} {
		binary.Write(&b, binary.BigEndian, w)
	}
	if amd64 {
		binary.Write(&b, binary.BigEndian, uint64(0xfffffffff0110020))
	}
	b.Write(make([]byte, textSize))
	b.Write(data)
	b.Write(syms.Bytes())
	return b.Bytes()
}

var built = time.Date(2026, 11, 21, 5, 3, 50, 0, time.UTC)

// host9front makes a 9front-like name space whose running kernel was
// built at running, with bootfile=9pc64 in plan9.ini.
func host9front(t *testing.T, running time.Time, files map[string]string) string {
	all := map[string]string{"#ec/bootfile": "9pc64", "env/cputype": "amd64"}
	for k, v := range files {
		all[k] = v
	}
	root := derive(t, testkit.Front11879amd64, all)
	touch(t, filepath.Join(root, "dev/sysstat"), running)
	return root
}

func touch(t *testing.T, p string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestKerndate(t *testing.T) {
	for _, amd64 := range []bool{false, true} {
		root := host9front(t, built, map[string]string{"amd64/9pc64": string(aout(amd64, uint32(built.Unix()), false))})
		h, _, err := open(t.Context(), namespace(root))
		if err != nil {
			t.Fatal(err)
		}
		got, err := kerndate(h, "amd64/9pc64")
		if err != nil || !got.Equal(built) {
			t.Errorf("amd64 %v: %v %v", amd64, got, err)
		}
		root = host9front(t, built, map[string]string{"amd64/9pc64": string(aout(amd64, 0, true))})
		h, _, _ = open(t.Context(), namespace(root))
		if _, err := kerndate(h, "amd64/9pc64"); err != errNoKerndate {
			t.Errorf("stripped: %v", err)
		}
	}
}

func TestRebootRequired(t *testing.T) {
	later := built.Add(48 * time.Hour)
	same := string(aout(true, uint32(built.Unix()), false))
	newer := string(aout(true, uint32(later.Unix()), false))
	stripped := string(aout(true, 0, true))

	bySymbol := host9front(t, built, map[string]string{"amd64/9pc64": same})
	pending := host9front(t, built, map[string]string{"amd64/9pc64": newer})
	in9fat := host9front(t, built, map[string]string{"amd64/9pc64": same, "n/9fat/9pc64": newer})
	classic := host9front(t, built, map[string]string{"#ec/bootfile": "sdC0!9fat!9pc64", "env/cputype": "-", "amd64/9pc64": newer})

	old := host9front(t, built, map[string]string{"amd64/9pc64": stripped})
	touch(t, filepath.Join(old, "amd64/9pc64"), built.Add(time.Minute))
	copied := host9front(t, built, map[string]string{"amd64/9pc64": stripped})
	touch(t, filepath.Join(copied, "amd64/9pc64"), built.Add(time.Hour))
	// 9fat times are skewed by the time zone: 10 hours is within the
	// allowance, 20 hours is not.
	fatSkewed := host9front(t, built, map[string]string{"n/9fat/9pc64": stripped})
	touch(t, filepath.Join(fatSkewed, "n/9fat/9pc64"), built.Add(10*time.Hour))
	fatNewer := host9front(t, built, map[string]string{"n/9fat/9pc64": stripped})
	touch(t, filepath.Join(fatNewer, "n/9fat/9pc64"), built.Add(20*time.Hour))
	// With /env/timezone the skew is corrected: JST is 9 hours east.
	jst := host9front(t, built, map[string]string{"n/9fat/9pc64": stripped, "env/timezone": "JST 32400 JST 32400\n"})
	touch(t, filepath.Join(jst, "n/9fat/9pc64"), built.Add(9*time.Hour+time.Minute))
	jstNewer := host9front(t, built, map[string]string{"n/9fat/9pc64": stripped, "env/timezone": "JST 32400 JST 32400\n"})
	touch(t, filepath.Join(jstNewer, "n/9fat/9pc64"), built.Add(12*time.Hour))

	table(t, []tc{
		{"same kernel", []string{"reboot-required", "--root", bySymbol}, 0,
			"RebootRequired OK: running the kernel in /amd64/9pc64, built 2026-11-21 05:03:50 UTC (kerndate symbol)"},
		{"newer kernel", []string{"reboot-required", "--root", pending}, 1,
			"RebootRequired WARNING: reboot required: /amd64/9pc64 was built 2026-11-23 05:03:50 UTC, the running kernel 2026-11-21 05:03:50 UTC (kerndate symbols)"},
		{"critical", []string{"reboot-required", "--critical", "--root", pending}, 2, "RebootRequired CRITICAL: reboot required: …"},
		{"9fat first", []string{"reboot-required", "--root", in9fat}, 1, "RebootRequired WARNING: reboot required: /n/9fat/9pc64 was built …"},
		{"named kernels", []string{"reboot-required", "--kernel", "/amd64/9pc64", "--kernel", "/n/9fat/9pc64", "--root", in9fat}, 1,
			"RebootRequired WARNING: running the kernel in /amd64/9pc64, built 2026-11-21 05:03:50 UTC (kerndate symbol); reboot required: /n/9fat/9pc64 …"},
		{"classic bootfile, cputype from config", []string{"reboot-required", "--root", classic}, 1, "RebootRequired WARNING: reboot required: /amd64/9pc64 was built …"},
		{"stripped, not newer", []string{"reboot-required", "--root", old}, 0,
			"RebootRequired OK: /amd64/9pc64 (2026-11-21 05:04:50 UTC) is not newer than the running kernel, built 2026-11-21 05:03:50 UTC (modification time; it has no kerndate symbol)"},
		{"stripped, newer", []string{"reboot-required", "--root", copied}, 1,
			"RebootRequired WARNING: reboot required: /amd64/9pc64 is newer (2026-11-21 06:03:50 UTC) than the running kernel, built 2026-11-21 05:03:50 UTC (modification time; it has no kerndate symbol)"},
		{"9fat skew", []string{"reboot-required", "--root", fatSkewed}, 0,
			"RebootRequired OK: /n/9fat/9pc64 (2026-11-21 15:03:50 UTC) is not newer than the running kernel, built 2026-11-21 05:03:50 UTC (modification time, allowing 14h of FAT time-zone skew; it has no kerndate symbol)"},
		{"9fat newer", []string{"reboot-required", "--root", fatNewer}, 1, "RebootRequired WARNING: reboot required: /n/9fat/9pc64 is newer …"},
		{"9fat timezone", []string{"reboot-required", "--root", jst}, 0,
			"RebootRequired OK: /n/9fat/9pc64 (2026-11-21 05:04:50 UTC) is not newer than the running kernel, built 2026-11-21 05:03:50 UTC (modification time, corrected for the FAT time zone; it has no kerndate symbol)"},
		{"9fat timezone newer", []string{"reboot-required", "--root", jstNewer}, 1, "RebootRequired WARNING: reboot required: /n/9fat/9pc64 is newer (2026-11-21 08:03:50 UTC) …"},
		{"no bootfile", []string{"reboot-required", "--root", testkit.Capture(testkit.Front11879amd64)}, 3, "RebootRequired UNKNOWN: no bootfile in #ec/bootfile: …"},
		{"missing kernel", []string{"reboot-required", "--kernel", "/amd64/9pc64.new", "--root", bySymbol}, 3, "RebootRequired UNKNOWN: /amd64/9pc64.new: open …"},
		// A file without symbols falls back to its modification time: the
		// copy's is now, well after the running kernel was built.
		{"not an a.out", []string{"reboot-required", "--kernel", "/dev/swap", "--root", bySymbol}, 1, "RebootRequired WARNING: reboot required: /dev/swap is newer …"},
	})
}

func namespace(root string) cli.Namespace { return cli.Namespace{Root: root} }
