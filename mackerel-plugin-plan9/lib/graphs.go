package mpplan9

import (
	"strings"

	mp "github.com/mackerelio/go-mackerel-plugin"
)

// Unit names of Mackerel's graph definitions. Mackerel has no unit for
// events per second; rates use float and say "per second" in the label.
const (
	unitFloat      = mp.UnitFloat
	unitInteger    = mp.UnitInteger
	unitPercentage = mp.UnitPercentage
	unitBytes      = mp.UnitBytes
	unitBytesSec   = mp.UnitBytesPerSecond
)

func metrics(stacked bool, names ...string) []mp.Metrics {
	ms := make([]mp.Metrics, len(names))
	for i, n := range names {
		ms[i] = mp.Metrics{Name: n, Label: label(n), Stacked: stacked}
	}
	return ms
}

// label turns a metric name into its legend: in_packets → "In Packets".
func label(name string) string {
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

var cpuMetrics = []string{"busy", "interrupt", "idle"}

var kernelMetrics = []string{"context_switches", "interrupts", "syscalls", "page_faults", "tlb_faults", "tlb_purges"}

var ifErrorMetrics = []string{"crc", "overflows", "soft_overflows", "framing", "buffer", "output"}

var ipMetrics = []string{"in_receives", "in_delivers", "out_requests", "in_discards", "out_discards", "in_hdr_errors", "in_addr_errors", "out_no_routes", "forw_datagrams"}

var tcpMetrics = []string{"active_opens", "passive_opens", "estab_resets", "in_segs", "out_segs", "retrans_segs", "in_errs", "out_rsts"}

var udpMetrics = []string{"in_datagrams", "out_datagrams", "no_ports", "in_errors"}

var procMetrics = []string{"running", "ready", "sleeping", "stopped", "broken", "moribund", "new"}

// graphs returns the graph definitions, keyed relative to the prefix, with
// labels that begin with labelPrefix. This is the metric contract that
// dashboards and monitors are built on.
func graphs(labelPrefix string) map[string]mp.Graphs {
	g := func(label, unit string, ms []mp.Metrics) mp.Graphs {
		return mp.Graphs{Label: labelPrefix + " " + label, Unit: unit, Metrics: ms}
	}
	memory := metrics(true, "used", "reclaim", "free", "kernel")
	memory = append(memory, mp.Metrics{Name: "total", Label: "Total"})
	return map[string]mp.Graphs{
		"loadavg":            g("Load Average", unitFloat, metrics(false, "load")),
		"cpu":                g("CPU", unitPercentage, metrics(true, cpuMetrics...)),
		"percpu.#":           g("CPU per processor", unitPercentage, metrics(true, cpuMetrics...)),
		"kernel":             g("Kernel Events per second", unitFloat, metrics(false, kernelMetrics...)),
		"memory":             g("Memory", unitBytes, memory),
		"swap":               g("Swap", unitBytes, metrics(false, "used", "total")),
		"pool.#":             g("Kernel Pool", unitBytes, metrics(false, "allocated", "size", "max")),
		"interface.#":        g("Interface Packets per second", unitFloat, metrics(false, "in_packets", "out_packets")),
		"interface_bytes.#":  g("Interface Traffic", unitBytesSec, metrics(false, "in_bytes", "out_bytes")),
		"interface_errors.#": g("Interface Errors per second", unitFloat, metrics(false, ifErrorMetrics...)),
		"ip":                 g("IP Datagrams per second", unitFloat, metrics(false, ipMetrics...)),
		"tcp":                g("TCP Segments and Connections per second", unitFloat, metrics(false, tcpMetrics...)),
		"tcp_established":    g("TCP Established Connections", unitInteger, metrics(false, "established")),
		"udp":                g("UDP Datagrams per second", unitFloat, metrics(false, udpMetrics...)),
		"processes":          g("Processes", unitInteger, metrics(true, procMetrics...)),
		"uptime":             g("Uptime", unitFloat, metrics(false, "seconds")),
		"filesystem.#":       g("File Server Space", unitBytes, metrics(false, "size", "used")),
		"temperature.#":      g("CPU Temperature", unitFloat, metrics(false, "celsius")),
		"battery":            g("Battery", unitPercentage, metrics(false, "percent")),
	}
}
