package queue

import (
	"crypto/sha1"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

type paceState int

const (
	paceFirst    paceState = iota // the first request goes at once
	paceNormal                    // at the host's second of the minute
	paceBacklog                   // a backlog waits: 30 s apart
	paceFailed                    // after a failure: wait
	paceStopping                  // a second apart
)

// pacer decides when a queue's next request goes, as upstream's agent
// paces its posts, and what each failure means for the next one.
type pacer struct {
	at    time.Time
	state paceState
	wait  time.Duration // after a failure
	// keyRefused: the API refuses the key; backoff is the current wait.
	keyRefused bool
	backoff    time.Duration
}

func (p *pacer) due(now time.Time) time.Time {
	p.at = clampAhead(p.at, now)
	return p.at
}

func (p *pacer) ready(now time.Time) bool {
	at := p.due(now)
	return !at.IsZero() && !now.Before(at)
}

// schedule sets when the next request goes, unless one is set or nothing
// can go. second < 0 means no second of its own.
func (p *pacer) schedule(now time.Time, second int, sendable bool) {
	if !sendable || !p.at.IsZero() {
		return
	}
	var d time.Duration
	switch p.state {
	case paceNormal:
		if elapsed := int(now.Unix() % 60); second > elapsed {
			d = time.Duration(second-elapsed) * time.Second
		}
	case paceBacklog:
		d = backlogDelay
	case paceFailed:
		d = p.wait
	case paceStopping:
		d = termDelay
	}
	p.at = now.Add(d)
}

func (p *pacer) stop(now time.Time) {
	p.state = paceStopping
	if !p.at.IsZero() {
		p.at = now
	}
}

// done takes the answer to a request. what names the queue in the log
// ("metrics", "check reports"); left is what it still holds.
func (p *pacer) done(err error, now time.Time, log *logger.Logger, what string, left int) {
	stopping := p.state == paceStopping
	next := func(s paceState, wait time.Duration) {
		p.wait = wait
		if !stopping {
			p.state = s
		}
	}
	if err == nil {
		if p.keyRefused {
			log.Infof("The API accepts the key again: sending the %d queued %s", left, what)
			p.keyRefused, p.backoff = false, 0
		}
		if left > 0 {
			next(paceBacklog, 0)
		} else {
			next(paceNormal, 0)
		}
		return
	}
	switch api.Classify(err) {
	case api.KeyRefused:
		if !p.keyRefused {
			log.Errorf("%v; keeping the %d queued %s and trying again every few minutes", err, left, what)
		} else {
			log.Debugf("%v", err)
		}
		p.keyRefused = true
		p.backoff = min(max(2*p.backoff, keyBackoff), maxBackoff)
		next(paceFailed, p.backoff)
	case api.RateLimited:
		wait := api.RetryAfter(err)
		if wait <= 0 {
			wait = rateDefault
		}
		log.Warningf("%v; the next request waits %v", err, wait)
		next(paceFailed, wait)
	case api.Refused:
		next(paceBacklog, 0)
	default:
		log.Warningf("Failed to send %s (will retry): %v", what, err)
		next(paceFailed, retryDelay)
	}
}

// HostSecond is upstream's delayByHost: the last byte of the SHA-1 of the
// host id, modulo 60.
func HostSecond(hostID string) int {
	s := sha1.Sum([]byte(hostID))
	return int(s[len(s)-1]) % 60
}
