package p9stats

import (
	"context"
	"fmt"
	"io/fs"
	"math/bits"
	"strings"
	"time"
)

// Source names a group of kernel files that a Snapshot reads together.
type Source uint32

const (
	SourceSwap         Source = 1 << iota // /dev/swap
	SourceSysStat                         // /dev/sysstat
	SourceTime                            // /dev/time
	SourceProcs                           // /proc/*/status
	SourceEther                           // /net/ether*/stats, ifstats
	SourceIP                              // /net/ipifc/stats
	SourceTCP                             // /net/tcp/stats
	SourceUDP                             // /net/udp/stats
	SourceICMP                            // /net/icmp/stats
	SourceIL                              // /net/il/stats
	SourceIPInterfaces                    // /net/ipifc/*/status
	SourceCPUTemp                         // /dev/cputemp
	SourceBattery                         // battery files
	SourceKernel                          // /dev/cputype, /dev/sysname, build time
	SourceDisks                           // /dev/sd*/ctl

	SourceAll = SourceDisks<<1 - 1
)

var sourceNames = []string{"swap", "sysstat", "time", "procs", "ether", "ip", "tcp", "udp", "icmp", "il", "ipifc", "cputemp", "battery", "kernel", "disks"}

// sourceFiles says which files each source reads, for messages.
var sourceFiles = []string{"/dev/swap", "/dev/sysstat", "/dev/time", "/proc/*/status", "/net/ether*/stats", "/net/ipifc/stats",
	"/net/tcp/stats", "/net/udp/stats", "/net/icmp/stats", "/net/il/stats", "/net/ipifc/*/status", "/dev/cputemp",
	"/mnt/apm/battery", "/dev/cputype and /dev/sysname", "/dev/sd*/ctl"}

func (s Source) String() string {
	var names []string
	for i, n := range sourceNames {
		if s&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Ether is one ethernet device's statistics.
type Ether struct {
	Name    string
	Stats   EtherStats
	IfStats IfStats // empty when the driver has no ifstats
}

// Snapshot is one reading of a name space's statistics. A field is nil (or
// empty) when its source was not asked for, is absent from the name space,
// or failed; Errors says which.
type Snapshot struct {
	Swap         *Swap
	CPUs         []CPUStat
	Time         *Time
	Procs        []ProcStatus
	Ethers       []Ether
	IP           *IPStats
	TCP          *TCPStats
	UDP          *UDPStats
	ICMP         *ICMPStats
	IL           *ILStats
	IPInterfaces []IPInterface
	Temps        []Temperature
	Batteries    []Battery
	CPUType      *CPUType
	SysName      string
	KernelBuild  time.Time

	Disks []SDUnit

	// Read is when the snapshot was started, by the local clock.
	Read time.Time
	// Sources are the sources that were asked for.
	Sources Source
	// Errors holds, for each source that could not be read in full, why.
	// For a source whose files are absent, IsNotExist(err) is true. A
	// source can have both results and an error: one broken
	// /proc/N/status costs only that process.
	Errors map[Source]error
}

// userLevel are the sources whose files programs may serve rather than
// the kernel (aux/acpi's cputemp, aux/apm's battery), and so may hang.
const userLevel = SourceCPUTemp | SourceBattery

// Snapshot reads the given sources concurrently and returns when all are
// read or ctx is done, whichever comes first; sources not finished by then
// have an error wrapping ctx.Err(). In a local name space (see NewFS), the
// sources of the kernel's files are read in turn, by one goroutine, and
// those of user-level servers each by one of its own.
func (p FS) Snapshot(ctx context.Context, sources Source) *Snapshot {
	s := &Snapshot{Read: time.Now(), Sources: sources & SourceAll, Errors: map[Source]error{}}
	type result struct {
		src   Source
		apply func(*Snapshot)
		err   error
	}
	n := bits.OnesCount32(uint32(sources & SourceAll))
	ch := make(chan result, n) // buffered: late readers never block
	var inTurn []Source
	for i := range sourceNames {
		src := Source(1) << i
		if sources&src == 0 {
			continue
		}
		if p.local && src&userLevel == 0 {
			inTurn = append(inTurn, src)
			continue
		}
		go func() {
			apply, err := p.readSource(src)
			ch <- result{src, apply, err}
		}()
	}
	if len(inTurn) > 0 {
		// A local name space's kernel files answer at once: one
		// goroutine reads them in turn.
		go func() {
			for _, src := range inTurn {
				if ctx.Err() != nil {
					return
				}
				apply, err := p.readSource(src)
				ch <- result{src, apply, err}
			}
		}()
	}
	pending := sources & SourceAll
	take := func(r result) {
		pending &^= r.src
		if r.apply != nil {
			r.apply(s)
		}
		if r.err != nil {
			s.Errors[r.src] = r.err
		}
	}
	for pending != 0 {
		select {
		case r := <-ch:
			take(r)
		case <-ctx.Done():
			// What was read by then counts, even if it was not taken yet.
			for drained := false; !drained && pending != 0; {
				select {
				case r := <-ch:
					take(r)
				default:
					drained = true
				}
			}
			for i := range sourceNames {
				if src := Source(1) << i; pending&src != 0 {
					s.Errors[src] = fmt.Errorf("p9stats: %s: no answer before the deadline (%w)", sourceFiles[i], ctx.Err())
				}
			}
			return s
		}
	}
	return s
}

// readSource reads one source and returns how to store it.
func (p FS) readSource(src Source) (func(*Snapshot), error) {
	switch src {
	case SourceSwap:
		v, err := p.Swap()
		return func(s *Snapshot) { s.Swap = ptr(v, err) }, err
	case SourceSysStat:
		v, err := p.SysStat()
		return func(s *Snapshot) { s.CPUs = v }, err
	case SourceTime:
		v, err := p.Time()
		return func(s *Snapshot) { s.Time = ptr(v, err) }, err
	case SourceProcs:
		v, err := p.Procs()
		return func(s *Snapshot) { s.Procs = v }, err
	case SourceEther:
		v, err := p.ethers()
		return func(s *Snapshot) { s.Ethers = v }, err
	case SourceIP:
		v, err := p.IPStats()
		return func(s *Snapshot) { s.IP = ptr(v, err) }, err
	case SourceTCP:
		v, err := p.TCPStats()
		return func(s *Snapshot) { s.TCP = ptr(v, err) }, err
	case SourceUDP:
		v, err := p.UDPStats()
		return func(s *Snapshot) { s.UDP = ptr(v, err) }, err
	case SourceICMP:
		v, err := p.ICMPStats()
		return func(s *Snapshot) { s.ICMP = ptr(v, err) }, err
	case SourceIL:
		v, err := p.ILStats()
		return func(s *Snapshot) { s.IL = ptr(v, err) }, err
	case SourceIPInterfaces:
		v, err := p.IPInterfaces()
		return func(s *Snapshot) { s.IPInterfaces = v }, err
	case SourceCPUTemp:
		v, err := p.CPUTemp()
		return func(s *Snapshot) { s.Temps = v }, err
	case SourceBattery:
		v, err := p.Battery()
		return func(s *Snapshot) { s.Batteries = v }, err
	case SourceKernel:
		return p.kernel()
	case SourceDisks:
		v, err := p.Disks()
		return func(s *Snapshot) { s.Disks = v }, err
	}
	return nil, fmt.Errorf("p9stats: unknown source %d", src)
}

func ptr[T any](v T, err error) *T {
	if err != nil {
		return nil
	}
	return &v
}

// ethers reads every ethernet device's stats and ifstats concurrently. A
// device whose stats fail is left out; a missing or unreadable ifstats
// only costs its byte counters.
func (p FS) ethers() ([]Ether, error) {
	names, err := p.EtherNames()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("p9stats: no ether devices: %w", fs.ErrNotExist)
	}
	out := make([]Ether, len(names))
	errs := make([]error, len(names))
	ok := make([]bool, len(names))
	p.each(2*len(names), func(j int) {
		i, n := j/2, names[j/2]
		if j%2 == 0 {
			st, err := p.EtherStats(n)
			out[i].Name, out[i].Stats, ok[i], errs[i] = n, st, err == nil, err
		} else if is, err := p.EtherIfStats(n); err == nil {
			out[i].IfStats = is
		}
	})
	var es []Ether
	for i := range out {
		if ok[i] {
			es = append(es, out[i])
		}
	}
	return es, sumUp("/net/ether*/stats", len(names), errs)
}

// kernel reads the files that describe the running kernel; only the build
// time is required.
func (p FS) kernel() (func(*Snapshot), error) {
	var (
		ct    *CPUType
		name  string
		built time.Time
		err   error
	)
	p.each(3, func(i int) {
		switch i {
		case 0:
			v, e := p.CPUType()
			ct = ptr(v, e)
		case 1:
			name, _ = p.SysName()
		case 2:
			built, err = p.KernelBuildTime()
		}
	})
	return func(s *Snapshot) { s.CPUType, s.SysName, s.KernelBuild = ct, name, built }, err
}
