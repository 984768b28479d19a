package remote

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// A session keeps one connection across reads, fails its reads when the
// server goes, and dials again on Connect; Reset ends a read that waits
// on a server that stopped answering.
func TestSession(t *testing.T) {
	var fault atomic.Int32
	srv := &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64), Fault: func(*plan9.Fcall, string) p9test.Fault {
		return p9test.Fault(fault.Load())
	}}
	addr := p9test.Start(t, srv)
	s := NewSession(addr, Options{User: "glenda", Timeout: 5 * time.Second})
	defer s.Close()
	if _, err := s.ReadFile("dev/sysname"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("before Connect: %v", err)
	}
	ctx := context.Background()
	for range 3 {
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if b, err := s.ReadFile("dev/sysname"); err != nil || string(b) != "gnot" {
			t.Fatalf("%q %v", b, err)
		}
	}
	if s.Dials() != 1 {
		t.Errorf("%d dials for three reads", s.Dials())
	}
	fault.Store(int32(p9test.Hangup))
	if _, err := s.ReadFile("dev/sysname"); err == nil || s.Err() == nil {
		t.Errorf("a hung-up server: %v, %v", err, s.Err())
	}
	fault.Store(int32(p9test.Answer))
	if err := s.Connect(ctx); err != nil || s.Dials() != 2 {
		t.Fatalf("dialled again: %v, %d dials", err, s.Dials())
	}
	fault.Store(int32(p9test.Silence))
	done := make(chan error, 1)
	go func() { _, err := s.ReadFile("dev/swap"); done <- err }()
	time.Sleep(100 * time.Millisecond)
	s.Reset()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a read of a silent server returned nothing wrong")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Reset did not end the read")
	}
	// A dial whose context ends is not left connected.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := s.Connect(cctx); err == nil {
		t.Error("a dial to a silent server succeeded")
	}
	if s.Err() == nil {
		t.Error("connected after a failed dial")
	}
}
