package sysmetrics

import "github.com/mackerel-plan9/mackerel-plugin-plan9/internal/metricname"

// Mackerel's names for the system metrics that this package posts, as
// upstream mackerel-agent spells them (metrics/loadavg.go,
// metrics/linux/cpuusage.go, metrics/linux/memory.go, metrics/interface.go,
// metrics/filesystem.go). Only the agent itself may post them.
const (
	nameLoad1  = "loadavg1"
	nameLoad5  = "loadavg5"
	nameLoad15 = "loadavg15"

	nameCPUUser   = "cpu.user.percentage"
	nameCPUSystem = "cpu.system.percentage"
	nameCPUIdle   = "cpu.idle.percentage"
	nameCPUIRQ    = "cpu.irq.percentage"

	nameMemTotal     = "memory.total"
	nameMemUsed      = "memory.used"
	nameMemAvailable = "memory.mem_available"
	nameSwapTotal    = "memory.swap_total"
	nameSwapFree     = "memory.swap_free"
)

var loadNames = [3]string{nameLoad1, nameLoad5, nameLoad15}

// interfaceNames are the names of one ethernet device's byte rates.
func interfaceNames(dev string) (rx, tx string) {
	p := "interface." + metricname.Segment(dev) + "."
	return p + "rxBytes.delta", p + "txBytes.delta"
}

// filesystemNames are the names of one file system's space; segment is
// fsspace's name for it (the console's name, "cwfs" for /srv/cwfs.cmd).
func filesystemNames(segment string) (size, used string) {
	p := "filesystem." + segment + "."
	return p + "size", p + "used"
}
