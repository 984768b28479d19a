package sysmetrics

import (
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// etherOctets is one device's byte counters at one time, and which pair
// they are (p9stats knows the drivers that count bytes), so that both
// ends of an interval read the same counters.
type etherOctets struct {
	at       time.Time
	counters p9stats.OctetCounters
	rx, tx   uint64
}

// counterRate is the rate per second of a counter of the given width that
// went from prev to cur in d, by p9stats.Delta's rule: a counter that went
// back was reset, unless it is a 32-bit one that wrapped once, which it
// can only have if that many bytes fit through the link in that time
// (maxRate, bytes per second, 0 when the link speed is unknown).
func counterRate(prev, cur uint64, bits uint, d time.Duration, maxRate float64) (float64, bool) {
	sec := d.Seconds()
	if sec <= 0 {
		return 0, false
	}
	var limit uint64 // unknown
	if maxRate > 0 {
		limit = max(1, uint64(maxRate*sec))
	}
	delta, ok := p9stats.Delta(prev, cur, bits, limit)
	return float64(delta) / sec, ok
}
