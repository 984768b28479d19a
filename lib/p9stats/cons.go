package p9stats

import (
	"fmt"
	"strings"
)

// CPUType is /dev/cputype (#P/cputype): a coarse processor name from a
// CPUID table ("AMD-K8", "Core i7/Xeon", often "P6" or "unknown" on
// modern parts, "ARM …" on ARM kernels) and the clock rate measured at
// boot. It is not $cputype, the object type (386, amd64, arm64).
type CPUType struct {
	Name string
	MHz  uint64
}

// ParseCPUType parses /dev/cputype. The name may contain blanks; the last
// field is the clock rate.
func ParseCPUType(b []byte) (CPUType, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return CPUType{}, lineError(1, string(b), "want a name and a clock rate")
	}
	mhz, err := parseUint(f[len(f)-1], 64)
	if err != nil {
		return CPUType{}, lineError(1, string(b), "%v", err)
	}
	return CPUType{Name: strings.Join(f[:len(f)-1], " "), MHz: mhz}, nil
}

// ParseSysName returns the system name from /dev/sysname, which the kernel
// serves without a newline and which is empty until set at boot.
func ParseSysName(b []byte) string {
	return strings.TrimSpace(string(b))
}

// KernelConfig is /dev/config: the text of the configuration file the
// running kernel was built from, such as /sys/src/9/pc64/pc64.
type KernelConfig struct {
	// Name and Description come from the first comment line,
	// "# pc64 - amd64 pc terminal with local disk"; Name is empty when the
	// file has no such line.
	Name        string
	Description string
	Text        string
}

// ParseConfig parses /dev/config.
func ParseConfig(b []byte) KernelConfig {
	c := KernelConfig{Text: string(b)}
	first, _, _ := strings.Cut(c.Text, "\n")
	if rest, ok := strings.CutPrefix(first, "#"); ok {
		name, desc, _ := strings.Cut(strings.TrimSpace(rest), " - ")
		if f := strings.Fields(name); len(f) == 1 {
			c.Name, c.Description = f[0], strings.TrimSpace(desc)
		}
	}
	return c
}

// ObjectType is $cputype, the object type of the host's binaries (386,
// amd64, arm, arm64), as /$cputype/bin names it. It is read from the
// environment (#ec, then /env); a name space read from elsewhere, such as
// a capture or a v9fs mount, has none, so it is then told from the name of
// the kernel's configuration in /dev/config (pc64 and pccpu64 are amd64,
// bcm64 arm64, …). 9legacy's 9k kernels carry no such name.
func (p FS) ObjectType() (string, error) {
	if ct, err := p.Env("cputype"); err == nil && ct != "" {
		return ct, nil
	}
	cfg, err := p.Config()
	return objectType("", cfg, err)
}

// objectType is $cputype when env has it, else what the configuration
// cfg (read with error cfgErr) tells.
func objectType(env string, cfg KernelConfig, cfgErr error) (string, error) {
	if env != "" {
		return env, nil
	}
	if cfgErr != nil {
		return "", fmt.Errorf("no $cputype and no /dev/config: %w", cfgErr)
	}
	if t := configObjectType(cfg.Name); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("no $cputype, and the kernel configuration %q does not tell", cfg.Name)
}

// configObjectType maps a kernel configuration's name (the directory under
// /sys/src/9 it was built in, plus a suffix such as cpu or f) to its
// object type.
func configObjectType(name string) string {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("pc64", "pccpu64", "k10"):
		return "amd64"
	case has("pc"):
		return "386"
	case has("bcm64", "imx8", "arm64"):
		return "arm64"
	case has("bcm", "kw", "omap", "teg2", "zynq"):
		return "arm"
	}
	return ""
}

// Driver is one line of /dev/drivers: a kernel device's character and name
// ("#c cons", "#¶ swap").
type Driver struct {
	Char rune
	Name string
}

// ParseDrivers parses /dev/drivers.
func ParseDrivers(b []byte) ([]Driver, error) {
	var ds []Driver
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		r := []rune(f[0])
		if len(f) != 2 || len(r) != 2 || r[0] != '#' {
			return nil, lineError(i+1, l, "want #c name")
		}
		ds = append(ds, Driver{Char: r[1], Name: f[1]})
	}
	return ds, nil
}
