package p9stats

import (
	"reflect"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestDisks(t *testing.T) {
	p := captureFS(testkit.Legacy386)
	cs, err := p.SDControllers()
	if err != nil || len(cs) != 2 || cs[0].Name != "sdC" || cs[0].Interface != "ata" || cs[1].Name != "sdD" {
		t.Fatalf("%+v %v", cs, err)
	}
	units, err := p.Disks()
	if err != nil || len(units) != 2 {
		t.Fatalf("%+v %v", units, err)
	}
	c0 := units[0]
	if c0.Name != "sdC0" || c0.Inquiry != "QEMU HARDDISK" || c0.Sectors != 7813 || c0.SectorSize != 512 || c0.Bytes() != 7813*512 {
		t.Errorf("%+v", c0)
	}
	want := []Partition{{"data", 0, 7813, 7813 * 512}, {"dos", 32, 2048, 2016 * 512}}
	if !reflect.DeepEqual(c0.Partitions, want) {
		t.Errorf("parts %+v", c0.Partitions)
	}
	if c0.Info["interrupts"] != "read 6 write 0 cmds 0" {
		t.Errorf("info %q", c0.Info)
	}
	// A DVD drive without medium: no geometry, no partitions.
	if d0 := units[1]; d0.Name != "sdD0" || d0.Sectors != 0 || len(d0.Partitions) != 0 {
		t.Errorf("%+v", d0)
	}

	// 9front's ide driver: tab-separated keywords.
	units, err = captureFS(testkit.Front11879amd64).Disks()
	if err != nil || len(units) != 1 {
		t.Fatalf("%+v %v", units, err)
	}
	if u := units[0]; u.Model != "QEMU DVD-ROM" || u.Serial != "QM00003" || u.Firmware != "2.5+" || u.Info["feat"] != "lba atapi" {
		t.Errorf("%+v", u)
	}
	// 9front's sdctl has a ram disk controller line.
	cs, err = captureFS(testkit.Front11879amd64).SDControllers()
	if err != nil || len(cs) != 2 || cs[1].Line != "sdZ ram 4 units" {
		t.Errorf("%+v %v", cs, err)
	}
}

// Without the host owner's right to read ctl, partition sizes come from stat.
func TestDisksByStat(t *testing.T) {
	p := mapFS(map[string]string{
		"dev/sdE0/data":  string(make([]byte, 4096)),
		"dev/sdE0/fs":    string(make([]byte, 1024)),
		"dev/sdE0/raw":   "",
		"dev/sdctl_none": "",
	})
	units, err := p.Disks()
	if err != nil || len(units) != 1 {
		t.Fatalf("%+v %v", units, err)
	}
	want := []Partition{{Name: "data", Bytes: 4096}, {Name: "fs", Bytes: 1024}}
	if !reflect.DeepEqual(units[0].Partitions, want) {
		t.Errorf("%+v", units[0].Partitions)
	}
}

func TestLufiaDisks(t *testing.T) {
	units, err := lufiaFS(t).Disks()
	if err != nil {
		t.Fatal(err)
	}
	if units[0].Name != "sdC0" || units[0].Bytes() != 209715200*512 || len(units[0].Partitions) != 6 || units[0].Partitions[4] != (Partition{"fossil", 204864, 208663934, (208663934 - 204864) * 512}) {
		t.Errorf("%+v", units[0])
	}
}

func TestCPUTemp(t *testing.T) {
	// The captured kernels' drivers do not support QEMU's CPU.
	for _, c := range []string{testkit.Front2016x386, testkit.Legacy386} {
		ts, err := captureFS(c).CPUTemp()
		if err != nil || len(ts) != 0 {
			t.Errorf("%s: %+v %v", c, ts, err)
		}
	}
	if _, err := captureFS(testkit.Front11879amd64).CPUTemp(); !IsNotExist(err) {
		t.Errorf("no cputemp file: %v", err)
	}
	tests := []struct {
		in   string
		want []Temperature
	}{
		{"45±1\n52±1 alarm\n", []Temperature{{0, 45, 1, false}, {1, 52, 1, true}}},
		{"45.5±0.5\n", []Temperature{{0, 45.5, 0.5, false}}},
		{"47.0\n", []Temperature{{0, 47, 0, false}}},      // aux/acpi
		{"45.12\n", []Temperature{{0, 45.012, 0, false}}}, // Raspberry Pi: 45012 m°C
		{"45.120\n", []Temperature{{0, 45.12, 0, false}}},
		{"-1±-1 unsupported\n", nil},
	}
	for _, tt := range tests {
		got, err := ParseCPUTemp([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %+v %v", tt.in, got, err)
		}
	}
	for _, in := range []string{"hot\n", "45.1234\n", "45±x\n"} {
		if _, err := ParseCPUTemp([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestBattery(t *testing.T) {
	tests := []struct {
		in   string
		want []Battery
	}{
		{"charging 85 3600\n", []Battery{{85, "charging"}}},                                                        // aux/apm
		{"97 mW 40000 41000 45000 2000 500 mV 12000 11100 01:30:00 discharging\n", []Battery{{97, "discharging"}}}, // aux/acpi
		{"80 mA 3150 4800 5000 300 ? mV 7400 ? 02:00:00 charging\n", []Battery{{80, "charging"}}},                  // reform/pm
	}
	for _, tt := range tests {
		got, err := ParseBattery([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %+v %v", tt.in, got, err)
		}
	}
	for _, in := range []string{"3150 mA 80\n", "unknown\n", ""} {
		if _, err := ParseBattery([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	p := mapFS(map[string]string{"dev/battery": "50 mW 1 2 3 4 5 mV 6 7 00:10:00 charging\n"})
	if bs, err := p.Battery(); err != nil || bs[0].Percent != 50 {
		t.Errorf("%+v %v", bs, err)
	}
	if _, err := captureFS(testkit.Legacy386).Battery(); !IsNotExist(err) {
		t.Errorf("got %v", err)
	}
}

func TestFlavour(t *testing.T) {
	want := map[string]Flavour{
		testkit.Front11879amd64: Flavour9front, testkit.Front11879x386: Flavour9front,
		testkit.Front2016amd64: Flavour9front, testkit.Front2016x386: Flavour9front,
		testkit.Legacy386: Flavour9legacy, testkit.Legacy9k: Flavour9legacy,
	}
	for c, w := range want {
		f, why, err := captureFS(c).Flavour()
		if err != nil || f != w || why == "" {
			t.Errorf("%s: %v (%s) %v, want %v", c, f, why, err, w)
		}
	}
	if f, why, _ := captureFS(testkit.Front11879amd64).Flavour(); why != "/dev/drivers lists #¶ swap" {
		t.Errorf("11879: %v %s", f, why)
	}
	if f, why, _ := captureFS(testkit.Front2016amd64).Flavour(); why != "/dev/swap has 9front's allocated/size/max pool lines" {
		t.Errorf("2016: %v %s", f, why)
	}
}

func TestFlavourLufia(t *testing.T) {
	// 9legacy of 2021 is indistinguishable from Bell Labs 4e.
	f, why, err := lufiaFS(t).Flavour()
	if err != nil || f != FlavourPlan9 {
		t.Errorf("%v %s %v", f, why, err)
	}
}
