package p9stats

import (
	"strings"
)

// CPUStat is one line of /dev/sysstat (#c/sysstat): one per active CPU,
// ten numbers of 12 bytes each. The counters are C ulongs, 32 bits on
// every Plan 9 port, so they wrap at 2^32; writing to /dev/sysstat zeroes
// them all, so they can also go backwards.
type CPUStat struct {
	ID uint32

	// Cumulative counters, wrapping at 2^32.
	ContextSwitches uint32
	Interrupts      uint32
	Syscalls        uint32
	PageFaults      uint32
	TLBFaults       uint32 // incremented only by mips and power kernels
	TLBPurges       uint32

	// Load is the number of runnable processes × 1000, an exponentially
	// decayed average computed by CPU 0 only; it is 0 on the other lines.
	Load uint32
	// IdlePercent and InterruptPercent are decayed averages of the time this
	// CPU spent idle and in interrupt handlers. A 32-bit overflow in the
	// kernel can push them past 100 on very fast processors.
	IdlePercent      uint32
	InterruptPercent uint32
}

// ParseSysStat parses /dev/sysstat.
func ParseSysStat(b []byte) ([]CPUStat, error) {
	var cpus []CPUStat
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != 10 {
			return nil, lineError(i+1, l, "%d fields, want 10", len(f))
		}
		var v [10]uint32
		for j := range f {
			n, err := parseUint(f[j], 32)
			if err != nil {
				return nil, lineError(i+1, l, "%v", err)
			}
			v[j] = uint32(n)
		}
		cpus = append(cpus, CPUStat{
			ID: v[0], ContextSwitches: v[1], Interrupts: v[2], Syscalls: v[3],
			PageFaults: v[4], TLBFaults: v[5], TLBPurges: v[6],
			Load: v[7], IdlePercent: v[8], InterruptPercent: v[9],
		})
	}
	if len(cpus) == 0 {
		return nil, &ParseError{Msg: "no CPU lines"}
	}
	return cpus, nil
}

// LoadAverage converts the load column to a Unix-style load average: the
// sum over all CPUs divided by 1000, as stats(8) computes it.
func LoadAverage(cpus []CPUStat) float64 {
	var sum uint64
	for _, c := range cpus {
		sum += uint64(c.Load)
	}
	return float64(sum) / 1000
}

// Shares splits the CPU's time into busy, interrupt and idle percentages
// that add up to 100. The kernel's idle figure can pass 100 (a 32-bit
// overflow on fast processors), and idle plus interrupt time can pass 100
// too, as both are decayed averages: idle is kept within 100, interrupt
// time within what idle leaves, and busy is the rest.
func (c CPUStat) Shares() (busy, interrupt, idle float64) {
	id := min(c.IdlePercent, 100)
	in := min(c.InterruptPercent, 100-id)
	return float64(100 - id - in), float64(in), float64(id)
}
