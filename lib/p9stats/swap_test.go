package p9stats

import (
	"errors"
	"reflect"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func u64(v uint64) *uint64 { return &v }

func TestSwapCaptures(t *testing.T) {
	tests := []struct {
		capture string
		want    Swap
	}{
		{testkit.Front11879amd64, Swap{
			Layout: SwapLayout9front, MemoryBytes: 1067155456, PageSize: 4096, KernelPages: 104215,
			User: Pages{1011, 150376}, Swap: Pages{0, 320000}, HasSwap: true, Reclaim: &Pages{837, 150376},
			Pools: []Pool{
				{"malloc", u64(2695808), 2916960, 426454272},
				{"draw", u64(0), 0, 383808845},
				{"secret", u64(224), 65568, 16777216},
			},
		}},
		{testkit.Front11879x386, Swap{
			Layout: SwapLayout9front, MemoryBytes: 1066962944, PageSize: 4096, KernelPages: 65536,
			User: Pages{1056, 196409}, Swap: Pages{0, 320000}, HasSwap: true, Reclaim: &Pages{764, 196409},
			Pools: []Pool{
				{"malloc", u64(2273984), 2392544, 262607588},
				{"draw", u64(0), 0, 236346830},
				{"secret", u64(192), 65568, 16777216},
			},
		}},
		// 2016 9front: a/n/m pools but no reclaim or secret lines yet.
		{testkit.Front2016amd64, Swap{
			Layout: SwapLayout9front, MemoryBytes: 1068609536, PageSize: 4096, KernelPages: 104357,
			User: Pages{14263, 153913}, Swap: Pages{0, 160000}, HasSwap: true,
			Pools: []Pool{
				{"malloc", u64(2926392), 3019328, 418411904},
				{"draw", u64(0), 0, 376570714},
			},
		}},
		{testkit.Front2016x386, Swap{
			Layout: SwapLayout9front, MemoryBytes: 1068421120, PageSize: 4096, KernelPages: 65536,
			User: Pages{1261, 196409}, Swap: Pages{0, 160000}, HasSwap: true,
			Pools: []Pool{
				{"malloc", u64(989472), 1048832, 255536384},
				{"draw", u64(0), 0, 229982746},
			},
		}},
		// Classic: 7 lines, n/m pools, no allocated figure.
		{testkit.Legacy386, Swap{
			Layout: SwapLayoutClassic, MemoryBytes: 1070465024, PageSize: 4096, KernelPages: 65536,
			User: Pages{568, 196576}, Swap: Pages{0, 160000}, HasSwap: true,
			Pools: []Pool{
				{"malloc", nil, 1048832, 236089248},
				{"draw", nil, 0, 236089248},
			},
		}},
		// 9k: no memory, pagesize or swap lines; quick: and rover: skipped.
		{testkit.Legacy9k, Swap{
			Layout:     SwapLayout9k,
			Pools:      []Pool{{"malloc", nil, 26014832, 232030208}, {"draw", nil, 0, 0}},
			PagePools:  []PagePool{{PageSize: 4096, Free: 67, Total: 523}},
			PhysBlocks: []PhysBlocks{{Color: 0, BlockSize: 4096, Free: 204137, Total: 204768}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			got, err := captureFS(tt.capture).Swap()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSwapMemory(t *testing.T) {
	tests := []struct {
		capture string
		want    Memory
	}{
		{testkit.Front11879amd64, Memory{
			Total: 1067155456, UserTotal: 150376 * 4096, Used: 1011 * 4096,
			Reclaim: 837 * 4096, HasReclaim: true, Free: (150376 - 1011 - 837) * 4096,
			Kernel: 104215 * 4096, HasKernel: true,
		}},
		{testkit.Legacy386, Memory{
			Total: 1070465024, UserTotal: 196576 * 4096, Used: 568 * 4096,
			Free: (196576 - 568) * 4096, Kernel: 65536 * 4096, HasKernel: true,
		}},
		// 9k: free is the buddy allocator's free blocks plus the free pages
		// held in the 4K page pool.
		{testkit.Legacy9k, Memory{
			Total: 204768 * 4096, UserTotal: 204768 * 4096,
			Free: (204137 + 67) * 4096, Used: (204768 - 204137 - 67) * 4096,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			s, err := captureFS(tt.capture).Swap()
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Memory(); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSwapBytes(t *testing.T) {
	s, _ := captureFS(testkit.Front11879amd64).Swap()
	if used, total, ok := s.SwapBytes(); !ok || used != 0 || total != 320000*4096 {
		t.Errorf("9front: %d %d %v", used, total, ok)
	}
	s, _ = captureFS(testkit.Legacy9k).Swap()
	if _, _, ok := s.SwapBytes(); ok {
		t.Error("9k reports no swap, SwapBytes says it does")
	}
}

// The page size is read: a 64 KiB-page arm64 kernel (bcm64, imx8) must
// not be computed with 4096.
func TestSwapPageSize64K(t *testing.T) {
	s, err := ParseSwap([]byte("8589934592 memory\n65536 pagesize\n2048 kernel\n1000/129024 user\n0/0 swap\n24/129024 reclaim\n1/2/3 kernel malloc\n0/0/0 kernel draw\n0/0/0 kernel secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Memory()
	if m.Used != 1000*65536 || m.Kernel != 2048*65536 || m.Reclaim != 24*65536 {
		t.Errorf("%+v", m)
	}
}

func TestSwapErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"quick: 5 bytes total\n",
		"1000 memory\n0 pagesize\n",
		"1000 memory\n4096 pagesize\n1/2/3 user\n",
		"1000 memory\n4096 pagesize\n5/3 user\n",
		"1000 memory\n4096 pagesize\n99999999999999999999 kernel\n",
		"1000 memory\n4096 pagesize\n1/2/3/4 kernel malloc\n",
		"1/2 4X user pages avail\n",
		"1000 memory\n4096 pagesize\nlots/150376 user\n",
	} {
		_, err := ParseSwap([]byte(in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, want a ParseError", in, err)
		}
	}
}

func TestSwapErrorNamesFileAndLine(t *testing.T) {
	fs := mapFS(map[string]string{"dev/swap": "1000 memory\n4096 pagesize\n12x/40 user\n"})
	_, err := fs.Swap()
	want := `p9stats: /dev/swap: line 3: bad number "12x": invalid syntax: "12x/40 user"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
