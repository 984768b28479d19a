package mpplan9

import (
	"strconv"
	"strings"

	mp "github.com/mackerelio/go-mackerel-plugin"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/metricname"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// graphDefs is the plugin's metric contract, on which dashboards and
// monitors are built: every graph and every metric, declared once with
// its unit, the kernel files it reads and how its value is read. The graph
// definitions, the values and the test of the README's table all follow
// from it.
var graphDefs = []graph{
	define("loadavg", "Load Average", mp.UnitFloat, p9stats.SourceSysStat, allCPUs,
		gauge("load", p9stats.LoadAverage)),
	define("cpu", "CPU", mp.UnitPercentage, p9stats.SourceSysStat, cpuTotal, shareFields...),
	define("percpu.#", "CPU per processor", mp.UnitPercentage, p9stats.SourceSysStat, perCPU, shareFields...),
	define("kernel", "Kernel Events per second", mp.UnitFloat, p9stats.SourceSysStat, cpuParts,
		count32("context_switches", func(c p9stats.CPUStat) uint32 { return c.ContextSwitches }),
		count32("interrupts", func(c p9stats.CPUStat) uint32 { return c.Interrupts }),
		count32("syscalls", func(c p9stats.CPUStat) uint32 { return c.Syscalls }),
		count32("page_faults", func(c p9stats.CPUStat) uint32 { return c.PageFaults }),
		count32("tlb_faults", func(c p9stats.CPUStat) uint32 { return c.TLBFaults }),
		count32("tlb_purges", func(c p9stats.CPUStat) uint32 { return c.TLBPurges })),
	define("memory", "Memory", mp.UnitBytes, p9stats.SourceSwap, memory,
		stacked(gauge("used", func(m p9stats.Memory) float64 { return float64(m.Used) })),
		stacked(maybe("reclaim", func(m p9stats.Memory) (float64, bool) { return float64(m.Reclaim), m.HasReclaim })),
		stacked(gauge("free", func(m p9stats.Memory) float64 { return float64(m.Free) })),
		stacked(maybe("kernel", func(m p9stats.Memory) (float64, bool) { return float64(m.Kernel), m.HasKernel })),
		gauge("total", func(m p9stats.Memory) float64 { return float64(m.Total) })),
	define("swap", "Swap", mp.UnitBytes, p9stats.SourceSwap, swapSpace,
		gauge("used", func(p p9stats.Pages) float64 { return float64(p.Used) }),
		gauge("total", func(p p9stats.Pages) float64 { return float64(p.Total) })),
	define("pool.#", "Kernel Pool", mp.UnitBytes, p9stats.SourceSwap, pools,
		maybe("allocated", func(p p9stats.Pool) (float64, bool) {
			if p.Allocated == nil {
				return 0, false
			}
			return float64(*p.Allocated), true
		}),
		gauge("size", func(p p9stats.Pool) float64 { return float64(p.Size) }),
		gauge("max", func(p p9stats.Pool) float64 { return float64(p.Max) })),
	define("interface.#", "Interface Packets per second", mp.UnitFloat, p9stats.SourceEther, ethers,
		count64("in_packets", func(e p9stats.Ether) uint64 { return e.Stats.InPackets }),
		count64("out_packets", func(e p9stats.Ether) uint64 { return e.Stats.OutPackets })),
	// The drivers' byte counters, of their own width; a reading of
	// other counters than the last (an e1000 whose Total lines appeared)
	// is another part, so that no rate is taken between the two.
	define("interface_bytes.#", "Interface Traffic", mp.UnitBytesPerSecond, p9stats.SourceEther, etherBytes,
		field[p9stats.Ether]{name: "in_bytes", counter: func(e p9stats.Ether) (uint64, uint) { return e.IfStats.InOctets, e.IfStats.Octets.Bits }},
		field[p9stats.Ether]{name: "out_bytes", counter: func(e p9stats.Ether) (uint64, uint) { return e.IfStats.OutOctets, e.IfStats.Octets.Bits }}),
	define("interface_errors.#", "Interface Errors per second", mp.UnitFloat, p9stats.SourceEther, ethers,
		count32("crc", func(e p9stats.Ether) uint32 { return e.Stats.CRCErrors }),
		count32("overflows", func(e p9stats.Ether) uint32 { return e.Stats.Overflows }),
		count32("soft_overflows", func(e p9stats.Ether) uint32 { return e.Stats.SoftOverflows }),
		count32("framing", func(e p9stats.Ether) uint32 { return e.Stats.FramingErrors }),
		count32("buffer", func(e p9stats.Ether) uint32 { return e.Stats.BufferErrors }),
		count32("output", func(e p9stats.Ether) uint32 { return e.Stats.OutputErrors })),
	define("ip", "IP Datagrams per second", mp.UnitFloat, p9stats.SourceIP, ipStats,
		count64("in_receives", func(s p9stats.IPStats) uint64 { return s.InReceives }),
		count64("in_delivers", func(s p9stats.IPStats) uint64 { return s.InDelivers }),
		count64("out_requests", func(s p9stats.IPStats) uint64 { return s.OutRequests }),
		count64("in_discards", func(s p9stats.IPStats) uint64 { return s.InDiscards }),
		count64("out_discards", func(s p9stats.IPStats) uint64 { return s.OutDiscards }),
		count64("in_hdr_errors", func(s p9stats.IPStats) uint64 { return s.InHdrErrors }),
		count64("in_addr_errors", func(s p9stats.IPStats) uint64 { return s.InAddrErrors }),
		count64("out_no_routes", func(s p9stats.IPStats) uint64 { return s.OutNoRoutes }),
		count64("forw_datagrams", func(s p9stats.IPStats) uint64 { return s.ForwDatagrams })),
	define("tcp", "TCP Segments and Connections per second", mp.UnitFloat, p9stats.SourceTCP, tcpStats,
		count64("active_opens", func(s p9stats.TCPStats) uint64 { return s.ActiveOpens }),
		count64("passive_opens", func(s p9stats.TCPStats) uint64 { return s.PassiveOpens }),
		count64("estab_resets", func(s p9stats.TCPStats) uint64 { return s.EstabResets }),
		count64("in_segs", func(s p9stats.TCPStats) uint64 { return s.InSegs }),
		count64("out_segs", func(s p9stats.TCPStats) uint64 { return s.OutSegs }),
		count64("retrans_segs", func(s p9stats.TCPStats) uint64 { return s.RetransSegs }),
		count64("in_errs", func(s p9stats.TCPStats) uint64 { return s.InErrs }),
		count64("out_rsts", func(s p9stats.TCPStats) uint64 { return s.OutRsts })),
	define("tcp_established", "TCP Established Connections", mp.UnitInteger, p9stats.SourceTCP, tcpStats,
		gauge("established", func(s p9stats.TCPStats) float64 { return float64(s.CurrEstab) })),
	define("udp", "UDP Datagrams per second", mp.UnitFloat, p9stats.SourceUDP, udpStats,
		count64("in_datagrams", func(s p9stats.UDPStats) uint64 { return s.InDatagrams }),
		count64("out_datagrams", func(s p9stats.UDPStats) uint64 { return s.OutDatagrams }),
		// C ulongs, kept in 64-bit fields.
		field[p9stats.UDPStats]{name: "no_ports", counter: func(s p9stats.UDPStats) (uint64, uint) { return s.NoPorts, 32 }},
		field[p9stats.UDPStats]{name: "in_errors", counter: func(s p9stats.UDPStats) (uint64, uint) { return s.InErrors, 32 }}),
	define("processes", "Processes", mp.UnitInteger, p9stats.SourceProcs, processes, processFields()...),
	define("uptime", "Uptime", mp.UnitFloat, p9stats.SourceTime, uptime,
		gauge("seconds", func(s float64) float64 { return s })),
	define("filesystem.#", "File Server Space", mp.UnitBytes, 0, fileServers,
		gauge("size", func(s fsspace.Space) float64 { return float64(s.Size) }),
		gauge("used", func(s fsspace.Space) float64 { return float64(s.Used) })),
	define("temperature.#", "CPU Temperature", mp.UnitFloat, p9stats.SourceCPUTemp, temperatures,
		gauge("celsius", func(t p9stats.Temperature) float64 { return t.Celsius })),
	define("battery", "Battery", mp.UnitPercentage, p9stats.SourceBattery, battery,
		gauge("percent", func(b p9stats.Battery) float64 { return b.Percent })),
}

// shares is a CPU's time, or the sum of every CPU's, in percent.
type shares struct{ busy, interrupt, idle float64 }

var shareFields = []field[shares]{
	stacked(gauge("busy", func(s shares) float64 { return s.busy })),
	stacked(gauge("interrupt", func(s shares) float64 { return s.interrupt })),
	stacked(gauge("idle", func(s shares) float64 { return s.idle })),
}

// processFields are the counts of processes by class, in p9stats's order.
func processFields() []field[procCounts] {
	var fs []field[procCounts]
	for _, c := range p9stats.StateClasses {
		fs = append(fs, stacked(gauge(c.String(), func(n procCounts) float64 { return float64(n[c]) })))
	}
	return fs
}

// The instances of the graphs, from what a run read, each given to yield.

func allCPUs(r *reading, yield func(inst[[]p9stats.CPUStat])) {
	if len(r.snap.CPUs) > 0 {
		yield(inst[[]p9stats.CPUStat]{v: r.snap.CPUs})
	}
}

func cpuTotal(r *reading, yield func(inst[shares])) {
	var sum shares
	for _, c := range r.snap.CPUs {
		busy, intr, idle := c.Shares()
		sum.busy += busy
		sum.interrupt += intr
		sum.idle += idle
	}
	if len(r.snap.CPUs) > 0 {
		yield(inst[shares]{v: sum})
	}
}

func perCPU(r *reading, yield func(inst[shares])) {
	for _, c := range r.snap.CPUs {
		busy, intr, idle := c.Shares()
		yield(inst[shares]{seg: cpuID(c), v: shares{busy, intr, idle}})
	}
}

// cpuParts are the CPUs' counters, summed into one rate of each.
func cpuParts(r *reading, yield func(inst[p9stats.CPUStat])) {
	for _, c := range r.snap.CPUs {
		yield(inst[p9stats.CPUStat]{part: cpuID(c), group: "kernel", v: c})
	}
}

func cpuID(c p9stats.CPUStat) string { return strconv.FormatUint(uint64(c.ID), 10) }

func memory(r *reading, yield func(inst[p9stats.Memory])) {
	if r.snap.Swap != nil {
		yield(inst[p9stats.Memory]{v: r.snap.Swap.Memory()})
	}
}

func swapSpace(r *reading, yield func(inst[p9stats.Pages])) {
	if r.snap.Swap == nil {
		return
	}
	if used, total, ok := r.snap.Swap.SwapBytes(); ok {
		yield(inst[p9stats.Pages]{v: p9stats.Pages{Used: used, Total: total}})
	}
}

func pools(r *reading, yield func(inst[p9stats.Pool])) {
	if r.snap.Swap != nil {
		for _, p := range r.snap.Swap.Pools {
			yield(inst[p9stats.Pool]{seg: metricname.Segment(p.Name), v: p})
		}
	}
}

func ethers(r *reading, yield func(inst[p9stats.Ether])) {
	for _, e := range r.snap.Ethers {
		dev := metricname.Segment(e.Name)
		yield(inst[p9stats.Ether]{seg: dev, group: "interface " + dev, v: e})
	}
}

func etherBytes(r *reading, yield func(inst[p9stats.Ether])) {
	ethers(r, func(in inst[p9stats.Ether]) {
		if is := in.v.IfStats; is.HasOctets {
			in.part, in.group = is.Octets.Name, in.group+" bytes"
			yield(in)
		}
	})
}

func ipStats(r *reading, yield func(inst[p9stats.IPStats]))   { whole(r.snap.IP, "ip", yield) }
func tcpStats(r *reading, yield func(inst[p9stats.TCPStats])) { whole(r.snap.TCP, "tcp", yield) }
func udpStats(r *reading, yield func(inst[p9stats.UDPStats])) { whole(r.snap.UDP, "udp", yield) }

// whole is the single instance of a file read in full, whose counters
// reset together.
func whole[T any](v *T, group string, yield func(inst[T])) {
	if v != nil {
		yield(inst[T]{group: group, v: *v})
	}
}

// procCounts counts processes by class.
type procCounts []int

func processes(r *reading, yield func(inst[procCounts])) {
	if len(r.snap.Procs) == 0 {
		return
	}
	n := make(procCounts, len(p9stats.StateClasses))
	for _, p := range r.snap.Procs {
		if int(p.Class) < len(n) {
			n[p.Class]++
		}
	}
	yield(inst[procCounts]{v: n})
}

func uptime(r *reading, yield func(inst[float64])) {
	if r.snap.Time == nil {
		return
	}
	if u, ok := r.snap.Time.Uptime(); ok {
		yield(inst[float64]{v: u.Seconds()})
	}
}

func fileServers(r *reading, yield func(inst[fsspace.Space])) {
	for _, res := range r.spaces {
		for _, s := range res.Spaces {
			yield(inst[fsspace.Space]{seg: s.Segment, v: s})
		}
	}
}

func temperatures(r *reading, yield func(inst[p9stats.Temperature])) {
	for _, t := range r.snap.Temps {
		yield(inst[p9stats.Temperature]{seg: strconv.Itoa(t.Sensor), v: t})
	}
}

func battery(r *reading, yield func(inst[p9stats.Battery])) {
	if len(r.snap.Batteries) > 0 {
		yield(inst[p9stats.Battery]{v: r.snap.Batteries[0]})
	}
}

// The machinery of the declarations.

// A graph is one graph of the contract. Its name is relative to the
// prefix; # is the wildcard segment of a graph with an instance per CPU,
// device, pool, server or sensor.
type graph struct {
	name, label, unit string
	// source is the kernel files it reads; 0 for the file servers'
	// consoles.
	source  p9stats.Source
	rate    bool // its metrics are per-second rates of counters
	metrics []mp.Metrics
	// read adds the graph's gauges, or its counters, to out.
	read func(r *reading, out *metricValues)
}

// reading is what a run read: the kernel's files and the file servers'
// answers.
type reading struct {
	snap   *p9stats.Snapshot
	spaces []fsspace.Result
}

// metricValues are a reading's gauges, by name relative to the prefix, and
// counters.
type metricValues struct {
	gauges   map[string]float64
	counters []counter
}

// inst is one instance of a graph: the segment that takes the place of #,
// and for counters the part of a metric summed over parts (a CPU) and the
// group of counters that reset together.
type inst[T any] struct {
	seg, part, group string
	v                T
}

// field is one metric of a graph and how it is read: a gauge, present when
// ok, or a counter of the given width in bits.
type field[T any] struct {
	name    string
	stacked bool
	gauge   func(T) (float64, bool)
	counter func(T) (uint64, uint)
}

func gauge[T any](name string, f func(T) float64) field[T] {
	return field[T]{name: name, gauge: func(v T) (float64, bool) { return f(v), true }}
}

func maybe[T any](name string, f func(T) (float64, bool)) field[T] {
	return field[T]{name: name, gauge: f}
}

func stacked[T any](f field[T]) field[T] {
	f.stacked = true
	return f
}

// count32 is a C long or ulong of the kernel, which wraps at 2^32.
func count32[T any](name string, f func(T) uint32) field[T] {
	return field[T]{name: name, counter: func(v T) (uint64, uint) { return uint64(f(v)), 32 }}
}

func count64[T any](name string, f func(T) uint64) field[T] {
	return field[T]{name: name, counter: func(v T) (uint64, uint) { return f(v), 64 }}
}

// define declares a graph whose instances each yields and whose metrics
// fields read.
func define[T any](name, label, unit string, source p9stats.Source, each func(*reading, func(inst[T])), fields ...field[T]) graph {
	g := graph{name: name, label: label, unit: unit, source: source, rate: fields[0].counter != nil}
	for _, f := range fields {
		if (f.counter != nil) != g.rate {
			panic("mpplan9: graph " + name + " mixes gauges and rates")
		}
		g.metrics = append(g.metrics, mp.Metrics{Name: f.name, Label: metricLabel(f.name), Stacked: f.stacked})
	}
	g.read = func(r *reading, out *metricValues) {
		each(r, func(in inst[T]) {
			prefix := strings.Replace(name, "#", in.seg, 1) + "."
			for _, f := range fields {
				if f.counter != nil {
					v, bits := f.counter(in.v)
					out.counters = append(out.counters, counter{Metric: prefix + f.name, Part: in.part, Group: in.group, Value: v, Bits: int(bits)})
				} else if v, ok := f.gauge(in.v); ok {
					out.gauges[prefix+f.name] = v
				}
			}
		})
	}
	return g
}

// metricLabel turns a metric name into its legend: in_packets → "In
// Packets".
func metricLabel(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		switch w {
		case "tlb", "ip", "tcp", "udp", "crc":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// The sources a collection reads, and those that hold counters, which are
// read again when rates must be measured within the run: the time too,
// whose uptime tells a reboot.
var allSources, counterSources = func() (all, counters p9stats.Source) {
	counters = p9stats.SourceTime
	for _, g := range graphDefs {
		all |= g.source
		if g.rate {
			counters |= g.source
		}
	}
	return all | counters, counters
}()

// graphs returns the graph definitions, keyed relative to the prefix, with
// labels that begin with labelPrefix.
func graphs(labelPrefix string) map[string]mp.Graphs {
	out := make(map[string]mp.Graphs, len(graphDefs))
	for _, g := range graphDefs {
		out[g.name] = mp.Graphs{Label: labelPrefix + " " + g.label, Unit: g.unit, Metrics: g.metrics}
	}
	return out
}

// gaugesOf returns the gauges of a reading.
func gaugesOf(r *reading) map[string]float64 {
	v := metricValues{gauges: map[string]float64{}}
	for _, g := range graphDefs {
		if !g.rate {
			g.read(r, &v)
		}
	}
	return v.gauges
}

// countersOf returns the counters of a snapshot, with when they were read
// and the host's uptime, for computing rates.
func countersOf(snap *p9stats.Snapshot) sample {
	v := metricValues{counters: make([]counter, 0, 64)}
	r := &reading{snap: snap}
	for _, g := range graphDefs {
		if g.rate {
			g.read(r, &v)
		}
	}
	s := sample{Time: snap.Read, Counters: v.counters}
	if snap.Time != nil {
		if u, ok := snap.Time.Uptime(); ok {
			s.Uptime = u.Seconds()
		}
	}
	return s
}
