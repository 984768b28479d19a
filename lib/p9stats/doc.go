// Package p9stats reads the statistics that Plan 9 kernels serve as text
// files: 9front, 9legacy (including its 64-bit 9k kernel) and Bell Labs
// Plan 9 4th edition.
//
// Each file has a parser that takes the file's bytes, in the file named
// after the kernel source it comes from, and an FS method that reads it
// from a name space, falling back to the kernel's device name when /dev or
// /net lacks it (9front's /lib/namespace binds only #c, #¤ and #¶ on /dev):
//
//	File                      Parser             FS method        Type
//	/dev/swap      (#¶, #c)   ParseSwap          Swap             Swap
//	/dev/sysstat   (#c)       ParseSysStat       SysStat          []CPUStat
//	/dev/time      (#c)       ParseTime          Time             Time
//	/dev/cputype   (#P)       ParseCPUType       CPUType          CPUType
//	/dev/sysname   (#c)       ParseSysName       SysName          string
//	/dev/config    (#c)       ParseConfig        Config           KernelConfig
//	/dev/drivers   (#c)       ParseDrivers       Drivers          []Driver
//	$cputype, /dev/config     -                  ObjectType       string
//	stat #c/sysstat           -                  KernelBuildTime  time.Time
//	/proc/N/status (#p)       ParseProcStatus    Procs            []ProcStatus
//	/proc/N/fd                ParseFd            Fds              ProcFds
//	/proc/N/noteid            ParseNoteID        NoteID           int
//	/net/etherN/stats  (#lN)  ParseEtherStats    EtherStats       EtherStats
//	/net/etherN/ifstats       ParseIfStats       EtherIfStats     IfStats
//	/net/etherN/addr          ParseEtherAddr     EtherAddr(s)     string
//	/net/ipifc/N/status (#I)  ParseIPInterface   IPInterfaces     []IPInterface
//	/net/ipifc/stats          ParseIPStats       IPStats          IPStats
//	/net/tcp/stats            ParseTCPStats      TCPStats         TCPStats
//	/net/udp/stats            ParseUDPStats      UDPStats         UDPStats
//	/net/icmp/stats           ParseICMPStats     ICMPStats        ICMPStats
//	/net/il/stats (9front)    ParseILStats       ILStats          ILStats
//	#S/sdctl                  ParseSDCtl         SDControllers    []SDController
//	#S/sdXX/ctl, stat parts   ParseSDUnitCtl     Disks            []SDUnit
//	/dev/cputemp (#P, acpi)   ParseCPUTemp       CPUTemp          []Temperature
//	/mnt/apm/battery, …       ParseBattery       Battery          []Battery
//	/dev/kmesg     (#c)       -                  KernelMessages   []byte
//
// File-server space is not in any file: it is the reply to a console
// command, parsed by ParseCwfsStatw, ParseHjfsDf, ParseGefsDf and
// ParseFossilDf, or as it arrives by a SpaceReply. FS.Flavour tells the
// kinds of Plan 9 apart, and FS.Snapshot reads many sources at once,
// concurrently, which matters over 9P.
//
// The package also owns what the files mean beyond their syntax: which
// ethernet drivers count bytes and how wide their counters are
// (ByteCounters, IfStats.Octets), a CPU's clamped shares of its time
// (CPUStat.Shares), how a counter advanced across a wrap (Delta). And it
// writes the control files of /proc that end a process or its note group
// (FS.PostNote, FS.PostNoteGroup, FS.Kill), so that nothing else in the
// module opens a kernel file.
//
// A file that is absent yields an error for which IsNotExist is true; that
// is normal (a 9legacy kernel has no reclaim line, a Raspberry Pi no
// cputype, a /lib/namespace session no #S). Malformed content yields a
// *ParseError naming the file, the line and what was wrong; the failures
// among the many files of one kind (/proc/*/status) are summed up in one
// *FilesError.
//
// When nothing can be read at all, FS.CheckPlan9 tells why: a
// *NamespaceError when the name space is not a Plan 9 kernel's, such as a
// --root directory that is missing or empty (a dropped mount) or a Linux
// machine's own /. Given the Snapshot just read, it costs nothing more on
// a Plan 9 name space.
//
// Plan 9's long is 32 bits on every port, amd64 included, so many kernel
// counters wrap at 2^32. Those fields are uint32 here, or say so in their
// documentation; Delta takes the difference of two readings.
//
// The kernel generates a device file anew on every read and slices it at
// the file offset, so files must be read in one large read; the name
// spaces in package ns do that.
package p9stats
