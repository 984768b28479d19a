package p9stats

import (
	"strconv"
	"strings"
)

// Flavour is the kind of Plan 9 a name space comes from.
type Flavour int

const (
	FlavourUnknown Flavour = iota
	Flavour9front
	Flavour9legacy
	// FlavourPlan9 is Bell Labs Plan 9 4th edition, or a 9legacy kernel
	// older than the features that set 9legacy apart (before 2025 the two
	// serve identical statistics files).
	FlavourPlan9
)

func (f Flavour) String() string {
	switch f {
	case Flavour9front:
		return "9front"
	case Flavour9legacy:
		return "9legacy"
	case FlavourPlan9:
		return "Plan 9"
	}
	return "unknown"
}

// Flavour tells 9front, 9legacy and Bell Labs Plan 9 apart from what the
// name space serves, and says which evidence decided.
func (p FS) Flavour() (Flavour, string, error) {
	var errs []error
	note := func(err error) {
		if err != nil && !IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if ds, err := p.Drivers(); err == nil {
		for _, d := range ds {
			if d.Char == '¶' {
				return Flavour9front, "/dev/drivers lists #¶ swap", nil
			}
		}
	} else {
		note(err)
	}
	sw, err := p.Swap()
	note(err)
	if err == nil {
		if f, why := swapFlavour(sw); f != FlavourUnknown {
			return f, why, nil
		}
	}
	if _, err := p.ILStats(); err == nil {
		return Flavour9front, "/net/il exists (IL was removed from Bell Labs Plan 9)", nil
	}
	if pids, dir, err := p.PIDs(); err == nil && len(pids) > 0 {
		if b, err := p.readFile(dir + "/" + strconv.Itoa(pids[0]) + "/status"); err == nil && strings.HasSuffix(string(b), "\n") {
			return Flavour9front, "/proc/N/status ends in a newline", nil
		}
	}
	t, err := p.Time()
	note(err)
	if err == nil && t.HasSinceBoot {
		return Flavour9legacy, "/dev/time has a fifth field", nil
	}
	if err == nil {
		return FlavourPlan9, "no 9front or 9legacy feature seen", nil
	}
	if len(errs) > 0 {
		return FlavourUnknown, "", errs[0]
	}
	return FlavourUnknown, "nothing to go by", nil
}

func swapFlavour(s Swap) (Flavour, string) {
	switch {
	case s.Layout == SwapLayout9k:
		return Flavour9legacy, "/dev/swap has the 9k kernel's layout"
	case s.Reclaim != nil:
		return Flavour9front, "/dev/swap has a reclaim line"
	case s.Layout == SwapLayout9front:
		return Flavour9front, "/dev/swap has 9front's allocated/size/max pool lines"
	}
	return FlavourUnknown, ""
}
