package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/remote"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
)

// Redialling a host that did not answer backs off from 5 s to 1 min: a
// host that comes back is seen within the minute.
const (
	redialFirst = 5 * time.Second
	redialLimit = time.Minute
)

// Remote is a fleet host's kernel, read over the network through one
// session kept open across reads: its system metrics, its specs and
// whether it answers. A read that does not end within the host's timeout
// drops the connection (and with it whatever still waits on it); a host
// that cannot be reached is dialled again only after a backoff, so that a
// dead host costs one dial every two minutes, not one every sample.
type Remote struct {
	s        *remote.Session
	timeout  time.Duration
	coll     *sysmetrics.Collector
	consoles []fsspace.Spec
	logf     func(string, ...any)

	mu   sync.Mutex
	err  error     // why the host last failed; nil when it answered
	next time.Time // no dial before then
	wait time.Duration
	now  time.Time // the latest time given
	// dialling is closed when the dial under way ends; nil when none is.
	dialling chan struct{}
	// dropped is why a reading dropped the connection; nil once dialled.
	dropped error
}

// NewRemote reads the host of s; consoles are its file servers, timeout
// bounds each dial and each reading.
func NewRemote(s *remote.Session, consoles []fsspace.Spec, timeout time.Duration, logf func(string, ...any)) *Remote {
	return &Remote{s: s, timeout: timeout, consoles: consoles, logf: logf, coll: sysmetrics.New(s, consoles, logf)}
}

// Session is the host's session.
func (r *Remote) Session() *remote.Session { return r.s }

// read connects if need be, then runs f within the host's timeout (or
// the caller's deadline, when nearer). At the deadline the connection is
// dropped, which ends f's requests, whether or not f heeds ctx.
func (r *Remote) read(ctx context.Context, now time.Time, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	dl, _ := ctx.Deadline()
	within := time.Until(dl).Round(time.Millisecond)
	// built only when the deadline passes, not for every reading
	timeout := func() error { return fmt.Errorf("%s: no answer within %v", r.s.Addr(), within) }
	expired := func() bool { return errors.Is(ctx.Err(), context.DeadlineExceeded) }
	drop := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.s.Reset()
		r.dropped = timeout()
	}
	if err := r.connect(ctx, now); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		if expired() {
			drop()
		}
	})
	err := f(ctx)
	if stop() && expired() {
		drop()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case expired():
		err = timeout()
	case r.s.Err() != nil:
		err = r.s.Err()
		if errors.Is(err, remote.ErrNotConnected) && r.dropped != nil {
			// Another reader dropped the connection under this one:
			// say why, rather than "not connected".
			return r.dropped
		}
	}
	r.record(err)
	return err
}

// connect makes sure the session has a connection. One caller dials at a
// time; the others wait for its outcome (within their own time) and take
// it, rather than each dialling a silent host in turn for a whole
// timeout. A host that failed is not dialled again before its backoff
// ends: the callers get why it failed.
func (r *Remote) connect(ctx context.Context, now time.Time) error {
	r.mu.Lock()
	if now.After(r.now) {
		r.now = now
	}
	for r.dialling != nil {
		d := r.dialling
		r.mu.Unlock()
		select {
		case <-d:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s: no connection within %v", r.s.Addr(), r.timeout)
			}
			return ctx.Err()
		}
		r.mu.Lock()
	}
	// No dial is under way, so the session's lock is not held for one.
	if r.s.Err() == nil {
		r.mu.Unlock()
		return nil
	}
	if now.Before(r.next) {
		err := r.err
		r.mu.Unlock()
		return err
	}
	d := make(chan struct{})
	r.dialling = d
	r.mu.Unlock()
	err := r.s.Connect(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dialling = nil
	close(d)
	if err != nil {
		// recorded before the waiters look
		r.record(err)
	} else {
		r.dropped = nil
	}
	return err
}

// record notes the outcome of a reading: a failure puts off the next
// dial, from the latest time a caller gave (a dial or a reading may have
// taken the whole timeout, and callers came meanwhile).
func (r *Remote) record(err error) {
	if err != nil {
		r.wait = min(max(2*r.wait, redialFirst), redialLimit)
		r.next = r.now.Add(r.wait)
	} else {
		r.wait, r.next = 0, time.Time{}
	}
	r.err = err
}

// Sample takes the five-second sample.
func (r *Remote) Sample(ctx context.Context, now time.Time) {
	r.read(ctx, now, func(ctx context.Context) error {
		r.coll.Sample(ctx, now)
		return nil
	})
}

// Collect returns the minute's system metrics; none when the host did not
// answer: absent, never zero.
func (r *Remote) Collect(ctx context.Context, now time.Time) map[string]float64 {
	var m map[string]float64
	if err := r.read(ctx, now, func(ctx context.Context) error {
		m = r.coll.Collect(ctx, now)
		return nil
	}); err != nil {
		return nil
	}
	return m
}

// Specs reads the host's specs.
func (r *Remote) Specs(ctx context.Context) (sysmetrics.HostSpecs, error) {
	r.mu.Lock()
	now := r.now
	r.mu.Unlock()
	var sp sysmetrics.HostSpecs
	err := r.read(ctx, now, func(ctx context.Context) error {
		var err error
		sp, err = sysmetrics.Specs(ctx, r.s, r.consoles)
		if err != nil && sp.Meta.Kernel != nil {
			r.logf("host specs: %v", err)
			err = nil
		}
		return err
	})
	return sp, err
}

// Reachable says whether the host answers now: nil, or why not.
func (r *Remote) Reachable(ctx context.Context, now time.Time) error {
	return r.read(ctx, now, func(ctx context.Context) error {
		_, err := p9stats.NewFS(r.s).SysName()
		return err
	})
}
