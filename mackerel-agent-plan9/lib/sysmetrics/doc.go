// Package sysmetrics computes, from what Plan 9 kernels serve, the system
// metrics and host specs that upstream mackerel-agent posts under
// Mackerel's own names, so that a Plan 9 host fills the built-in graphs
// and the host list as a Linux host does.
//
// Everything is read through package p9stats from a name space (the
// host's own, or one reached over 9P), and the file servers' space
// through package fsspace, as mackerel-plugin-plan9 reads them:
//
//	loadavg1, loadavg5, loadavg15     /dev/sysstat load, every 5 s, decayed as Unix does
//	cpu.idle, cpu.irq .percentage     /dev/sysstat idle and interrupt time, every 5 s
//	cpu.user, cpu.system .percentage  the busy rest, split by the times in /proc/*/status
//	memory.*                          /dev/swap
//	interface.*.{rx,tx}Bytes.delta    /net/etherN/ifstats, for drivers that count bytes
//	filesystem.*.{size,used}          the file servers' consoles (cwfs, hjfs, gefs, fossil)
//	host specs                        /dev/sysname, sysstat, cputype, config, swap,
//	                                  #S/sd*/ctl, /net/ipifc/*/status, /net/etherN/addr
//
// Names that Plan 9 has no source for (cpu.nice, iowait, softirq, steal
// and guest; memory.swap_cached and buffers; disk.*) are never posted, nor
// are memory.cached and memory.free, which upstream posts only in place of
// memory.mem_available. The README's "System metrics of
// mackerel-agent-plan9" section has the table of every upstream name, its
// unit and how it is derived.
package sysmetrics
