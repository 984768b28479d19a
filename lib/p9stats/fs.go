package p9stats

import (
	"errors"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// FS reads the kernel's statistics from a name space. The zero value is not
// usable; call NewFS.
type FS struct {
	fsys fs.FS
	// sem bounds how many files are read at once, so that a 9P connection
	// carries many requests in flight without an unbounded number.
	sem chan struct{}
	// local is true for a name space on a local disk or the kernel's own
	// (ns.Local): the files of one source are then read one after
	// another, which there is faster than a goroutine for each.
	local bool
}

// MaxConcurrentReads is how many files an FS reads at once. It is large
// enough that the /proc of a busy host costs one round of requests over 9P.
const MaxConcurrentReads = 256

// NewFS returns an FS reading fsys. If fsys implements fs.ReadFileFS (as
// every ns.FS does), its ReadFile must follow the one-large-read rule of
// package ns; otherwise files are opened and read that way here.
//
// The many files of one source, such as every /proc/N/status, are read
// concurrently, unless fsys says with ns.Local that it is local.
func NewFS(fsys fs.FS) FS {
	l, ok := fsys.(ns.Local)
	return FS{fsys: fsys, sem: make(chan struct{}, MaxConcurrentReads), local: ok && l.Local()}
}

// each calls f(i) for i from 0 to n-1: by a fixed pool of at most
// MaxConcurrentReads goroutines, or one after another in a local name
// space. It returns when all have returned. A pool, not a goroutine per
// file: a listing of tens of thousands of processes must not cost as many
// goroutines and their stacks.
func (p FS) each(n int, f func(i int)) {
	if p.local || n == 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, MaxConcurrentReads) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// NewDefaultFS returns an FS reading the local name space rooted at root
// ("/" on a Plan 9 host).
func NewDefaultFS(root string) FS { return NewFS(ns.Dir(root)) }

func (p FS) readFile(name string) ([]byte, error) {
	if !p.local {
		p.sem <- struct{}{}
		defer func() { <-p.sem }()
	}
	if r, ok := p.fsys.(fs.ReadFileFS); ok {
		return r.ReadFile(name)
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ns.ReadAll(f, ns.ReadSize)
}

// firstOf applies get to names in turn and returns the first result that
// exists, and its name. The names are a file's usual place under /dev or
// /net followed by its kernel device names, which 9front's /lib/namespace
// sessions may not have bound. A failure other than absence ends the
// search; when everything is absent, the first name's error is returned.
func firstOf[T any](names []string, get func(string) (T, error)) (T, string, error) {
	var first error
	for _, n := range names {
		v, err := get(n)
		if err == nil {
			return v, n, nil
		}
		if first == nil || !IsNotExist(err) {
			first = err
		}
		if !IsNotExist(err) {
			break
		}
	}
	var zero T
	return zero, "", first
}

func (p FS) read(names ...string) ([]byte, string, error) {
	return firstOf(names, p.readFile)
}

// parse reads the first existing name and parses it, naming the file in
// any ParseError.
func parse[T any](p FS, parser func([]byte) (T, error), names ...string) (T, error) {
	b, name, err := p.read(names...)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := parser(b)
	return v, withFile(name, err)
}

func (p FS) readDir(names ...string) ([]fs.DirEntry, string, error) {
	return firstOf(names, func(n string) ([]fs.DirEntry, error) {
		p.sem <- struct{}{}
		defer func() { <-p.sem }()
		return fs.ReadDir(p.fsys, n)
	})
}

// Swap reads /dev/swap (9front #¶/swap, classic #c/swap).
func (p FS) Swap() (Swap, error) {
	return parse(p, ParseSwap, "dev/swap", "#¶/swap", "#c/swap")
}

// SysStat reads /dev/sysstat (#c/sysstat), one entry per CPU.
func (p FS) SysStat() ([]CPUStat, error) {
	return parse(p, ParseSysStat, "dev/sysstat", "#c/sysstat")
}

// Time reads /dev/time (#c/time).
func (p FS) Time() (Time, error) {
	return parse(p, ParseTime, "dev/time", "#c/time")
}

// CPUType reads /dev/cputype (#P/cputype), absent on some ARM kernels.
func (p FS) CPUType() (CPUType, error) {
	return parse(p, ParseCPUType, "dev/cputype", "#P/cputype")
}

// SysName reads /dev/sysname (#c/sysname), which may be empty.
func (p FS) SysName() (string, error) {
	return parse(p, func(b []byte) (string, error) { return ParseSysName(b), nil }, "dev/sysname", "#c/sysname")
}

// Config reads /dev/config (#c/config).
func (p FS) Config() (KernelConfig, error) {
	return parse(p, func(b []byte) (KernelConfig, error) { return ParseConfig(b), nil }, "dev/config", "#c/config")
}

// Drivers reads /dev/drivers (#c/drivers).
func (p FS) Drivers() ([]Driver, error) {
	return parse(p, ParseDrivers, "dev/drivers", "#c/drivers")
}

// KernelMessages reads /dev/kmesg (#c/kmesg), the console log; readable
// only by the host owner.
func (p FS) KernelMessages() ([]byte, error) {
	b, _, err := p.read("dev/kmesg", "#c/kmesg")
	return b, err
}

// KernelBuildTime is the running kernel's build time. The kernel stamps
// every directory entry its devices generate with kerndate, the time it
// was built, so it is the modification time of #c/sysstat (or
// /dev/sysstat when the kernel name is not reachable, as over 9P).
func (p FS) KernelBuildTime() (time.Time, error) {
	fi, _, err := firstOf([]string{"#c/sysstat", "dev/sysstat"}, func(n string) (fs.FileInfo, error) {
		return fs.Stat(p.fsys, n)
	})
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// Env reads a kernel-wide environment variable from #ec, where plan9.ini
// settings such as bootfile live.
func (p FS) Env(name string) (string, error) {
	b, _, err := p.read("#ec/"+name, "env/"+name)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\x00\n"), nil
}

// PIDs lists the process directories of /proc (#p), each pid once: a
// union or a misbehaving server may list a name twice, and "01" is 1.
func (p FS) PIDs() ([]int, string, error) {
	ds, dir, err := p.readDir("proc", "#p")
	if err != nil {
		return nil, "", err
	}
	var pids []int
	for _, d := range ds {
		if pid, err := strconv.Atoi(d.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return slices.Compact(pids), dir, nil
}

// Procs reads /proc/N/status for every process (concurrently but in a
// local name space, see NewFS). A process
// that exits between the listing and the read is left out. Statuses that
// cannot be read or parsed are summed up in the returned *FilesError
// while the rest are still returned.
func (p FS) Procs() ([]ProcStatus, error) {
	pids, dir, err := p.PIDs()
	if err != nil {
		return nil, err
	}
	out := make([]ProcStatus, len(pids))
	ok := make([]bool, len(pids))
	errs := make([]error, len(pids))
	p.each(len(pids), func(i int) {
		name := dir + "/" + strconv.Itoa(pids[i]) + "/status"
		b, err := p.readFile(name)
		if err != nil {
			if !procGone(err) {
				errs[i] = err
			}
			return
		}
		s, err := ParseProcStatus(b)
		if err != nil {
			errs[i] = withFile(name, err)
			return
		}
		s.PID = pids[i]
		out[i], ok[i] = s, true
	})
	var procs []ProcStatus
	for i := range out {
		if ok[i] {
			procs = append(procs, out[i])
		}
	}
	return procs, sumUp(fileName(dir)+"/*/status", len(pids), errs)
}

// procGone reports whether err means the process went away.
func procGone(err error) bool {
	if IsNotExist(err) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "process exited") || strings.Contains(s, "does not exist")
}

// EtherNames lists the ethernet devices of /net ("ether0", …), falling
// back to the kernel's #l0, #l1, … when /net has none bound.
func (p FS) EtherNames() ([]string, error) {
	ds, _, err := p.readDir("net")
	if err != nil && !IsNotExist(err) {
		return nil, err
	}
	var names []string
	for _, d := range ds {
		if isEtherName(d.Name()) {
			names = append(names, d.Name())
		}
	}
	if len(names) == 0 {
		for i := 0; i < 4; i++ {
			n := "ether" + strconv.Itoa(i)
			if _, err := fs.Stat(p.fsys, "#l"+strconv.Itoa(i)+"/"+n); err == nil {
				names = append(names, n)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, _ := strconv.Atoi(names[i][5:])
		b, _ := strconv.Atoi(names[j][5:])
		return a < b
	})
	return names, nil
}

func isEtherName(s string) bool {
	n, ok := strings.CutPrefix(s, "ether")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

func etherPaths(dev, file string) []string {
	return []string{"net/" + dev + "/" + file, "#l" + strings.TrimPrefix(dev, "ether") + "/" + dev + "/" + file}
}

// EtherStats reads /net/etherN/stats.
func (p FS) EtherStats(dev string) (EtherStats, error) {
	return parse(p, ParseEtherStats, etherPaths(dev, "stats")...)
}

// EtherIfStats reads /net/etherN/ifstats.
func (p FS) EtherIfStats(dev string) (IfStats, error) {
	return parse(p, func(b []byte) (IfStats, error) { return ParseIfStats(b), nil }, etherPaths(dev, "ifstats")...)
}

// EtherAddr reads /net/etherN/addr.
func (p FS) EtherAddr(dev string) (string, error) {
	a, err := parse(p, ParseEtherAddr, etherPaths(dev, "addr")...)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// IPInterfaces reads /net/ipifc/N/status for every interface. Those that
// cannot be read or parsed are summed up in the returned *FilesError.
func (p FS) IPInterfaces() ([]IPInterface, error) {
	ds, dir, err := p.readDir("net/ipifc", "#I/ipifc")
	if err != nil {
		return nil, err
	}
	var out []IPInterface
	var errs []error
	total := 0
	for _, d := range ds {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		total++
		name := dir + "/" + d.Name() + "/status"
		b, err := p.readFile(name)
		if err != nil {
			if !IsNotExist(err) {
				errs = append(errs, err)
			}
			continue
		}
		ifc, err := ParseIPInterface(b)
		if err != nil {
			errs = append(errs, withFile(name, err))
			continue
		}
		ifc.Index = n
		out = append(out, ifc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, sumUp(fileName(dir)+"/*/status", total, errs)
}

// IPStats reads /net/ipifc/stats.
func (p FS) IPStats() (IPStats, error) {
	return parse(p, ParseIPStats, "net/ipifc/stats", "#I/ipifc/stats")
}

// TCPStats reads /net/tcp/stats.
func (p FS) TCPStats() (TCPStats, error) {
	return parse(p, ParseTCPStats, "net/tcp/stats", "#I/tcp/stats")
}

// UDPStats reads /net/udp/stats.
func (p FS) UDPStats() (UDPStats, error) {
	return parse(p, ParseUDPStats, "net/udp/stats", "#I/udp/stats")
}

// ICMPStats reads /net/icmp/stats.
func (p FS) ICMPStats() (ICMPStats, error) {
	return parse(p, ParseICMPStats, "net/icmp/stats", "#I/icmp/stats")
}

// ILStats reads /net/il/stats (9front only).
func (p FS) ILStats() (ILStats, error) {
	return parse(p, ParseILStats, "net/il/stats", "#I/il/stats")
}

// CPUTemp reads the first cputemp file present: /dev/cputemp (the kernel's
// #P/cputemp, or aux/acpi's) or reform/pm's /mnt/pm/cputemp.
func (p FS) CPUTemp() ([]Temperature, error) {
	return parse(p, ParseCPUTemp, "dev/cputemp", "#P/cputemp", "mnt/pm/cputemp")
}

// Battery reads the first battery file present, in the order stats(8)
// looks: /mnt/apm/battery, /mnt/pm/battery, /dev/battery.
func (p FS) Battery() ([]Battery, error) {
	return parse(p, ParseBattery, "mnt/apm/battery", "mnt/pm/battery", "dev/battery")
}

// SDControllers reads #S/sdctl.
func (p FS) SDControllers() ([]SDController, error) {
	return parse(p, ParseSDCtl, "dev/sdctl", "#S/sdctl")
}

// Disks lists the storage units (/dev/sdXX, #S/sdXX) with their geometry
// and partitions. Where a unit's ctl file cannot be read (it is readable
// only by the host owner), the unit is still listed, with its partitions
// and their sizes found by stat, as any user may.
func (p FS) Disks() ([]SDUnit, error) {
	var dir string
	var names []string
	for _, d := range []string{"dev", "#S"} {
		ds, err := fs.ReadDir(p.fsys, d)
		if err != nil && !IsNotExist(err) {
			return nil, err
		}
		for _, e := range ds {
			if n := e.Name(); e.IsDir() && len(n) == 4 && strings.HasPrefix(n, "sd") {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			dir = d
			break
		}
	}
	if len(names) == 0 {
		return nil, &fs.PathError{Op: "readdir", Path: "/dev/sd*", Err: fs.ErrNotExist}
	}
	var units []SDUnit
	var errs []error
	for _, name := range names {
		ctl := dir + "/" + name + "/ctl"
		b, err := p.readFile(ctl)
		var u SDUnit
		if err == nil {
			u, err = ParseSDUnitCtl(b)
			if err != nil {
				errs = append(errs, withFile(ctl, err))
				continue
			}
		} else if !errors.Is(err, fs.ErrPermission) && !IsNotExist(err) && !strings.Contains(err.Error(), "permission denied") {
			errs = append(errs, err)
			continue
		}
		u.Name = name
		if len(u.Partitions) == 0 {
			u.Partitions = p.statPartitions(dir + "/" + name)
		}
		units = append(units, u)
	}
	return units, sumUp(fileName(dir)+"/sd*/ctl", len(names), errs)
}

func (p FS) statPartitions(dir string) []Partition {
	ds, _, err := p.readDir(dir)
	if err != nil {
		return nil
	}
	var parts []Partition
	for _, d := range ds {
		switch d.Name() {
		case "ctl", "raw":
			continue
		}
		fi, err := d.Info()
		if err != nil || fi.IsDir() {
			continue
		}
		parts = append(parts, Partition{Name: d.Name(), Bytes: uint64(fi.Size())})
	}
	return parts
}
