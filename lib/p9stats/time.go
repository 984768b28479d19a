package p9stats

import (
	"strings"
	"time"
)

// Time is /dev/time (#c/time): "%11lud %21llud %21llud %21llud " and, on
// 9legacy since 2025-03, a fifth field.
type Time struct {
	// Seconds and Nanoseconds since the epoch, as the kernel's clock has them.
	Seconds     int64
	Nanoseconds int64
	// Ticks of the fast clock (the TSC on PCs) and their rate, which
	// aux/timesync may adjust, so Ticks/TicksPerSecond is approximate.
	Ticks          uint64
	TicksPerSecond uint64
	// SinceBoot is the monotonic time since boot, from 9legacy's fifth
	// field; HasSinceBoot says whether the kernel printed it.
	SinceBoot    time.Duration
	HasSinceBoot bool
}

// ParseTime parses /dev/time.
func ParseTime(b []byte) (Time, error) {
	f := strings.Fields(string(b))
	if len(f) != 4 && len(f) != 5 {
		return Time{}, lineError(1, string(b), "%d fields, want 4 or 5", len(f))
	}
	var v [5]uint64
	for i := range f {
		bits := 64
		if i < 2 {
			bits = 63 // seconds and nanoseconds must fit an int64
		}
		n, err := parseUint(f[i], bits)
		if err != nil {
			return Time{}, lineError(1, string(b), "%v", err)
		}
		v[i] = n
	}
	t := Time{Seconds: int64(v[0]), Nanoseconds: int64(v[1]), Ticks: v[2], TicksPerSecond: v[3]}
	if len(f) == 5 {
		if v[4] > 1<<63-1 {
			return Time{}, lineError(1, string(b), "time since boot out of range")
		}
		t.SinceBoot, t.HasSinceBoot = time.Duration(v[4]), true
	}
	return t, nil
}

// Uptime is the time since boot: the fifth field where the kernel has it,
// else ticks ÷ ticks per second, which is what 9front's uptime(1) computes.
// ok is false when neither can be computed.
func (t Time) Uptime() (d time.Duration, ok bool) {
	if t.HasSinceBoot {
		return t.SinceBoot, true
	}
	if t.TicksPerSecond == 0 {
		return 0, false
	}
	sec := t.Ticks / t.TicksPerSecond
	if sec > uint64(1<<63-1)/uint64(time.Second) {
		return 0, false
	}
	frac := t.Ticks % t.TicksPerSecond
	return time.Duration(sec)*time.Second + time.Duration(float64(frac)/float64(t.TicksPerSecond)*float64(time.Second)), true
}

// Now is the kernel's idea of the current time.
func (t Time) Now() time.Time { return time.Unix(0, t.Nanoseconds) }

// BootTime is Now minus Uptime.
func (t Time) BootTime() (time.Time, bool) {
	u, ok := t.Uptime()
	if !ok {
		return time.Time{}, false
	}
	return t.Now().Add(-u), true
}
