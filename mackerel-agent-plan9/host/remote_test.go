package host

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/remote"
)

// A host that accepts connections and answers nothing, read by many at
// once (a minute's checks, a sample, the collection): one of them dials,
// the others take that dial's outcome, rather than each dialling in turn
// for a whole timeout (a 9front guest frozen under QEMU had its four
// checks reported 40 s late, one 10 s dial after another). None dials
// again before the backoff ends; then one dial serves them all.
func TestRemoteSilentHostDialledOnce(t *testing.T) {
	var dials atomic.Int32
	addr, silent := silentServer(t, testkit.Front11879amd64, func(req *plan9.Fcall) {
		if req.Type == plan9.Tattach {
			dials.Add(1)
		}
	})
	silent.Store(true)
	const timeout = 100 * time.Millisecond
	r := NewRemote(remote.NewSession(addr, remote.Options{User: "glenda", Timeout: timeout}), nil, timeout, t.Logf)
	all := func(now time.Time) []error {
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				if i == 0 {
					r.Sample(context.Background(), now)
					return
				}
				errs[i] = r.Reachable(context.Background(), now)
			})
		}
		wg.Wait()
		return errs[1:]
	}

	t0 := time.Date(2026, 12, 3, 9, 15, 27, 0, time.UTC)
	for i, err := range all(t0) {
		if err == nil {
			t.Errorf("reader %d: the silent host answers", i)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials of the silent host by readers at once, want 1", n)
	}
	if err := r.Reachable(context.Background(), t0.Add(redialFirst-time.Second)); err == nil || dials.Load() != 1 {
		t.Errorf("within the backoff: %v, %d dials", err, dials.Load())
	}

	silent.Store(false)
	for i, err := range all(t0.Add(redialFirst)) {
		if err != nil {
			t.Errorf("reader %d, the host answering again: %v", i, err)
		}
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("%d dials, want 2", n)
	}
}

// A host that stops answering while several read it: the reader whose
// deadline ends first drops the connection, and the others, whose reads
// fail with it, report why ("no answer within" that reader's time), not
// "not connected" (as a frozen 9front guest's plan9-reachable said).
func TestRemoteDroppedSaysWhy(t *testing.T) {
	addr, silent := silentServer(t, testkit.Front11879amd64, nil)
	r := NewRemote(remote.NewSession(addr, remote.Options{User: "glenda", Timeout: 10 * time.Second}), nil, 10*time.Second, t.Logf)
	t0 := time.Date(2026, 12, 3, 9, 33, 51, 0, time.UTC)
	if err := r.Reachable(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	silent.Store(true)
	errs := make(chan error, 2)
	// as the agent's five-second sample, whose deadline is nearer than
	// the host's timeout
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	go func() {
		errs <- r.read(ctx, t0, func(ctx context.Context) error {
			<-ctx.Done() // as p9stats gives up a read at its deadline
			return ctx.Err()
		})
	}()
	go func() { errs <- r.Reachable(context.Background(), t0) }()
	for range 2 {
		select {
		case err := <-errs:
			if err == nil || !strings.Contains(err.Error(), addr+": no answer within 200ms") {
				t.Errorf("got %v, want %s: no answer within 200ms", err, addr)
			}
		case <-time.After(time.Minute):
			t.Fatal("a reading of the silent host did not end")
		}
	}
}

// A host that stops answering, read by one reader whose reads do not heed
// ctx (plan9-reachable's sysname): its deadline drops the connection, so
// the read ends then, rather than when some other reader's deadline
// happens to drop it (or never).
func TestRemoteSilentReadEndsAtTimeout(t *testing.T) {
	addr, silent := silentServer(t, testkit.Legacy386, nil)
	const timeout = 200 * time.Millisecond
	r := NewRemote(remote.NewSession(addr, remote.Options{User: "glenda", Timeout: timeout}), nil, timeout, t.Logf)
	t0 := time.Date(2026, 12, 3, 9, 33, 51, 0, time.UTC)
	if err := r.Reachable(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	silent.Store(true)
	done := make(chan error, 1)
	go func() { done <- r.Reachable(context.Background(), t0) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), addr+": no answer within 200ms") {
			t.Errorf("got %v, want %s: no answer within 200ms", err, addr)
		}
	case <-time.After(time.Minute):
		t.Fatal("the reading of a silent host did not end at its timeout")
	}
}

// silentServer serves a capture that answers nothing while silent holds;
// seen, if not nil, sees every request.
func silentServer(t *testing.T, capture string, seen func(*plan9.Fcall)) (string, *atomic.Bool) {
	silent := new(atomic.Bool)
	addr := p9test.Start(t, &p9test.Server{Root: testkit.Capture(capture),
		Fault: func(req *plan9.Fcall, _ string) p9test.Fault {
			if seen != nil {
				seen(req)
			}
			if silent.Load() {
				return p9test.Silence
			}
			return p9test.Answer
		}})
	return addr, silent
}
