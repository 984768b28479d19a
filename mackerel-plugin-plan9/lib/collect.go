package mpplan9

import (
	"strconv"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// The sources a collection reads, and those that hold counters, which are
// read again when rates must be measured within the run.
const (
	counterSources = p9stats.SourceSysStat | p9stats.SourceTime | p9stats.SourceEther |
		p9stats.SourceIP | p9stats.SourceTCP | p9stats.SourceUDP
	gaugeSources = p9stats.SourceSwap | p9stats.SourceProcs | p9stats.SourceCPUTemp | p9stats.SourceBattery
	allSources   = counterSources | gaugeSources
)

// gauges returns the metrics that need no previous sample.
func gauges(s *p9stats.Snapshot) map[string]float64 {
	m := map[string]float64{}
	if len(s.CPUs) > 0 {
		m["loadavg.load"] = p9stats.LoadAverage(s.CPUs)
		var sum [3]float64
		for _, c := range s.CPUs {
			// The kernel's idle figure can overflow past 100 on fast
			// processors; keep the three parts within 0..100.
			idle := float64(min(c.IdlePercent, 100))
			intr := float64(min(c.InterruptPercent, 100-min(c.IdlePercent, 100)))
			busy := 100 - idle - intr
			id := "percpu." + strconv.FormatUint(uint64(c.ID), 10) + "."
			for i, v := range [3]float64{busy, intr, idle} {
				m[id+cpuMetrics[i]] = v
				sum[i] += v
			}
		}
		for i, v := range sum {
			m["cpu."+cpuMetrics[i]] = v
		}
	}
	if s.Swap != nil {
		mem := s.Swap.Memory()
		m["memory.used"] = float64(mem.Used)
		m["memory.free"] = float64(mem.Free)
		m["memory.total"] = float64(mem.Total)
		if mem.HasReclaim {
			m["memory.reclaim"] = float64(mem.Reclaim)
		}
		if mem.HasKernel {
			m["memory.kernel"] = float64(mem.Kernel)
		}
		if used, total, ok := s.Swap.SwapBytes(); ok {
			m["swap.used"] = float64(used)
			m["swap.total"] = float64(total)
		}
		for _, p := range s.Swap.Pools {
			n := "pool." + fsspace.Sanitize(p.Name) + "."
			if p.Allocated != nil {
				m[n+"allocated"] = float64(*p.Allocated)
			}
			m[n+"size"] = float64(p.Size)
			m[n+"max"] = float64(p.Max)
		}
	}
	if s.TCP != nil {
		m["tcp_established.established"] = float64(s.TCP.CurrEstab)
	}
	if len(s.Procs) > 0 {
		for _, c := range p9stats.StateClasses {
			m["processes."+c.String()] = 0
		}
		for _, p := range s.Procs {
			m["processes."+p.Class.String()]++
		}
	}
	if s.Time != nil {
		if u, ok := s.Time.Uptime(); ok {
			m["uptime.seconds"] = u.Seconds()
		}
	}
	for _, t := range s.Temps {
		m["temperature."+strconv.Itoa(t.Sensor)+".celsius"] = t.Celsius
	}
	if len(s.Batteries) > 0 {
		m["battery.percent"] = s.Batteries[0].Percent
	}
	return m
}

// counters returns the raw counters of a snapshot, with when they were
// read and the host's uptime, for computing rates.
func counters(s *p9stats.Snapshot) sample {
	out := sample{Time: s.Read}
	if s.Time != nil {
		if u, ok := s.Time.Uptime(); ok {
			out.Uptime = u.Seconds()
		}
	}
	add := func(metric, part, group string, v uint64, bits int) {
		out.Counters = append(out.Counters, counter{Metric: metric, Part: part, Group: group, Value: v, Bits: bits})
	}
	for _, c := range s.CPUs {
		part := strconv.FormatUint(uint64(c.ID), 10)
		for i, v := range [6]uint32{c.ContextSwitches, c.Interrupts, c.Syscalls, c.PageFaults, c.TLBFaults, c.TLBPurges} {
			add("kernel."+kernelMetrics[i], part, "kernel", uint64(v), 32)
		}
	}
	for _, e := range s.Ethers {
		dev := fsspace.Sanitize(e.Name)
		g := "interface " + dev
		add("interface."+dev+".in_packets", "", g, e.Stats.InPackets, 64)
		add("interface."+dev+".out_packets", "", g, e.Stats.OutPackets, 64)
		for i, v := range [6]uint32{e.Stats.CRCErrors, e.Stats.Overflows, e.Stats.SoftOverflows, e.Stats.FramingErrors, e.Stats.BufferErrors, e.Stats.OutputErrors} {
			add("interface_errors."+dev+"."+ifErrorMetrics[i], "", g, uint64(v), 32)
		}
		if e.IfStats.HasOctets {
			add("interface_bytes."+dev+".in_bytes", "", g+" bytes", e.IfStats.InOctets, 64)
			add("interface_bytes."+dev+".out_bytes", "", g+" bytes", e.IfStats.OutOctets, 64)
		}
	}
	if ip := s.IP; ip != nil {
		for i, v := range []uint64{ip.InReceives, ip.InDelivers, ip.OutRequests, ip.InDiscards, ip.OutDiscards, ip.InHdrErrors, ip.InAddrErrors, ip.OutNoRoutes, ip.ForwDatagrams} {
			add("ip."+ipMetrics[i], "", "ip", v, 64)
		}
	}
	if t := s.TCP; t != nil {
		for i, v := range []uint64{t.ActiveOpens, t.PassiveOpens, t.EstabResets, t.InSegs, t.OutSegs, t.RetransSegs, t.InErrs, t.OutRsts} {
			add("tcp."+tcpMetrics[i], "", "tcp", v, 64)
		}
	}
	if u := s.UDP; u != nil {
		add("udp.in_datagrams", "", "udp", u.InDatagrams, 64)
		add("udp.out_datagrams", "", "udp", u.OutDatagrams, 64)
		add("udp.no_ports", "", "udp", u.NoPorts, 32)
		add("udp.in_errors", "", "udp", u.InErrors, 32)
	}
	return out
}
