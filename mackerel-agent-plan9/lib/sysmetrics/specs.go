package sysmetrics

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// HostSpecs is what the host entry says about the machine.
type HostSpecs struct {
	// Name is /dev/sysname, empty when it was never set.
	Name string
	// Meta has kernel, cpu, memory, block_device and filesystem; the
	// agent-* fields are the agent's to fill.
	Meta       mackerel.HostMeta
	Interfaces []mackerel.Interface
}

// specSources are the kernel files the specs are made of.
const specSources = p9stats.SourceKernel | p9stats.SourceFlavour | p9stats.SourceSysStat | p9stats.SourceSwap |
	p9stats.SourceDisks | p9stats.SourceIPInterfaces | p9stats.SourceEtherAddrs

// Specs reads the host's specs in the shapes upstream mackerel-agent
// sends: the kernel files in one p9stats snapshot, and the configured file
// servers' consoles beside it. A part that cannot be read is left out and
// named in the returned error, which joins every such failure; the rest is
// returned all the same. A file that is absent (no #S in the name space,
// no cputype on an ARM kernel) only leaves out what it would have told.
// Specs returns by ctx's deadline.
func Specs(ctx context.Context, fsys ns.FS, consoles []fsspace.Spec) (HostSpecs, error) {
	var spaces []fsspace.Result
	var wg sync.WaitGroup
	if len(consoles) > 0 {
		wg.Go(func() { spaces = fsspace.ReadAll(ctx, fsys, consoles) })
	}
	snap := p9stats.NewFS(fsys).Snapshot(ctx, specSources)
	wg.Wait()

	var errs []error
	part := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	h := HostSpecs{Name: snap.SysName}
	var err error
	h.Meta.Kernel, err = kernelSpec(snap)
	part("kernel", err)
	h.Meta.CPU, err = cpuSpec(snap)
	part("cpu", err)
	h.Meta.Memory, err = memorySpec(snap)
	part("memory", err)
	h.Meta.BlockDevice, err = blockDeviceSpec(snap)
	part("block_device", err)
	h.Interfaces, err = interfaceSpec(snap)
	part("interfaces", err)
	if len(consoles) > 0 {
		h.Meta.Filesystem, err = filesystemSpec(spaces)
		part("filesystem", err)
	}
	return h, errors.Join(errs...)
}

// absentOK drops an error that only says the file is absent.
func absentOK(err error) error {
	if p9stats.IsNotExist(err) {
		return nil
	}
	return err
}

// kernelSpec describes the running kernel with upstream's keys: name and
// os as uname -s and -o would say them, the flavour as platform_name, the
// kernel's build time as version (Linux's uname -v is its build stamp),
// the name of its configuration (pc64, pccpu64, …) as release, and
// $cputype as machine.
func kernelSpec(snap *p9stats.Snapshot) (mackerel.Kernel, error) {
	k := mackerel.Kernel{"name": "Plan 9", "os": "plan9"}
	var errs []error
	switch err := snap.Errors[p9stats.SourceFlavour]; {
	case err != nil:
		errs = append(errs, err)
	case snap.Flavour == p9stats.Flavour9front:
		k["platform_name"] = "9front"
	case snap.Flavour == p9stats.Flavour9legacy:
		k["platform_name"] = "9legacy"
	case snap.Flavour == p9stats.FlavourPlan9:
		k["platform_name"] = "4e"
	}
	if !snap.KernelBuild.IsZero() {
		k["version"] = snap.KernelBuild.UTC().Format(time.UnixDate)
	}
	errs = append(errs, snap.Errors[p9stats.SourceKernel])
	if cfg := snap.Config; cfg != nil && cfg.Name != "" {
		k["release"] = cfg.Name
	}
	// $cputype cannot be told on a 9k kernel read from elsewhere: no
	// environment, and a configuration without a name.
	if snap.ObjectType != "" {
		k["machine"] = snap.ObjectType
	}
	return k, errors.Join(errs...)
}

// cpuSpec has one entry per line of /dev/sysstat, which lists the active
// CPUs. /dev/cputype gives the model and clock rate of the CPU it was read
// on; Plan 9 kernels run on like processors only, so every entry has them.
func cpuSpec(snap *p9stats.Snapshot) (mackerel.CPU, error) {
	if err := snap.Errors[p9stats.SourceSysStat]; err != nil {
		return nil, err
	}
	out := make(mackerel.CPU, len(snap.CPUs))
	for i := range out {
		e := map[string]any{}
		if ct := snap.CPUType; ct != nil {
			e["model_name"] = ct.Name
			e["mhz"] = strconv.FormatUint(ct.MHz, 10)
		}
		out[i] = e
	}
	return out, nil
}

// memorySpec gives the totals of memory and swap as upstream writes them,
// in KiB with a "kB" suffix.
func memorySpec(snap *p9stats.Snapshot) (mackerel.Memory, error) {
	if err := snap.Errors[p9stats.SourceSwap]; err != nil {
		return nil, err
	}
	m, err := memoryMetrics(*snap.Swap)
	if err != nil {
		return nil, fmt.Errorf("/dev/swap: %w", err)
	}
	out := mackerel.Memory{"total": kB(m[nameMemTotal])}
	if v, ok := m[nameSwapTotal]; ok {
		out["swap_total"] = kB(v)
	}
	return out, nil
}

func kB(bytes float64) string { return strconv.FormatUint(uint64(bytes)/1024, 10) + "kB" }

// blockDeviceSpec lists the storage units with a medium. size counts
// 512-byte sectors, as Linux's /sys/block/*/size does, which upstream
// sends: the geometry line of the unit's ctl, or, where ctl is the host
// owner's only, the length of its data partition.
func blockDeviceSpec(snap *p9stats.Snapshot) (mackerel.BlockDevice, error) {
	err := snap.Errors[p9stats.SourceDisks]
	if p9stats.IsNotExist(err) {
		return nil, nil
	}
	out := mackerel.BlockDevice{}
	for _, u := range snap.Disks {
		size := u.Bytes()
		if size == 0 {
			for _, p := range u.Partitions {
				if p.Name == "data" {
					size = p.Bytes
				}
			}
		}
		if size == 0 {
			continue // no medium, as in an empty CD drive
		}
		e := map[string]any{"size": strconv.FormatUint(size/512, 10)}
		if m := u.Model; m != "" {
			e["model"] = m
		} else if m := strings.Join(strings.Fields(u.Inquiry), " "); m != "" {
			e["model"] = m
		}
		if u.Firmware != "" {
			e["rev"] = u.Firmware
		}
		out[u.Name] = e
	}
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// interfaceSpec lists the IP interfaces by their medium's name (ether0),
// with their addresses and the ethernet address, leaving out, as upstream
// does, interfaces without addresses and those with loopback addresses
// only.
func interfaceSpec(snap *p9stats.Snapshot) ([]mackerel.Interface, error) {
	err := snap.Errors[p9stats.SourceIPInterfaces]
	if p9stats.IsNotExist(err) {
		return nil, nil
	}
	errs := []error{err, absentOK(snap.Errors[p9stats.SourceEtherAddrs])}
	var order []string
	byName := map[string]*mackerel.Interface{}
	loopbackOnly := map[string]bool{}
	for _, ifc := range snap.IPInterfaces {
		name := path.Base(ifc.Device)
		m, ok := byName[name]
		if !ok {
			m = &mackerel.Interface{Name: name}
			byName[name] = m
			order = append(order, name)
			loopbackOnly[name] = true
			if dev, isEther := strings.CutPrefix(ifc.Device, "/net/"); isEther {
				m.MacAddress = snap.EtherAddrs[dev]
			}
		}
		for _, a := range ifc.Addrs {
			ip := a.Prefix.Addr().Unmap()
			if ip.Is4() {
				m.IPv4Addresses = append(m.IPv4Addresses, ip.String())
			} else {
				m.IPv6Addresses = append(m.IPv6Addresses, ip.String())
			}
			loopbackOnly[name] = loopbackOnly[name] && ip.IsLoopback()
		}
	}
	var out []mackerel.Interface
	for _, n := range order {
		m := byName[n]
		if len(m.IPv4Addresses)+len(m.IPv6Addresses) == 0 || loopbackOnly[n] {
			continue
		}
		out = append(out, *m)
	}
	return out, errors.Join(errs...)
}

// filesystemSpec describes the configured file servers' space in
// upstream's df shape, in KiB, keyed by the name their metrics carry.
// Plan 9 has no system-wide mount table, so there is no mount key.
func filesystemSpec(spaces []fsspace.Result) (mackerel.FileSystem, error) {
	out := mackerel.FileSystem{}
	var errs []error
	for _, r := range spaces {
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		for _, s := range r.Spaces {
			e := map[string]any{
				"kb_size":      s.Size / 1024,
				"kb_used":      s.Used / 1024,
				"kb_available": s.Free / 1024,
			}
			if p, ok := percentUsed(s.Used, s.Free); ok {
				e["percent_used"] = p
			}
			out[s.Segment] = e
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errors.Join(errs...)
}

// percentUsed is df's capacity: used of used + available, rounded up.
func percentUsed(used, free uint64) (string, bool) {
	if used+free == 0 {
		return "", false
	}
	return strconv.FormatUint((used*100+used+free-1)/(used+free), 10) + "%", true
}
