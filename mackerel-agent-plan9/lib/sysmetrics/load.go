package sysmetrics

import (
	"math"
	"time"
)

// loadPeriods are the spans of loadavg1, loadavg5 and loadavg15.
var loadPeriods = [3]time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// loadAvg turns Plan 9's load, itself a decayed average over about a
// second, into Unix's three load averages. Unix kernels sample the number
// of runnable tasks n every 5 seconds and update each average as
//
//	avg = avg·e + n·(1 − e),  e = exp(−5 s / period)
//
// (Linux's EXP_1, EXP_5 and EXP_15 are these factors in 11-bit fixed
// point). Here n is Plan 9's load at each sample, and e is taken for the
// time that actually passed, so a missed sample decays the averages as the
// samples in between would have, had they all read n.
type loadAvg struct {
	v      [3]float64
	at     time.Time
	seeded bool
}

// update adds the load n read at now. The first reading seeds all three
// averages: an agent started on a host that has been busy for hours would
// otherwise show loadavg15 climbing from 0 for most of an hour.
func (l *loadAvg) update(n float64, now time.Time) {
	if !l.seeded {
		l.v = [3]float64{n, n, n}
		l.at, l.seeded = now, true
		return
	}
	dt := now.Sub(l.at)
	l.at = now
	if dt <= 0 {
		return // the clock went back or did not move: nothing to decay
	}
	for i, p := range loadPeriods {
		e := math.Exp(-dt.Seconds() / p.Seconds())
		l.v[i] = l.v[i]*e + n*(1-e)
	}
}
