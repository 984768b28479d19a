package checkplan9

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mackerelio/checkers"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
)

type fsCmd struct {
	FS       []string `long:"fs" value-name:"KIND:CONSOLE" required:"true" description:"file server to ask: cwfs:/srv/cwfs.cmd, hjfs:/srv/hjfs.cmd, gefs:/srv/gefs.cmd or fossil:/srv/fscons (repeatable)"`
	Warning  string   `short:"w" long:"warning" value-name:"FREE" default:"20%" description:"WARNING when free space is below FREE: a percentage (20%) or a size (2GB, 500MB; units of 1024)"`
	Critical string   `short:"c" long:"critical" value-name:"FREE" default:"10%" description:"CRITICAL when free space is below FREE"`
	common

	specs      []fsspace.Spec
	warn, crit freeLimit
}

// freeLimit is a lower limit on free space.
type freeLimit struct {
	percent bool
	value   float64 // percent, or bytes
}

func (l freeLimit) below(free, size uint64) bool {
	if l.percent {
		return size > 0 && float64(free)/float64(size)*100 < l.value
	}
	return float64(free) < l.value
}

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
	{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
	{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

func parseFreeLimit(flag, s string) (freeLimit, error) {
	bad := fmt.Errorf("%s %q: want a percentage such as 10%% or a size such as 2GB", flag, s)
	t := strings.ToUpper(strings.TrimSpace(s))
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v >= 0 && v <= 100) {
			return freeLimit{}, bad
		}
		return freeLimit{percent: true, value: v}, nil
	}
	mult := 1.0
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = n, u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return freeLimit{}, bad
	}
	return freeLimit{value: v * mult}, nil
}

func (c *fsCmd) validate() error {
	var errs []error
	for _, f := range c.FS {
		s, err := fsspace.ParseSpec(f)
		errs = append(errs, err)
		c.specs = append(c.specs, s)
	}
	var err1, err2 error
	c.warn, err1 = parseFreeLimit("--warning", c.Warning)
	c.crit, err2 = parseFreeLimit("--critical", c.Critical)
	return errors.Join(append(errs, err1, err2)...)
}

// pairs compares the limits when they are of one kind: a percentage and
// a size compare only against a file server's size.
func (c *fsCmd) pairs() []pair {
	if c.warn.percent != c.crit.percent {
		return nil
	}
	return []pair{{warnFlag: "--warning", critFlag: "--critical", warn: c.warn.value, crit: c.crit.value,
		warnText: c.Warning, critText: c.Critical}}
}

func (c *fsCmd) run(ctx context.Context, h *host) *checkers.Checker {
	var all []*checkers.Checker
	for _, r := range fsspace.ReadAll(ctx, h.fs, c.specs) {
		if r.Err != nil {
			all = append(all, checkers.Unknown(r.Err.Error()))
			continue
		}
		for _, s := range r.Spaces {
			st := checkers.OK
			switch {
			case c.crit.below(s.Free, s.Size):
				st = checkers.CRITICAL
			case c.warn.below(s.Free, s.Size):
				st = checkers.WARNING
			}
			pct := 0.0
			if s.Size > 0 {
				pct = float64(s.Free) / float64(s.Size) * 100
			}
			all = append(all, checkers.NewChecker(st,
				fmt.Sprintf("%s: %s free of %s (%.1f%%)", s.Segment, bytesIEC(s.Free), bytesIEC(s.Size), pct)))
		}
	}
	return worst(all)
}
