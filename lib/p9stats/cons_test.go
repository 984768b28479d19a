package p9stats

import (
	"reflect"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestSysStatCaptures(t *testing.T) {
	tests := []struct {
		capture, file string
		want          CPUStat
	}{
		{testkit.Front11879amd64, "dev/sysstat", CPUStat{0, 8810, 3565, 9845, 38166, 0, 0, 1299, 24, 1}},
		{testkit.Front11879amd64, "dev/sysstat.2", CPUStat{0, 82568, 22028, 38335, 208590, 0, 0, 2073, 3, 3}},
		{testkit.Front11879x386, "dev/sysstat", CPUStat{0, 7970, 3617, 10013, 24477, 0, 0, 1186, 33, 1}},
		{testkit.Front2016amd64, "dev/sysstat", CPUStat{0, 12859, 3599, 10462, 34283, 0, 0, 2025, 0, 1}},
		{testkit.Front2016x386, "dev/sysstat.2", CPUStat{0, 99616, 21712, 37365, 178387, 0, 0, 1988, 2, 3}},
		{testkit.Legacy386, "dev/sysstat", CPUStat{0, 10996, 4910, 38085, 9541, 0, 0, 2005, 0, 15}},
		{testkit.Legacy9k, "dev/sysstat.2", CPUStat{0, 167020, 57878, 204643, 107357, 0, 0, 2439, 0, 3}},
	}
	for _, tt := range tests {
		b := testkit.ReadCapture(t, tt.capture, tt.file)
		if len(b) != 121 {
			t.Errorf("%s/%s: %d bytes, the format says 121 per CPU", tt.capture, tt.file, len(b))
		}
		got, err := ParseSysStat(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s/%s: got %+v, want %+v", tt.capture, tt.file, got, tt.want)
		}
	}
	cpus, _ := captureFS(testkit.Front11879amd64).SysStat()
	if l := LoadAverage(cpus); l != 1.299 {
		t.Errorf("load %v, want 1.299", l)
	}
}

func TestSysStatTwoCPUs(t *testing.T) {
	cpus, err := lufiaFS(t).SysStat()
	if err != nil {
		t.Fatal(err)
	}
	want := []CPUStat{
		{0, 59251106, 37524162, 1208203, 65907, 0, 0, 7, 100, 0},
		{1, 219155408, 28582838, 5017097, 1002072, 0, 0, 0, 98, 1},
	}
	if !reflect.DeepEqual(cpus, want) {
		t.Errorf("got %+v", cpus)
	}
	if l := LoadAverage(cpus); l != 0.007 {
		t.Errorf("load %v, want 0.007", l)
	}
}

func TestSysStatErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"          0        8810        3565\n",
		"          0        8810        3565        9845       38166           0           0        1299          24  4294967296\n",
		"          0        8810        3565        9845       -1           0           0        1299          24           1\n",
	} {
		if _, err := ParseSysStat([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestTimeCaptures(t *testing.T) {
	tests := []struct {
		capture string
		want    Time
		uptime  time.Duration
	}{
		// 9front 11879 and 9legacy print the fifth field, ns since boot.
		{testkit.Front11879amd64, Time{1795237723, 1795237723625120246, 2004643072, 305157766, 6558524214, true}, 6558524214},
		// The fifth field wins over ticks/fasthz, which says 1.32 s here.
		{testkit.Legacy386, Time{1795236830, 1795236830162994228, 2684462848, 2031296862, 7653004920, true}, 7653004920},
		{testkit.Legacy9k, Time{1795236855, 1795236855015467928, 28898745304, 2031296862, 9992723377, true}, 9992723377},
		// The 2016 kernel has four fields: uptime = ticks / fasthz.
		{testkit.Front2016amd64, Time{1795237751, 1795237751859971149, 1263816704, 305157766, 0, false},
			4141519059}, // 1263816704 / 305157766 s
	}
	for _, tt := range tests {
		got, err := captureFS(tt.capture).Time()
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.capture, got, tt.want)
		}
		if u, ok := got.Uptime(); !ok || (u-tt.uptime).Abs() > time.Microsecond {
			t.Errorf("%s: uptime %v %v, want %v", tt.capture, u, ok, tt.uptime)
		}
		if bt, _ := got.BootTime(); bt.Sub(time.Unix(0, got.Nanoseconds).Add(-tt.uptime)).Abs() > time.Microsecond {
			t.Errorf("%s: boot time %v", tt.capture, bt)
		}
	}
	lt, err := lufiaFS(t).Time()
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := lt.Uptime(); u.Round(time.Hour) != 392*time.Hour {
		t.Errorf("lufia uptime %v, want about 16.35 days", u)
	}
	if _, err := ParseTime([]byte(" 1 2 3 ")); err == nil {
		t.Error("three fields accepted")
	}
	if u, ok := (Time{Ticks: 5}).Uptime(); ok {
		t.Errorf("uptime %v with fasthz 0", u)
	}
}

func TestCPUTypeSysNameConfig(t *testing.T) {
	for _, tt := range []struct {
		capture, cpu string
		mhz          uint64
		config, desc string
	}{
		{testkit.Front11879amd64, "AMD-K8", 2596, "pc64", "amd64 pc terminal with local disk"},
		{testkit.Front2016x386, "AMD-K8", 2597, "pcf", "pc terminal with local disk"},
		{testkit.Legacy386, "AMD-K8", 2594, "pc", "a normal pc terminal"},
		{testkit.Legacy9k, "AMD64", 2571, "", ""},
	} {
		p := captureFS(tt.capture)
		ct, err := p.CPUType()
		if err != nil || ct.Name != tt.cpu || ct.MHz != tt.mhz {
			t.Errorf("%s: cputype %+v %v", tt.capture, ct, err)
		}
		if n, err := p.SysName(); n != "gnot" || err != nil {
			t.Errorf("%s: sysname %q %v", tt.capture, n, err)
		}
		c, err := p.Config()
		if err != nil || c.Name != tt.config || c.Description != tt.desc {
			t.Errorf("%s: config %q %q %v", tt.capture, c.Name, c.Description, err)
		}
	}
	ct, _ := ParseCPUType([]byte("Core i7/Xeon 2403\n"))
	if ct.Name != "Core i7/Xeon" || ct.MHz != 2403 {
		t.Errorf("name with blanks: %+v", ct)
	}
	if n := ParseSysName(nil); n != "" {
		t.Errorf("empty sysname gave %q", n)
	}
}

func TestDrivers(t *testing.T) {
	ds, err := captureFS(testkit.Front11879amd64).Drivers()
	if err != nil {
		t.Fatal(err)
	}
	if ds[0] != (Driver{'/', "root"}) || ds[2] != (Driver{'¶', "swap"}) {
		t.Errorf("got %q", ds[:3])
	}
}

func TestKernelBuildTime(t *testing.T) {
	p := mapFS(map[string]string{"dev/sysstat": "x"})
	if _, err := p.KernelBuildTime(); err != nil {
		t.Error(err)
	}
	if _, err := mapFS(nil).KernelBuildTime(); !IsNotExist(err) {
		t.Errorf("got %v, want not-exist", err)
	}
}
