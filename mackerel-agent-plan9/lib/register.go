package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/statefile"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

// registration finds a host's entry on Mackerel, or creates it, and sets
// its status, while the host is collected and its values are queued: an
// API that cannot be reached at start costs nothing but time. It tries
// again with backoff for as long as it takes; only an answer that waiting
// cannot change ends the agent: the key refused before the host was
// found, or an id file naming a host Mackerel does not know.
type registration struct {
	idFile string
	step   regStep
	id     string // from the id file, or as created
	host   *mackerel.Host
	busy   bool
	retry  backoff
	saved  bool // the id file holds the id
	// stopping: the agent stops; one more try is made at once, and
	// triedAtStop says it was.
	stopping, triedAtStop bool
}

// stop makes one last try at once, so that what is queued can still go.
func (r *registration) stop(now time.Time) {
	r.stopping = true
	if r.step != regDone && !r.busy {
		r.retry.next = now
	}
}

type regStep int

const (
	regCreate regStep = iota // no id file: create the host
	regFind                  // find the host the id names
	regStatus                // set host_status.on_start
	regDone
)

func (r *registration) start(w *watched, now time.Time) {
	r.retry = backoff{first: registerFirst, limit: registerLimit}
	id, err := loadHostID(r.idFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.step = regCreate
	case err != nil:
		w.a.fatal = err
	default:
		r.id, r.step, r.saved = id, regFind, true
		w.metrics.Second = queue.HostSecond(id)
	}
}

func (r *registration) nextDue(now time.Time) time.Time {
	if r.step == regDone || r.busy {
		return time.Time{}
	}
	return r.retry.next
}

func (r *registration) runDue(w *watched, now time.Time) {
	if r.step == regDone || r.busy || !r.retry.due(now) || r.triedAtStop {
		return
	}
	switch r.step {
	case regCreate:
		// The host's entry needs its specs, read with the kernel's other
		// files.
		r.busy = true
		w.submitSys(sysJob{kind: "param", run: func(ctx context.Context) func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			param, err := w.h.Param(ctx)
			var id string
			if err == nil {
				w.log.Infof("Registering the host %q on Mackerel", param.Name)
				id, err = w.a.api.CreateHost(ctx, param)
			}
			return func() {
				r.busy = false
				if err != nil {
					r.failed(w, err)
					return
				}
				r.id, r.step = id, regFind
				r.retry.reset()
			}
		}})
	case regFind:
		r.call(w, func(ctx context.Context) func() {
			h, err := w.a.api.FindHost(ctx, r.id)
			return func() {
				if err != nil {
					if api.Status(err) == 404 && r.saved {
						w.a.fatal = fmt.Errorf("Mackerel knows no host %s, which %s names: it was retired, or belongs to another organization than the API key's; delete %s to register this host anew", r.id, r.idFile, r.idFile)
						return
					}
					r.failed(w, err)
					return
				}
				r.host, r.step = h, regStatus
				r.retry.reset()
			}
		})
	case regStatus:
		st := w.a.conf.HostStatus.OnStart
		if st == "" || st == r.host.Status {
			r.done(w, now)
			return
		}
		r.call(w, func(ctx context.Context) func() {
			err := w.a.api.UpdateHostStatus(ctx, r.id, st)
			return func() {
				if err != nil && api.Classify(err) != api.Refused {
					r.failed(w, err)
					return
				}
				if err != nil {
					w.log.Errorf("%v; host_status.on_start is not applied", err)
				}
				r.done(w, w.a.clock.Now())
			}
		})
	}
}

// call runs an API call of the registration beside the loop.
func (r *registration) call(w *watched, f func(ctx context.Context) func()) {
	r.busy = true
	w.a.spawn(w, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), api.DefaultTimeout)
		defer cancel()
		g := f(ctx)
		return func() {
			r.busy = false
			g()
		}
	})
}

func (r *registration) failed(w *watched, err error) {
	if r.stopping {
		r.triedAtStop = true
	}
	if api.Classify(err) == api.KeyRefused && w.id == "" {
		w.a.fatal = err
		return
	}
	d := r.retry.failed(w.a.clock.Now(), api.RetryAfter(err))
	w.log.Warningf("%v (trying again in %v; the values are queued)", err, d)
}

// done: the host is known. Its id goes into the id file and its queues,
// and what waited for it is sent.
func (r *registration) done(w *watched, now time.Time) {
	r.step = regDone
	w.id = r.id
	w.metrics.Second = queue.HostSecond(r.id)
	if err := saveHostID(r.idFile, r.id); err != nil {
		w.log.Errorf("Saving the host id in %s: %v; the next start registers this host anew unless it is saved", r.idFile, err)
	} else {
		r.saved = true
	}
	w.log.Infof("Host %s: hostID = %s", r.host.Name, r.id)
	w.specs.at(now)
	w.metrics.Kick(now)
	w.reports.Kick(now)
}

// loadHostID reads an id file. A missing file is fs.ErrNotExist; any
// other problem is an error that says what to do.
func loadHostID(file string) (string, error) {
	b, err := statefile.Read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("cannot read the host id file: %v (check its permissions, or delete it to register this host anew)", err)
	}
	id := strings.TrimRight(string(b), "\r\n")
	if id == "" || strings.ContainsAny(id, " \t\n/") {
		return "", fmt.Errorf("the host id file %s holds %q, not a host id: delete it to register this host anew", file, string(b))
	}
	return id, nil
}

// saveHostID writes the id file atomically, making its directory.
func saveHostID(file, id string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return statefile.Write(file, []byte(id), statefile.Options{Perm: 0o644, Sync: true})
}
