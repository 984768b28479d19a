package p9stats

import (
	"strconv"
	"strings"
)

// SwapLayout tells which kernel's /dev/swap format was read.
type SwapLayout int

const (
	// SwapLayout9front: "memory", "pagesize", "kernel", "user", "swap", on
	// newer kernels "reclaim", and a/n/m pool lines including "kernel secret"
	// (sys/src/9/port/devswap.c).
	SwapLayout9front SwapLayout = iota + 1
	// SwapLayoutClassic: Bell Labs 4th edition and 9legacy's pc kernels, 7
	// lines with n/m pool lines (sys/src/9/port/devcons.c).
	SwapLayoutClassic
	// SwapLayout9k: 9legacy's 64-bit 9k kernel: per-page-size "user pages
	// avail" and per-colour "blocks avail" lines, no memory, pagesize or
	// swap lines, then malloc statistics (sys/src/9k/port/devcons.c).
	SwapLayout9k
)

func (l SwapLayout) String() string {
	switch l {
	case SwapLayout9front:
		return "9front"
	case SwapLayoutClassic:
		return "classic"
	case SwapLayout9k:
		return "9k"
	}
	return "unknown"
}

// Pages is a used/total pair counted in pages of Swap.PageSize bytes.
type Pages struct {
	Used, Total uint64
}

// Pool is one of the kernel's memory pools ("kernel malloc" is "malloc",
// likewise "draw" and "secret"), in bytes.
type Pool struct {
	Name string
	// Allocated is the number of bytes currently allocated in the pool.
	// Only 9front (since 2015) reports it; it is nil elsewhere.
	Allocated *uint64
	// Size is the current size of the pool's arena, and Max the size it may
	// grow to. On the 9k kernel Size is the part of the arena handed out.
	Size, Max uint64
}

// PagePool is a 9k kernel pool of user pages of one size: Free of Total
// pages of PageSize bytes ("67/523 4K user pages avail"). The kernel leaves
// out the line when no page of that size is free.
type PagePool struct {
	PageSize    uint64
	Free, Total uint64
}

// PhysBlocks is a 9k kernel buddy allocator of one memory colour (NUMA
// domain): Free of Total blocks of BlockSize bytes
// ("204137/204768 4K color 0 blocks avail").
type PhysBlocks struct {
	Color       int
	BlockSize   uint64
	Free, Total uint64
}

// Swap is the content of /dev/swap (9front's #¶/swap, classic #c/swap).
// Counts of pages are in pages of PageSize bytes, which is read, never
// assumed: it is 64 KiB on 9front's arm64 boards.
type Swap struct {
	Layout SwapLayout

	// MemoryBytes is the physical memory the kernel manages, PageSize the
	// page size in bytes and KernelPages the pages not given to user
	// processes. All three are zero on the 9k kernel, which does not report
	// them.
	MemoryBytes uint64
	PageSize    uint64
	KernelPages uint64

	// User pages: on 9front Used excludes the reclaimable pages counted in
	// Reclaim; on classic kernels it includes the caches.
	User Pages
	// Swap is the swap space in pages; 0/0 when none is configured.
	// HasSwap is false when the kernel prints no swap line (9k).
	Swap    Pages
	HasSwap bool
	// Reclaim holds the image, mount and swap cache pages that the kernel
	// can take back (9front since 2018); Total repeats User.Total. nil
	// when the kernel does not report it.
	Reclaim *Pages

	Pools []Pool

	// 9k kernel only.
	PagePools  []PagePool
	PhysBlocks []PhysBlocks
}

// ParseSwap parses /dev/swap in any of the three layouts. Lines it does not
// recognise, such as the 9k kernel's "quick:" and "rover:" statistics, are
// skipped.
func ParseSwap(b []byte) (Swap, error) {
	var s Swap
	seen := map[string]bool{}
	for i, l := range lines(b) {
		if strings.TrimSpace(l) == "" {
			continue
		}
		val, key, _ := strings.Cut(strings.TrimSpace(l), " ")
		key = strings.TrimSpace(key)
		if !knownSwapKey(key) {
			continue // quick:, rover:, and whatever a future kernel adds
		}
		nums, err := parseNumberList(val)
		if err != nil {
			return Swap{}, lineError(i+1, l, "%v", err)
		}
		bad := func() error { return lineError(i+1, l, "%d numbers for %q", len(nums), key) }
		switch {
		case key == "memory" || key == "pagesize" || key == "kernel":
			if len(nums) != 1 {
				return Swap{}, bad()
			}
			switch key {
			case "memory":
				s.MemoryBytes = nums[0]
			case "pagesize":
				s.PageSize = nums[0]
			case "kernel":
				s.KernelPages = nums[0]
			}
		case key == "user" || key == "swap" || key == "reclaim":
			if len(nums) != 2 {
				return Swap{}, bad()
			}
			p := Pages{Used: nums[0], Total: nums[1]}
			switch key {
			case "user":
				s.User = p
			case "swap":
				s.Swap, s.HasSwap = p, true
			case "reclaim":
				s.Reclaim = &p
			}
		case strings.HasPrefix(key, "kernel "):
			p := Pool{Name: strings.TrimPrefix(key, "kernel ")}
			switch len(nums) {
			case 2:
				p.Size, p.Max = nums[0], nums[1]
			case 3:
				a := nums[0]
				p.Allocated, p.Size, p.Max = &a, nums[1], nums[2]
			default:
				return Swap{}, bad()
			}
			s.Pools = append(s.Pools, p)
		case strings.HasSuffix(key, " user pages avail"):
			size, err := parseKiB(strings.TrimSuffix(key, " user pages avail"))
			if err != nil || len(nums) != 2 {
				return Swap{}, lineError(i+1, l, "bad page pool line")
			}
			s.PagePools = append(s.PagePools, PagePool{PageSize: size, Free: nums[0], Total: nums[1]})
		case strings.HasSuffix(key, " blocks avail"):
			f := strings.Fields(key) // 4K color 0 blocks avail
			if len(f) != 5 || f[1] != "color" || len(nums) != 2 {
				return Swap{}, lineError(i+1, l, "bad physical block line")
			}
			size, err1 := parseKiB(f[0])
			color, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				return Swap{}, lineError(i+1, l, "bad physical block line")
			}
			s.PhysBlocks = append(s.PhysBlocks, PhysBlocks{Color: color, BlockSize: size, Free: nums[0], Total: nums[1]})
		default:
			continue
		}
		seen[key] = true
	}
	switch {
	case seen["memory"] && seen["pagesize"]:
		s.Layout = SwapLayoutClassic
		if s.Reclaim != nil || seen["kernel secret"] {
			s.Layout = SwapLayout9front
		}
		for _, p := range s.Pools {
			if p.Allocated != nil {
				s.Layout = SwapLayout9front
			}
		}
		if s.PageSize == 0 {
			return Swap{}, &ParseError{Msg: "pagesize is 0"}
		}
		if s.User.Used > s.User.Total || s.Swap.Used > s.Swap.Total {
			return Swap{}, &ParseError{Msg: "more pages used than exist"}
		}
	case len(s.PhysBlocks) > 0:
		s.Layout = SwapLayout9k
	default:
		return Swap{}, &ParseError{Msg: "neither memory/pagesize lines nor 9k block lines"}
	}
	return s, nil
}

func knownSwapKey(k string) bool {
	switch k {
	case "memory", "pagesize", "kernel", "user", "swap", "reclaim":
		return true
	}
	return strings.HasPrefix(k, "kernel ") || strings.HasSuffix(k, " user pages avail") || strings.HasSuffix(k, " blocks avail")
}

func parseNumberList(s string) ([]uint64, error) {
	parts := strings.Split(s, "/")
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := parseUint(p, 64)
		if err != nil {
			return nil, err
		}
		nums[i] = v
	}
	return nums, nil
}

// parseKiB parses the 9k kernel's page sizes such as "4K" or "2048K".
func parseKiB(s string) (uint64, error) {
	n, err := parseUint(strings.TrimSuffix(s, "K"), 32)
	if err != nil || !strings.HasSuffix(s, "K") || n == 0 {
		return 0, &ParseError{Msg: "bad size " + strconv.Quote(s)}
	}
	return n * 1024, nil
}

// Memory is the user-memory picture that /dev/swap implies, in bytes.
type Memory struct {
	// Total is the physical memory (the "memory" line); on the 9k kernel,
	// which has no such line, the memory given to user pages.
	Total uint64
	// UserTotal is the memory given to user pages.
	UserTotal uint64
	// Used is memory held by processes. On 9front it excludes Reclaim;
	// classic kernels count their caches as used.
	Used uint64
	// Reclaim is cache memory the kernel can take back (9front only).
	Reclaim    uint64
	HasReclaim bool
	// Free is UserTotal − Used − Reclaim.
	Free uint64
	// Kernel is memory kept by the kernel; HasKernel is false on 9k.
	Kernel    uint64
	HasKernel bool
}

// Memory derives the memory picture in bytes.
func (s Swap) Memory() Memory {
	var m Memory
	if s.Layout == SwapLayout9k {
		var free uint64
		for _, b := range s.PhysBlocks {
			m.UserTotal += b.Total * b.BlockSize
			free += b.Free * b.BlockSize
		}
		for _, p := range s.PagePools {
			// Pages the pool took from the buddy allocator and holds free.
			free += p.Free * p.PageSize
		}
		free = min(free, m.UserTotal)
		m.Total, m.Free, m.Used = m.UserTotal, free, m.UserTotal-free
		return m
	}
	ps := s.PageSize
	m.Total = s.MemoryBytes
	m.UserTotal = s.User.Total * ps
	m.Used = s.User.Used * ps
	if s.Reclaim != nil {
		m.HasReclaim = true
		m.Reclaim = min(s.Reclaim.Used*ps, m.UserTotal-m.Used)
	}
	m.Free = m.UserTotal - m.Used - m.Reclaim
	m.Kernel, m.HasKernel = s.KernelPages*ps, true
	return m
}

// SwapBytes returns swap used and total in bytes; ok is false when the
// kernel reports no swap at all (9k). A total of 0 means no swap is
// configured.
func (s Swap) SwapBytes() (used, total uint64, ok bool) {
	if !s.HasSwap || s.PageSize == 0 {
		return 0, 0, false
	}
	return s.Swap.Used * s.PageSize, s.Swap.Total * s.PageSize, true
}

// Pool returns the pool named name ("malloc", "draw", "secret").
func (s Swap) Pool(name string) (Pool, bool) {
	for _, p := range s.Pools {
		if p.Name == name {
			return p, true
		}
	}
	return Pool{}, false
}
