package p9stats

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// remote hides that a name space is local, so that it is read as over a
// network: every file of a source at once.
type remote struct{ ns.FS }

// Read in turn (a local name space) or all at once, a capture gives the
// same snapshot.
func TestLocalSameAsRemote(t *testing.T) {
	for _, c := range testkit.Captures {
		dir := ns.Dir(testkit.Capture(c))
		local, far := NewFS(dir), NewFS(remote{dir})
		if !local.local || far.local {
			t.Fatalf("%s: local %v, remote %v", c, local.local, far.local)
		}
		a := local.Snapshot(context.Background(), SourceAll)
		b := far.Snapshot(context.Background(), SourceAll)
		a.Read = b.Read
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\nlocal  %+v\nremote %+v", c, a, b)
		}
	}
}

// blockingLocal is a local name space in which reading a file of wait
// first waits for its channel, after saying so on started; reading a file
// of done closes its channel afterwards.
type blockingLocal struct {
	fstest.MapFS
	wait    map[string]chan struct{}
	done    map[string]chan struct{}
	started chan string
}

func (b blockingLocal) Local() bool { return true }

func (b blockingLocal) ReadFile(name string) ([]byte, error) {
	if ch, ok := b.wait[name]; ok {
		b.started <- name
		<-ch
	}
	if ch, ok := b.done[name]; ok {
		defer close(ch)
	}
	return b.MapFS.ReadFile(name)
}

func localHost(t *testing.T) fstest.MapFS {
	return fstest.MapFS{
		"dev/swap":        {Data: testkit.ReadCapture(t, testkit.Front11879amd64, "dev/swap")},
		"dev/sysstat":     {Data: testkit.ReadCapture(t, testkit.Front11879amd64, "dev/sysstat")},
		"dev/time":        {Data: testkit.ReadCapture(t, testkit.Front11879amd64, "dev/time")},
		"net/tcp/stats":   {Data: testkit.ReadCapture(t, testkit.Front11879amd64, "net/tcp/stats")},
		"mnt/apm/battery": {Data: []byte("1 72 0 ? ? ? ? ?\n")},
	}
}

// In a local name space the kernel's files are read in turn: one that
// hangs costs itself and those after it, what was read before still
// counts, and the snapshot ends with its context.
func TestLocalSnapshotEndsWithContext(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	b := blockingLocal{localHost(t), map[string]chan struct{}{"dev/sysstat": hang}, nil, make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-b.started
		cancel()
	}()
	s := NewFS(b).Snapshot(ctx, SourceSwap|SourceSysStat|SourceTime|SourceTCP)
	if s.Swap == nil {
		t.Error("swap, read before the hang, was lost")
	}
	for _, src := range []Source{SourceSysStat, SourceTime, SourceTCP} {
		if err := s.Errors[src]; !errors.Is(err, context.Canceled) {
			t.Errorf("%v: %v", src, err)
		}
	}
}

// The files user-level servers may serve are read apart from the
// kernel's: here /dev/sysstat answers only once the battery was read,
// which would never happen if they were read in the same turn.
func TestLocalUserLevelApart(t *testing.T) {
	battery := make(chan struct{})
	b := blockingLocal{localHost(t), map[string]chan struct{}{"dev/sysstat": battery},
		map[string]chan struct{}{"mnt/apm/battery": battery}, make(chan string, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // only if broken
	defer cancel()
	s := NewFS(b).Snapshot(ctx, SourceSwap|SourceSysStat|SourceTime|SourceBattery)
	if len(s.Errors) != 0 || len(s.CPUs) != 1 || len(s.Batteries) != 1 {
		t.Errorf("errors %v, cpus %v, batteries %v", s.Errors, s.CPUs, s.Batteries)
	}
}

// Procs, ethers and the kernel files in turn give what they give at once.
func TestLocalSources(t *testing.T) {
	dir := ns.Dir(testkit.Capture(testkit.Front11879amd64))
	for _, p := range []FS{NewFS(dir), NewFS(remote{dir})} {
		procs, err := p.Procs()
		if err != nil || len(procs) != 37 {
			t.Errorf("local %v: %d procs, %v", p.local, len(procs), err)
		}
		es, err := p.ethers()
		if err != nil || len(es) != 1 || es[0].Stats.InPackets != 3686 {
			t.Errorf("local %v: ethers %+v, %v", p.local, es, err)
		}
		apply, err := p.kernel()
		var s Snapshot
		apply(&s)
		if err != nil || s.SysName != "gnot" || s.CPUType == nil || s.KernelBuild.IsZero() {
			t.Errorf("local %v: kernel %+v, %v", p.local, s, err)
		}
	}
}
