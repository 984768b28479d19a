package sysmetrics

import (
	"fmt"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// memoryMetrics derives memory.* from /dev/swap, in bytes, so that
//
//	memory.used + memory.mem_available = memory.total
//
// as upstream's Linux agent has it (used = MemTotal − MemAvailable), which
// is what Mackerel's stacked memory graph draws. Available is the user
// pages that are not in use: free ones and, on 9front, the reclaimable
// image, mount and swap caches, which the kernel's user-used count leaves
// out. Used is everything else, the kernel's share included: the kernel
// line of /dev/swap is the share the kernel planned at boot, not what it
// took, and it does not add up with the user pages to memory on any
// capture.
func memoryMetrics(s p9stats.Swap) (map[string]float64, error) {
	m := s.Memory()
	avail := m.Free + m.Reclaim
	if m.Total == 0 || avail > m.Total {
		return nil, fmt.Errorf("%d bytes of memory with %d bytes of user pages free: not a memory picture", m.Total, avail)
	}
	out := map[string]float64{
		nameMemTotal:     float64(m.Total),
		nameMemUsed:      float64(m.Total - avail),
		nameMemAvailable: float64(avail),
	}
	if used, total, ok := s.SwapBytes(); ok {
		out[nameSwapTotal] = float64(total)
		out[nameSwapFree] = float64(total - used)
	}
	return out, nil
}
