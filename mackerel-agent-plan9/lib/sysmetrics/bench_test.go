package sysmetrics

import (
	"context"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// BenchmarkMinute is the agent's work on its own host each minute: twelve
// five-second samples of /dev/sysstat and one Collect (/dev/swap, /proc,
// the ethernet counters), on the 9front 11879 amd64 capture.
func BenchmarkMinute(b *testing.B) {
	c := New(ns.Dir(testkit.Capture(testkit.Front11879amd64)), nil, func(string, ...any) {})
	ctx := context.Background()
	now := t0
	for b.Loop() {
		for i := 0; i < 12; i++ {
			now = now.Add(SampleInterval)
			c.Sample(ctx, now)
		}
		if m := c.Collect(ctx, now); len(m) < 10 {
			b.Fatalf("%d metrics", len(m))
		}
	}
}

// BenchmarkSpecs is the hourly reading of the host's specs.
func BenchmarkSpecs(b *testing.B) {
	fsys := ns.Dir(testkit.Capture(testkit.Front11879amd64))
	for b.Loop() {
		s, err := Specs(context.Background(), fsys, nil)
		if err != nil || s.Meta.Kernel == nil {
			b.Fatal(err)
		}
	}
}
