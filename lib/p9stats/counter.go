package p9stats

// Delta is how much a kernel counter of the given width (32 or 64 bits)
// advanced from prev to cur, or false when it went back by a reset (a
// reboot, a driver restarted, a write to /dev/sysstat).
//
// Plan 9's long is 32 bits on every port, so many counters wrap at 2^32.
// A 32-bit counter that went back wrapped once when the increase that
// implies is less than half its range, as serial number arithmetic has it
// (RFC 1982), and, when limit is not 0, at most limit: the most the
// counter can have advanced in the time, such as the bytes a link can
// carry; a value past 32 bits is not a 32-bit counter's. A 64-bit counter
// never wraps in practice: going back is a reset.
func Delta(prev, cur uint64, bits uint, limit uint64) (uint64, bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if bits != 32 || prev >= 1<<32 {
		return 0, false
	}
	d := cur + 1<<32 - prev
	if d >= 1<<31 || limit > 0 && d > limit {
		return 0, false
	}
	return d, true
}
