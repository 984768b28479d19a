package p9stats

import "testing"

func TestDelta(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur uint64
		bits      uint
		limit     uint64
		want      uint64
		ok        bool
	}{
		{"up", 1000, 7000, 64, 0, 6000, true},
		{"unchanged", 7000, 7000, 32, 0, 0, true},
		{"64-bit went back", 7000, 1000, 64, 0, 0, false},
		{"64-bit near 2^32 went back", 4294967000, 100, 64, 0, 0, false},
		// 296 to the wrap and 100 after it.
		{"32-bit wrap", 4294967000, 100, 32, 0, 396, true},
		{"32-bit wrap within the limit", 4294967000, 5704, 32, 6000, 6000, true},
		{"32-bit wrap past the limit", 4294967000, 5704, 32, 5999, 0, false},
		// Back by 4900 is a wrap of 2^32 - 4900: more than half the range.
		{"32-bit fell from the lower half", 5000, 100, 32, 0, 0, false},
		{"32-bit back by a little", 1<<31 + 10, 1<<31 - 5, 32, 0, 0, false},
		{"32-bit wrap of half the range", 1 << 31, 0, 32, 0, 0, false},
		{"32-bit wrap of half less one", 1<<31 + 1, 0, 32, 0, 1<<31 - 1, true},
		{"32-bit value past 32 bits", 1 << 33, 5, 32, 0, 0, false},
	} {
		got, ok := Delta(tc.prev, tc.cur, tc.bits, tc.limit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestShares(t *testing.T) {
	for _, tc := range []struct {
		name             string
		c                CPUStat
		busy, intr, idle float64
	}{
		{"as read", CPUStat{IdlePercent: 24, InterruptPercent: 1}, 75, 1, 24},
		// A 32-bit overflow in the kernel can print an idle past 100.
		{"idle past 100", CPUStat{IdlePercent: 4000, InterruptPercent: 2}, 0, 0, 100},
		// Both are decayed averages: together they may pass 100.
		{"idle and interrupts past 100", CPUStat{IdlePercent: 97, InterruptPercent: 5}, 0, 3, 97},
	} {
		busy, intr, idle := tc.c.Shares()
		if busy != tc.busy || intr != tc.intr || idle != tc.idle {
			t.Errorf("%s: %v %v %v", tc.name, busy, intr, idle)
		}
	}
}
