package p9stats

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"strings"
	"time"
)

// Source names a group of kernel files that a Snapshot reads together.
// Each is declared once, in sources below.
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
	SourceKernel                          // /dev/cputype, sysname, config, build time, $cputype
	SourceDisks                           // /dev/sd*/ctl
	SourceFlavour                         // what tells 9front, 9legacy and Plan 9 apart
	SourceEtherAddrs                      // /net/ether*/addr

	SourceAll = SourceEtherAddrs<<1 - 1
)

// source is what a Snapshot knows of a Source: its name, the files it
// reads (for messages), and how to read them and store the result.
type source struct {
	src   Source
	name  string
	files string
	read  func(FS) (func(*Snapshot), error)
}

// sources declares every Source, in the order of their bits.
var sources = []source{
	{SourceSwap, "swap", "/dev/swap", value(FS.Swap, func(s *Snapshot, v *Swap) { s.Swap = v })},
	{SourceSysStat, "sysstat", "/dev/sysstat", all(FS.SysStat, func(s *Snapshot, v []CPUStat) { s.CPUs = v })},
	{SourceTime, "time", "/dev/time", value(FS.Time, func(s *Snapshot, v *Time) { s.Time = v })},
	{SourceProcs, "procs", "/proc/*/status", all(FS.Procs, func(s *Snapshot, v []ProcStatus) { s.Procs = v })},
	{SourceEther, "ether", "/net/ether*/stats", all(FS.ethers, func(s *Snapshot, v []Ether) { s.Ethers = v })},
	{SourceIP, "ip", "/net/ipifc/stats", value(FS.IPStats, func(s *Snapshot, v *IPStats) { s.IP = v })},
	{SourceTCP, "tcp", "/net/tcp/stats", value(FS.TCPStats, func(s *Snapshot, v *TCPStats) { s.TCP = v })},
	{SourceUDP, "udp", "/net/udp/stats", value(FS.UDPStats, func(s *Snapshot, v *UDPStats) { s.UDP = v })},
	{SourceICMP, "icmp", "/net/icmp/stats", value(FS.ICMPStats, func(s *Snapshot, v *ICMPStats) { s.ICMP = v })},
	{SourceIL, "il", "/net/il/stats", value(FS.ILStats, func(s *Snapshot, v *ILStats) { s.IL = v })},
	{SourceIPInterfaces, "ipifc", "/net/ipifc/*/status", all(FS.IPInterfaces, func(s *Snapshot, v []IPInterface) { s.IPInterfaces = v })},
	{SourceCPUTemp, "cputemp", "/dev/cputemp", all(FS.CPUTemp, func(s *Snapshot, v []Temperature) { s.Temps = v })},
	{SourceBattery, "battery", "/mnt/apm/battery", all(FS.Battery, func(s *Snapshot, v []Battery) { s.Batteries = v })},
	{SourceKernel, "kernel", "/dev/cputype, /dev/sysname and /dev/config", FS.kernel},
	{SourceDisks, "disks", "/dev/sd*/ctl", all(FS.Disks, func(s *Snapshot, v []SDUnit) { s.Disks = v })},
	{SourceFlavour, "flavour", "/dev/drivers, /dev/swap and /dev/time", FS.flavour},
	{SourceEtherAddrs, "etheraddr", "/net/ether*/addr", all(FS.EtherAddrs, func(s *Snapshot, v map[string]string) { s.EtherAddrs = v })},
}

// value stores a source's result only when it was read without error.
func value[T any](get func(FS) (T, error), set func(*Snapshot, *T)) func(FS) (func(*Snapshot), error) {
	return func(p FS) (func(*Snapshot), error) {
		v, err := get(p)
		return func(s *Snapshot) { set(s, ptr(v, err)) }, err
	}
}

// all stores what was read of a source of many files even when some
// failed: one broken /proc/N/status costs only that process.
func all[T any](get func(FS) (T, error), set func(*Snapshot, T)) func(FS) (func(*Snapshot), error) {
	return func(p FS) (func(*Snapshot), error) {
		v, err := get(p)
		return func(s *Snapshot) { set(s, v) }, err
	}
}

func (s Source) String() string {
	var names []string
	for _, d := range sources {
		if s&d.src != 0 {
			names = append(names, d.name)
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
	Config       *KernelConfig // /dev/config; nil when absent
	ObjectType   string        // $cputype, see FS.ObjectType; empty when unknown
	Flavour      Flavour
	FlavourWhy   string            // the evidence that decided Flavour
	EtherAddrs   map[string]string // MAC address by device ("ether0")

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
func (p FS) Snapshot(ctx context.Context, want Source) *Snapshot {
	s := &Snapshot{Read: time.Now(), Sources: want & SourceAll, Errors: map[Source]error{}}
	type result struct {
		src   Source
		apply func(*Snapshot)
		err   error
	}
	n := bits.OnesCount32(uint32(want & SourceAll))
	ch := make(chan result, n) // buffered: late readers never block
	var inTurn []source
	for _, d := range sources {
		if want&d.src == 0 {
			continue
		}
		if p.local && d.src&userLevel == 0 {
			inTurn = append(inTurn, d)
			continue
		}
		go func() {
			apply, err := d.read(p)
			ch <- result{d.src, apply, err}
		}()
	}
	if len(inTurn) > 0 {
		// A local name space's kernel files answer at once: one
		// goroutine reads them in turn.
		go func() {
			for _, d := range inTurn {
				if ctx.Err() != nil {
					return
				}
				apply, err := d.read(p)
				ch <- result{d.src, apply, err}
			}
		}()
	}
	pending := want & SourceAll
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
			for _, d := range sources {
				if pending&d.src != 0 {
					s.Errors[d.src] = fmt.Errorf("p9stats: %s: no answer before the deadline (%w)", d.files, ctx.Err())
				}
			}
			return s
		}
	}
	return s
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

// EtherAddrs reads every ethernet device's MAC address
// (/net/etherN/addr), by device name. A device without the file is left
// out; those that fail otherwise are summed up in the returned
// *FilesError.
func (p FS) EtherAddrs() (map[string]string, error) {
	names, err := p.EtherNames()
	if err != nil {
		return nil, err
	}
	addrs := make([]string, len(names))
	errs := make([]error, len(names))
	p.each(len(names), func(i int) {
		a, err := p.EtherAddr(names[i])
		if err != nil && !IsNotExist(err) {
			errs[i] = err
		}
		addrs[i] = a
	})
	out := map[string]string{}
	for i, n := range names {
		if addrs[i] != "" {
			out[n] = addrs[i]
		}
	}
	return out, sumUp("/net/ether*/addr", len(names), errs)
}

// kernel reads the files that describe the running kernel. The build time
// is required; the others may be absent (no cputype on some ARM kernels,
// no $cputype in a name space read from elsewhere).
func (p FS) kernel() (func(*Snapshot), error) {
	var (
		ct    *CPUType
		name  string
		built time.Time
		cfg   *KernelConfig
		env   string
		errs  [5]error
	)
	p.each(len(errs), func(i int) {
		switch i {
		case 0:
			v, err := p.CPUType()
			ct, errs[i] = ptr(v, err), err
		case 1:
			name, errs[i] = p.SysName()
		case 2:
			built, errs[i] = p.KernelBuildTime()
		case 3:
			v, err := p.Config()
			cfg, errs[i] = ptr(v, err), err
		case 4:
			env, _ = p.Env("cputype")
		}
	})
	var c KernelConfig
	if cfg != nil {
		c = *cfg
	}
	ot, _ := objectType(env, c, errs[3])
	var failed []error
	for i, err := range errs {
		if err != nil && (i == 2 || !IsNotExist(err)) {
			failed = append(failed, err)
		}
	}
	return func(s *Snapshot) {
		s.CPUType, s.SysName, s.KernelBuild, s.Config, s.ObjectType = ct, name, built, cfg, ot
	}, errors.Join(failed...)
}

// flavour tells the kind of Plan 9, as FS.Flavour does.
func (p FS) flavour() (func(*Snapshot), error) {
	f, why, err := p.Flavour()
	return func(s *Snapshot) { s.Flavour, s.FlavourWhy = f, why }, err
}
