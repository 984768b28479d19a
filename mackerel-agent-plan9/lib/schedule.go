package agent

import "time"

// every is a schedule of a fixed interval. It is computed from the clock
// at every firing, never stepped through, so that a step of the wall
// clock (a board without a clock set from 1970 by timesync, a correction
// of an hour) moves it: a step forward fires it once, a step back brings
// it back within one interval.
type every struct {
	interval time.Duration
	// align puts the firings on multiples of the interval (the minute's
	// second 0), plus offset (a fleet host's own second), after the
	// first.
	align  bool
	offset time.Duration
	next   time.Time
}

// at sets the next firing.
func (e *every) at(t time.Time) { e.next = t }

// due says whether e fires at now, bringing back a firing that the clock
// stepping back left more than an interval ahead.
func (e *every) due(now time.Time) bool {
	if e.next.IsZero() {
		return false
	}
	if e.next.Sub(now) > e.interval {
		e.next = e.after(now)
	}
	return !now.Before(e.next)
}

// fire returns the time the firing due at now stands for, and schedules
// the next. An aligned firing stands for the start of its interval (the
// minute, whatever the offset). A firing late by an interval or more (the
// clock jumped, or the machine stalled) stands for now, not for a time
// long past.
func (e *every) fire(now time.Time) time.Time {
	at := e.next
	switch {
	case now.Sub(at) >= e.interval:
		at = now
		if e.align {
			at = e.slot(now)
		}
	case e.align && e.slot(at).Add(e.offset).Equal(at):
		at = e.slot(at)
	}
	e.next = e.after(now)
	return at
}

// after is the first aligned firing after now (for an aligned schedule).
func (e *every) after(now time.Time) time.Time {
	if e.align {
		return e.slot(now).Add(e.interval + e.offset)
	}
	return now.Add(e.interval)
}

// slot is the start of the interval that an aligned firing at t or
// before it, back to the last, stands for.
func (e *every) slot(t time.Time) time.Time { return t.Add(-e.offset).Truncate(e.interval) }

// soonest returns the earliest of the non-zero times.
func soonest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if !t.IsZero() && (m.IsZero() || t.Before(m)) {
			m = t
		}
	}
	return m
}

// backoff is a retry's wait: doubling from first up to limit.
type backoff struct {
	first, limit time.Duration
	wait         time.Duration
	next         time.Time
}

// failed schedules the next try after now; wait, when positive, is what
// the answer asked for (Retry-After).
func (b *backoff) failed(now time.Time, wait time.Duration) time.Duration {
	b.wait = min(max(2*b.wait, b.first), b.limit)
	d := max(b.wait, wait)
	b.next = now.Add(d)
	return d
}

func (b *backoff) reset() { b.wait, b.next = 0, time.Time{} }

// due says whether the next try may go at now, bringing back one that a
// step back of the clock left far ahead.
func (b *backoff) due(now time.Time) bool {
	if b.next.Sub(now) > max(b.limit, time.Hour) {
		b.next = now
	}
	return !now.Before(b.next)
}
