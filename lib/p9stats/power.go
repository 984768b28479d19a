package p9stats

import (
	"strconv"
	"strings"
)

// Temperature is one line of a cputemp file.
type Temperature struct {
	Sensor  int // line number, from 0
	Celsius float64
	// Resolution is the ± figure of the kernel's pc driver; 0 when absent.
	Resolution float64
	Alarm      bool
}

// ParseCPUTemp parses a cputemp file in any of its forms: the 9front pc
// kernel's "45±1", "45±1 alarm" and AMD's "45.5±0.5" (#P/cputemp, one line
// per CPU), aux/acpi's "45.0" (one per thermal zone) and the Raspberry
// Pi's "45.12", whose fraction is milli-degrees printed without zero
// padding (45.12 is 45.012 °C). Lines the kernel marks "unsupported" are
// left out, so the result may be empty.
func ParseCPUTemp(b []byte) ([]Temperature, error) {
	var ts []Temperature
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if f[len(f)-1] == "unsupported" {
			continue
		}
		t := Temperature{Sensor: i, Alarm: f[len(f)-1] == "alarm"}
		val, res, hasRes := strings.Cut(f[0], "±")
		var err error
		if hasRes {
			t.Celsius, err = strconv.ParseFloat(val, 64)
			if err == nil {
				t.Resolution, err = strconv.ParseFloat(res, 64)
			}
		} else {
			t.Celsius, err = milliFraction(val)
		}
		if err != nil {
			return nil, lineError(i+1, l, "bad temperature")
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// milliFraction reads "I.F" as I + F/1000, the Raspberry Pi's format; for
// aux/acpi's "I.0" it gives I as well.
func milliFraction(s string) (float64, error) {
	ip, fp, _ := strings.Cut(s, ".")
	i, err := strconv.ParseInt(ip, 10, 32)
	if err != nil {
		return 0, err
	}
	var f uint64
	if fp != "" {
		if f, err = strconv.ParseUint(fp, 10, 32); err != nil || f >= 1000 {
			return 0, strconv.ErrSyntax
		}
	}
	v := float64(i)
	if strings.HasPrefix(ip, "-") {
		return v - float64(f)/1000, nil
	}
	return v + float64(f)/1000, nil
}

// Battery is one battery's charge.
type Battery struct {
	Percent float64
	State   string // charging, discharging, high, low, … where the file says
}

// ParseBattery parses a battery file: aux/apm's /mnt/apm/battery
// ("status percent seconds"), reform/pm's /mnt/pm/battery and aux/acpi's
// /dev/battery ("percent unit …" one line per battery). It returns one
// entry per line; the percentage is the first number on the line, as
// stats(8) reads it.
func ParseBattery(b []byte) ([]Battery, error) {
	var bs []Battery
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		bat := Battery{Percent: -1}
		for j, w := range f {
			if n, err := strconv.Atoi(w); err == nil {
				bat.Percent = float64(n)
				if j > 0 && !isNumber(f[0]) {
					bat.State = f[0] // aux/apm puts the status first
				}
				break
			}
		}
		if bat.Percent < 0 || bat.Percent > 100 {
			return nil, lineError(i+1, l, "no percentage from 0 to 100")
		}
		if bat.State == "" {
			bat.State = f[len(f)-1] // aux/acpi and pm put it last
			if isNumber(bat.State) || strings.Contains(bat.State, ":") {
				bat.State = ""
			}
		}
		bs = append(bs, bat)
	}
	if len(bs) == 0 {
		return nil, &ParseError{Msg: "empty file"}
	}
	return bs, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
