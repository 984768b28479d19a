package p9stats

import (
	"context"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// BenchmarkSnapshot reads every source of a captured name space from the
// local disk: the cost of one collection without the kernel's own work.
// A local name space is read in turn; "at-once" reads the same files as a
// remote one is read, every file of a source at once.
func BenchmarkSnapshot(b *testing.B) {
	for _, c := range []string{testkit.Front11879amd64, testkit.Legacy386, testkit.Legacy9k} {
		for _, way := range []string{"in-turn", "at-once"} {
			b.Run(c+"/"+way, func(b *testing.B) {
				p := captureFS(c)
				if way == "at-once" {
					p = NewFS(remote{ns.Dir(testkit.Capture(c))})
				}
				b.ReportAllocs()
				for b.Loop() {
					s := p.Snapshot(context.Background(), SourceAll)
					if s.Swap == nil || len(s.Procs) == 0 {
						b.Fatal("incomplete snapshot")
					}
				}
			})
		}
	}
}

// BenchmarkParse measures the parsers alone on in-memory copies.
func BenchmarkParse(b *testing.B) {
	swap := testkit.ReadCapture(b, testkit.Front11879amd64, "dev/swap")
	sysstat := testkit.ReadCapture(b, testkit.Front11879amd64, "dev/sysstat")
	status := testkit.ReadCapture(b, testkit.Front11879amd64, "proc/1/status")
	tcp := testkit.ReadCapture(b, testkit.Front11879amd64, "net/tcp/stats")
	b.Run("swap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseSwap(swap)
		}
	})
	b.Run("sysstat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseSysStat(sysstat)
		}
	})
	b.Run("procstatus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseProcStatus(status)
		}
	})
	b.Run("tcpstats", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ParseTCPStats(tcp)
		}
	})
}
