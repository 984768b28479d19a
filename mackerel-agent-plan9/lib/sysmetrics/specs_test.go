package sysmetrics

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// The kernel's build time is the modification time of #c/sysstat; the
// captures' files carry their checkout's, so the tests set it.
var built = time.Date(2026, 7, 19, 12, 30, 5, 0, time.UTC)

const builtText = "Sun Jul 19 12:30:05 UTC 2026"

func TestSpecsOfCaptures(t *testing.T) {
	ether0 := func(v6 ...string) []mackerel.Interface {
		return []mackerel.Interface{{Name: "ether0", IPv4Addresses: []string{"10.0.2.15"}, IPv6Addresses: v6, MacAddress: "52:54:00:12:34:56"}}
	}
	// Only 9legacy's boot disk, sdC0, has a medium: "geometry 7813 512
	// 7 16 63", "inquiry QEMU HARDDISK", no model line. The CD drives
	// (sdD0) print no geometry.
	sdC0 := mackerel.BlockDevice{"sdC0": {"size": "7813", "model": "QEMU HARDDISK"}}
	for _, tc := range []struct {
		capture string
		kernel  mackerel.Kernel
		cpu     mackerel.CPU // from dev/cputype, one CPU in dev/sysstat
		memory  mackerel.Memory
		disks   mackerel.BlockDevice
		ifs     []mackerel.Interface
	}{
		{testkit.Front11879amd64,
			mackerel.Kernel{"platform_name": "9front", "release": "pc64", "machine": "amd64"},
			mackerel.CPU{{"model_name": "AMD-K8", "mhz": "2596"}},
			// 1067155456 memory, 0/320000 swap of 4096-byte pages.
			mackerel.Memory{"total": "1042144kB", "swap_total": "1280000kB"},
			nil, ether0("fe80::5054:ff:fe12:3456", "fec0::5054:ff:fe12:3456")},
		{testkit.Front11879x386,
			mackerel.Kernel{"platform_name": "9front", "release": "pc", "machine": "386"},
			mackerel.CPU{{"model_name": "AMD-K8", "mhz": "2596"}},
			mackerel.Memory{"total": "1041956kB", "swap_total": "1280000kB"}, // 1066962944 memory
			nil, ether0("fe80::5054:ff:fe12:3456", "fec0::5054:ff:fe12:3456")},
		{testkit.Front2016amd64,
			mackerel.Kernel{"platform_name": "9front", "release": "pc64", "machine": "amd64"},
			mackerel.CPU{{"model_name": "AMD-K8", "mhz": "2598"}},
			mackerel.Memory{"total": "1043564kB", "swap_total": "640000kB"}, // 1068609536 memory, 0/160000 swap
			nil, ether0()},
		{testkit.Front2016x386,
			mackerel.Kernel{"platform_name": "9front", "release": "pcf", "machine": "386"},
			mackerel.CPU{{"model_name": "AMD-K8", "mhz": "2597"}},
			mackerel.Memory{"total": "1043380kB", "swap_total": "640000kB"}, // 1068421120 memory
			nil, ether0()},
		// The loopback interface, /dev/null with 127.0.0.1, is left out.
		{testkit.Legacy386,
			mackerel.Kernel{"platform_name": "9legacy", "release": "pc", "machine": "386"},
			mackerel.CPU{{"model_name": "AMD-K8", "mhz": "2594"}},
			mackerel.Memory{"total": "1045376kB", "swap_total": "640000kB"}, // 1070465024 memory
			sdC0, ether0()},
		// No configuration name, so no release and, without $cputype, no
		// machine; 204768 4K blocks; no swap line.
		{testkit.Legacy9k,
			mackerel.Kernel{"platform_name": "9legacy"},
			mackerel.CPU{{"model_name": "AMD64", "mhz": "2571"}},
			mackerel.Memory{"total": "819072kB"},
			sdC0, ether0()},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tc.capture)
			if err := os.Chtimes(h.Path("dev/sysstat"), built, built); err != nil {
				t.Fatal(err)
			}
			got, err := Specs(ctx(t), h.fs(nil), nil)
			if err != nil {
				t.Errorf("error: %v", err)
			}
			tc.kernel["name"], tc.kernel["os"], tc.kernel["version"] = "Plan 9", "plan9", builtText
			want := HostSpecs{
				Name:       "gnot",
				Meta:       mackerel.HostMeta{Kernel: tc.kernel, CPU: tc.cpu, Memory: tc.memory, BlockDevice: tc.disks},
				Interfaces: tc.ifs,
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// Bell Labs' 4th edition serves what pre-2025 9legacy does: a /dev/time
// of four numbers tells it from 9legacy.
func TestSpecs4e(t *testing.T) {
	h := newHost(t, testkit.Legacy386)
	h.Write("dev/time", " 1795236830   1795236830162994228            2684462848            2031296862 ")
	got, _ := Specs(ctx(t), h.fs(nil), nil)
	if p := got.Meta.Kernel["platform_name"]; p != "4e" {
		t.Errorf("platform_name %q", p)
	}
}

// Where ctl is the host owner's only, a disk's size comes from its data
// partition, which anyone may stat; $cputype wins over the configuration.
func TestSpecsEdited(t *testing.T) {
	h := newHost(t, testkit.Legacy386)
	h.Write("dev/sdC0/ctl", "-")
	h.Write("dev/sdC0/data", strings.Repeat("x", 7813*512))
	h.Write("dev/sdC0/dos", strings.Repeat("x", 2016*512))
	h.Write("env/cputype", "amd64")
	h.Write("dev/cputype", "-")
	got, err := Specs(ctx(t), h.fs(nil), nil)
	if err != nil {
		t.Error(err)
	}
	if want := (mackerel.BlockDevice{"sdC0": {"size": "7813"}}); !reflect.DeepEqual(got.Meta.BlockDevice, want) {
		t.Errorf("block_device %v", got.Meta.BlockDevice)
	}
	if m := got.Meta.Kernel["machine"]; m != "amd64" {
		t.Errorf("machine %q", m)
	}
	// No cputype (as on 9front's imx8 kernel): the CPUs are still counted.
	if want := (mackerel.CPU{{}}); !reflect.DeepEqual(got.Meta.CPU, want) {
		t.Errorf("cpu %v", got.Meta.CPU)
	}
}

// A part that fails is named in the error and left out; the rest is there.
func TestSpecsFaults(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	h.Write("dev/swap", "garbage memory\n")
	h.Write("net/ipifc/0/status", "nonsense\n")
	got, err := Specs(ctx(t), h.fs(nil), nil)
	if got.Meta.Memory != nil || got.Interfaces != nil {
		t.Errorf("memory %v, interfaces %v", got.Meta.Memory, got.Interfaces)
	}
	if got.Name != "gnot" || got.Meta.Kernel["release"] != "pc64" || len(got.Meta.CPU) != 1 {
		t.Errorf("%+v", got)
	}
	for _, want := range []string{
		`memory: p9stats: /dev/swap: line 1: bad number "garbage": invalid syntax`,
		`interfaces: p9stats: /net/ipifc/*/status: 1 of 1 failed, the first: /net/ipifc/0/status: line 1: want keyword/value pairs starting with device: "nonsense"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestSpecsFilesystems(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	fsys := h.fs(map[string]testkit.Console{
		"srv/cwfs.cmd": testkit.RealConsole(t, "cwfs64x-statw.txt"),
		"srv/gefs.cmd": testkit.RealConsole(t, "gefs-df.txt"),
		"srv/fscons":   testkit.RealConsole(t, "fossil-df.txt"),
	})
	specs := []fsspace.Spec{{Kind: "cwfs", Console: "srv/cwfs.cmd"}, {Kind: "gefs", Console: "srv/gefs.cmd"}, {Kind: "fossil", Console: "srv/fscons"}}
	got, err := Specs(ctx(t), fsys, specs)
	if err != nil {
		t.Error(err)
	}
	want := mackerel.FileSystem{
		// fsize 6 and wsize 16384 blocks of 16 KiB: 96 KiB used of
		// 262144 KiB.
		"cwfs": map[string]any{"kb_size": uint64(262144), "kb_used": uint64(96), "kb_available": uint64(262144 - 96), "percent_used": "1%"},
		// used: 458752, size: 536477696, free: 536018944 (bytes).
		"gefs": map[string]any{"kb_size": uint64(523904), "kb_used": uint64(448), "kb_available": uint64(523456), "percent_used": "1%"},
		// 40,960 used + 133,791,744 free = 133,832,704.
		"fscons": map[string]any{"kb_size": uint64(130696), "kb_used": uint64(40), "kb_available": uint64(130656), "percent_used": "1%"},
	}
	if !reflect.DeepEqual(got.Meta.Filesystem, want) {
		t.Errorf("got %v\nwant %v", got.Meta.Filesystem, want)
	}

	// A silent console costs only the filesystem part, by the deadline.
	silent := h.fs(map[string]testkit.Console{"srv/gefs.cmd": {}})
	short, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	got, err = Specs(short, silent, []fsspace.Spec{{Kind: "gefs", Console: "srv/gefs.cmd"}})
	if err == nil || !strings.HasPrefix(err.Error(), "filesystem: ") || got.Meta.Filesystem != nil || got.Meta.Memory == nil {
		t.Errorf("%v %+v", err, got)
	}
}

func TestPercentUsed(t *testing.T) {
	for _, tc := range []struct {
		used, free uint64
		want       string
	}{{0, 10, "0%"}, {1, 2, "34%"}, {50, 50, "50%"}, {99, 1, "99%"}, {999, 1, "100%"}, {10, 0, "100%"}, {0, 0, ""}} {
		if got, _ := percentUsed(tc.used, tc.free); got != tc.want {
			t.Errorf("%d used, %d free: %q, want %q", tc.used, tc.free, got, tc.want)
		}
	}
}
