package host

import (
	"context"
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
	var silent atomic.Bool
	silent.Store(true)
	addr := p9test.Start(t, &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64),
		Fault: func(req *plan9.Fcall, _ string) p9test.Fault {
			if req.Type == plan9.Tattach {
				dials.Add(1)
			}
			if silent.Load() {
				return p9test.Silence
			}
			return p9test.Answer
		}})
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
