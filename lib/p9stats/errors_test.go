package p9stats

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// linuxStatus is what Linux serves as /proc/N/status (abridged).
func linuxStatus(pid int, name string) string {
	return "Name:\t" + name + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + itoa(pid) + "\nNgid:\t0\nPid:\t" + itoa(pid) +
		"\nPPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nVmRSS:\t  9120 kB\nThreads:\t1\n" +
		"Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n"
}

func TestExcerpt(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"many/150376 user", "many/150376 user"},
		{"first line\nsecond line", "first line..."},
		{strings.Repeat("x", 40), strings.Repeat("x", 40)},
		{strings.Repeat("x", 41), strings.Repeat("x", 40) + "..."},
		// Cut between characters, never inside one.
		{strings.Repeat("x", 39) + "¶¶", strings.Repeat("x", 39) + "..."},
	} {
		if got := excerpt(tt.in); got != tt.want || !utf8.ValidString(got) {
			t.Errorf("excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A parser that quotes the file quotes one short line of it, however long
// or many its lines are.
func TestParseErrorQuotesOneShortLine(t *testing.T) {
	for _, in := range []string{
		linuxStatus(1, "systemd"),
		strings.Repeat("garbage ", 1000),
		"rc glenda Await 1 2 3 4 5 6 7 8 " + strings.Repeat("9", 500) + "\n",
	} {
		_, err := ParseProcStatus([]byte(in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%q: %v", in[:20], err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || strings.Contains(msg, `\n`) || len(msg) > 160 {
			t.Errorf("message of %d bytes: %s", len(msg), msg)
		}
	}
	_, err := ParseSwap([]byte("1067155456 memory\n4096 pagesize\n" + strings.Repeat("1", 300) + "/150376 user\n"))
	if msg := err.Error(); len(msg) > 160 || !strings.Contains(msg, "line 3") {
		t.Errorf("swap: %s", msg)
	}
}

func TestLinuxProcStatus(t *testing.T) {
	_, err := ParseProcStatus([]byte(linuxStatus(1, "systemd")))
	if err == nil || err.Error() != `p9stats: line 1: Linux's format, not Plan 9's: "Name:\tsystemd..."` {
		t.Errorf("%v", err)
	}
}

// A Linux /proc yields one summary, not an error per process: how many
// of how many failed, and the first with its line.
func TestProcsSummedUp(t *testing.T) {
	files := map[string]string{"proc/400/status": readFixed(t, testkit.Legacy386, 1)}
	for pid := 1; pid <= 300; pid++ {
		files["proc/"+itoa(pid)+"/status"] = linuxStatus(pid, "kworker/"+itoa(pid))
	}
	procs, err := mapFS(files).Procs()
	if len(procs) != 1 || procs[0].PID != 400 {
		t.Errorf("procs %+v", procs)
	}
	var fe *FilesError
	if !errors.As(err, &fe) || fe.Failed != 300 || fe.Total != 301 || fe.Files != "/proc/*/status" {
		t.Fatalf("%#v", err)
	}
	want := `p9stats: /proc/*/status: 300 of 301 failed, the first: /proc/1/status: line 1: Linux's format, not Plan 9's: "Name:\tkworker/1..."`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "/proc/1/status" || pe.Line != 1 {
		t.Errorf("first %+v", pe)
	}
	// By kernel name, the summary says so.
	_, err = mapFS(map[string]string{"#p/7/status": "garbage\n", "#p/8/status": readFixed(t, testkit.Legacy386, 1)}).Procs()
	if err == nil || !strings.HasPrefix(err.Error(), "p9stats: #p/*/status: 1 of 2 failed, the first: #p/7/status: line 1: ") {
		t.Errorf("%v", err)
	}
}

func TestIPInterfacesAndDisksSummedUp(t *testing.T) {
	st := string(testkit.ReadCapture(t, testkit.Front11879amd64, "net/ipifc/0/status"))
	files := map[string]string{"net/ipifc/0/status": st, "net/ipifc/clone": ""}
	for i := 1; i <= 20; i++ {
		files["net/ipifc/"+itoa(i)+"/status"] = "nonsense\n"
	}
	ifs, err := mapFS(files).IPInterfaces()
	if len(ifs) != 1 || err == nil || strings.Count(err.Error(), "nonsense") != 1 ||
		!strings.HasPrefix(err.Error(), "p9stats: /net/ipifc/*/status: 20 of 21 failed, the first: /net/ipifc/1/status: line 1: ") {
		t.Errorf("%d interfaces, %v", len(ifs), err)
	}
	ctl := string(testkit.ReadCapture(t, testkit.Legacy386, "dev/sdC0/ctl"))
	units, err := mapFS(map[string]string{"dev/sdC0/ctl": ctl, "dev/sdC1/ctl": "geometry x\n", "dev/sdC2/ctl": "geometry y\n"}).Disks()
	if len(units) != 1 || err == nil || !strings.HasPrefix(err.Error(), "p9stats: /dev/sd*/ctl: 2 of 3 failed, the first: /dev/sdC1/ctl: line 1: ") {
		t.Errorf("%d units, %v", len(units), err)
	}
}
