package sysmetrics

import (
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// octetDriver names the byte counters one family of ethernet drivers
// prints in /net/etherN/ifstats, and their width. Plan 9 keeps no byte
// counters of its own (netif's stats count packets); only these drivers'
// ifstats have them, per the 9front and 9legacy sources.
type octetDriver struct {
	rx, tx string
	bits   uint // 64, or 32 for a C ulong, which wraps at 2^32
}

var octetDrivers = []octetDriver{
	// ether82543gc, ether82563, etherigbe (Intel e1000 family): "%s: %llud
	// %llud", the driver's 64-bit total and the register read now. Lines
	// are left out while zero; Total counts all frames, Good only good
	// ones, and QEMU's e1000 fills only Total.
	{"Total Octets Received", "Total Octets Transmitted", 64},
	{"Good Octets Received", "Good Octets Transmitted", 64},
	// etherelnk3 (3Com EtherLink III, 3c5x9 and 3c59x/3c90x): "%lud".
	{"bytesrcvdok", "bytesxmittedok", 32},
	// ether1116 (Marvell Kirkwood: SheevaPlug, GuruPlug, OpenRD): "%llud".
	{"received bytes", "transmitted bytes", 64},
}

// etherOctets is one device's byte counters at one time.
type etherOctets struct {
	at     time.Time
	driver int // index in octetDrivers
	rx, tx uint64
}

// octets finds the byte counters in a device's ifstats, taking the first
// driver whose lines are present; want >= 0 insists on that driver, so
// that both ends of an interval read the same counters.
func octets(is p9stats.IfStats, want int) (driver int, rx, tx uint64, ok bool) {
	for i, d := range octetDrivers {
		if want >= 0 && i != want {
			continue
		}
		r, okr := is.Counters[d.rx]
		t, okt := is.Counters[d.tx]
		if okr || okt {
			// An e1000 line absent beside its partner is a zero count.
			return i, r, t, true
		}
	}
	return 0, 0, 0, false
}

// counterRate is the rate per second of a counter of the given width that
// went from prev to cur in d. A 64-bit counter that went back was reset:
// no rate, as upstream. A 32-bit one that went back either wrapped once or
// was reset; it is taken as a wrap only when the bytes that implies fit
// through the link in that time (maxRate, bytes per second, 0 when the
// link speed is unknown).
func counterRate(prev, cur uint64, bits uint, d time.Duration, maxRate float64) (float64, bool) {
	sec := d.Seconds()
	if sec <= 0 {
		return 0, false
	}
	if cur >= prev {
		return float64(cur-prev) / sec, true
	}
	if bits != 32 || prev >= 1<<32 || cur >= 1<<32 {
		return 0, false
	}
	r := float64(cur+1<<32-prev) / sec
	if maxRate > 0 && r > maxRate {
		return 0, false
	}
	return r, true
}
