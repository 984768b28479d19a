package agent

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/mackerelio/mackerel-client-go"
)

// Posting, as upstream's agent does it (command/command.go), with two
// differences said where they are.
const (
	postQueueSize     = 6 * 60           // six hours of minute batches
	postBacklogDelay  = 30 * time.Second // between posts while a backlog exists
	postRetryDelay    = time.Minute      // after a failed post
	postRejectMax     = 60               // 4xx answers before a batch is given up
	postTermDelay     = time.Second      // between posts while stopping
	drainTime         = 30 * time.Second // how long a stop may take to post the queue
	postPerRequest    = 2                // batches in one request
	retryNetworkUnder = 25 * time.Second // a network error within this is retried at once
)

// batch is one minute's values, or a plugin's: one queue item.
type batch struct {
	tick   time.Time
	values []*mackerel.HostMetricValue
	// rejected counts the 4xx answers to requests that carried it.
	rejected int
}

type postState int

const (
	postFirst postState = iota
	postDefault
	postQueued
	postHadError
	postTerminating
)

// poster holds the batches not yet posted, oldest first. Only the agent's
// loop touches it.
type poster struct {
	queue    []*batch
	state    postState
	inflight int // batches in the request in flight
	at       time.Time
	// second is the host's own second of the minute to post at, so that a
	// fleet of hosts does not post at once.
	second int
}

// HostSecond is upstream's delayByHost: the last byte of the SHA-1 of the
// host id, modulo 60.
func HostSecond(hostID string) int {
	s := sha1.Sum([]byte(hostID))
	return int(s[len(s)-1]) % 60
}

// enqueue queues b. When six hours of batches are waiting, the oldest is
// given up so that the newest are kept (upstream instead stops collecting
// while its queue is full).
func (a *Agent) enqueue(b *batch) {
	if len(b.values) == 0 {
		return
	}
	p := &a.post
	p.queue = append(p.queue, b)
	for len(p.queue)-p.inflight > postQueueSize {
		old := p.queue[p.inflight]
		p.queue = append(p.queue[:p.inflight], p.queue[p.inflight+1:]...)
		a.log.Errorf("The queue holds six hours of values; giving up the batch of %s (%d values): %s",
			old.tick.Format(time.RFC3339), len(old.values), valuesJSON(old.values))
	}
	a.schedulePost()
}

// schedulePost decides when the next request goes, if none is due or in
// flight, following upstream's states: at once the first time, at the
// host's second normally, 30 s apart through a backlog, 60 s after an
// error, 1 s apart while stopping.
func (a *Agent) schedulePost() {
	p := &a.post
	if p.inflight > 0 || !p.at.IsZero() || len(p.queue) == 0 || !a.graphDefsDone {
		return
	}
	now := a.clock.Now()
	var delay time.Duration
	switch p.state {
	case postFirst:
	case postQueued:
		delay = postBacklogDelay
	case postHadError:
		delay = postRetryDelay
	case postTerminating:
		delay = postTermDelay
	default:
		if elapsed := int(now.Unix() % 60); p.second > elapsed {
			delay = time.Duration(p.second-elapsed) * time.Second
		}
	}
	p.at = now.Add(delay)
	if p.state != postTerminating {
		if len(p.queue) > postPerRequest {
			p.state = postQueued
		} else {
			p.state = postDefault
		}
	}
}

// startPost sends the oldest batches, up to two, in one request.
func (a *Agent) startPost() {
	p := &a.post
	p.at = time.Time{}
	n := min(len(p.queue), postPerRequest)
	p.inflight = n
	var values []*mackerel.HostMetricValue
	for _, b := range p.queue[:n] {
		values = append(values, b.values...)
	}
	a.spawn(func() func() {
		err := a.postValues(values)
		return func() { a.postDone(n, err) }
	})
}

// postValues posts once, and once more at once after a network error
// that came quickly, as upstream.
func (a *Agent) postValues(values []*mackerel.HostMetricValue) error {
	start := time.Now()
	err := a.api.PostHostMetricValuesContext(context.Background(), values)
	if err != nil && time.Since(start) < retryNetworkUnder && isNetworkError(err) {
		a.log.Warningf("Failed to post metrics value (will retry immediately): %v", err)
		err = a.api.PostHostMetricValuesContext(context.Background(), values)
	}
	return err
}

func isNetworkError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// postDone takes the answer to the request that carried the n oldest
// batches. They are removed on success. On failure they stay at the head
// of the queue, so that values arrive oldest first and none twice.
// Upstream gives a batch up after 60 failed tries whatever the cause,
// which loses values in any outage of more than an hour; here only a
// batch the API refused (4xx) 60 times is given up, and an outage costs
// nothing for the six hours the queue holds.
func (a *Agent) postDone(n int, err error) {
	p := &a.post
	p.inflight = 0
	if err == nil {
		a.log.Debugf("Posting metrics succeeded.")
		p.queue = p.queue[n:]
		a.schedulePost()
		return
	}
	a.log.Warningf("Failed to post metrics value (will retry): %v", apiErrorHint(err))
	if p.state != postTerminating {
		p.state = postHadError
	}
	if isClientError(err) {
		var kept []*batch
		for _, b := range p.queue[:n] {
			if b.rejected++; b.rejected >= postRejectMax {
				a.log.Errorf("Post values may be invalid and abandoned: %s", valuesJSON(b.values))
				continue
			}
			kept = append(kept, b)
		}
		p.queue = append(kept, p.queue[n:]...)
	}
	a.schedulePost()
}

func valuesJSON(v []*mackerel.HostMetricValue) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
