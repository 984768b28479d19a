package agent

import (
	"container/heap"
	"time"
)

// dueHosts are the watched hosts by when something of each next falls due
// (watched.nextDue), soonest first, so that a turn of the loop looks only
// at the hosts with something due and at the soonest of the rest: with a
// fleet of a thousand hosts, scanning every host at every event (a
// thousand a minute for each host) was a third of the agent's work. A
// host's time is computed again whenever the loop has run it or applied
// the end of its work.
type dueHosts []*watched

func (h dueHosts) Len() int { return len(h) }

// Less orders by due time; a zero time (nothing scheduled) goes last.
func (h dueHosts) Less(i, j int) bool {
	a, b := h[i].dueAt, h[j].dueAt
	if a.IsZero() || b.IsZero() {
		return !a.IsZero()
	}
	return a.Before(b)
}

func (h dueHosts) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].dueIndex, h[j].dueIndex = i, j
}

func (h *dueHosts) Push(x any) {
	w := x.(*watched)
	w.dueIndex = len(*h)
	*h = append(*h, w)
}

func (h *dueHosts) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.dueIndex = -1
	return w
}

// next is when the soonest host falls due; zero when none has anything
// scheduled.
func (h dueHosts) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].dueAt
}

// takeDue removes and returns the hosts due at now.
func (h *dueHosts) takeDue(now time.Time) []*watched {
	var out []*watched
	for len(*h) > 0 && !(*h)[0].dueAt.IsZero() && !(*h)[0].dueAt.After(now) {
		out = append(out, heap.Pop(h).(*watched))
	}
	return out
}

// schedule puts w in its place by its next due time at now, unless it is
// no longer watched.
func (h *dueHosts) schedule(w *watched, now time.Time) {
	if w.gone {
		return
	}
	w.dueAt = w.nextDue(now)
	if w.dueIndex < 0 {
		heap.Push(h, w)
	} else {
		heap.Fix(h, w.dueIndex)
	}
}

// reset holds exactly hosts, each by its time at now; hosts it held
// before and not now (no longer watched) are left out for good.
func (h *dueHosts) reset(hosts []*watched, now time.Time) {
	for _, w := range *h {
		w.dueIndex = -1
	}
	*h = (*h)[:0]
	for _, w := range hosts {
		w.dueAt = w.nextDue(now)
		w.dueIndex = len(*h)
		*h = append(*h, w)
	}
	heap.Init(h)
}
