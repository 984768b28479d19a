package checkplan9

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mackerelio/checkers"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// threshold is an optional upper (or lower) limit.
type threshold = *float64

// level returns the status of v against over-limits warn and crit.
func level(v float64, warn, crit threshold) checkers.Status {
	switch {
	case crit != nil && v > *crit:
		return checkers.CRITICAL
	case warn != nil && v > *warn:
		return checkers.WARNING
	}
	return checkers.OK
}

func validPercent(name string, t threshold) error {
	if t != nil && (*t < 0 || *t > 100 || math.IsNaN(*t)) {
		return fmt.Errorf("%s: %v is not a percentage", name, *t)
	}
	return nil
}

// bytesIEC prints n in binary units.
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

type memoryCmd struct {
	Warning  float64 `short:"w" long:"warning" value-name:"PERCENT" default:"95" description:"WARNING when more than PERCENT of user memory is in use"`
	Critical float64 `short:"c" long:"critical" value-name:"PERCENT" default:"98" description:"CRITICAL when more than PERCENT of user memory is in use"`
	common
}

func (c *memoryCmd) validate() error {
	return errors.Join(validPercent("--warning", &c.Warning), validPercent("--critical", &c.Critical))
}

func (c *memoryCmd) pairs() []pair {
	return []pair{{warnFlag: "--warning", critFlag: "--critical", warn: c.Warning, crit: c.Critical, over: true}}
}

func (c *memoryCmd) run(ctx context.Context, h *host) *checkers.Checker {
	sw, err := h.st.Swap()
	if err != nil {
		return checkers.Unknown(err.Error())
	}
	m := sw.Memory()
	if m.UserTotal == 0 {
		return checkers.Unknown("/dev/swap reports no user memory")
	}
	pct := float64(m.Used) / float64(m.UserTotal) * 100
	msg := fmt.Sprintf("%.1f%% of user memory in use (%s of %s", pct, bytesIEC(m.Used), bytesIEC(m.UserTotal))
	if m.HasReclaim {
		msg += fmt.Sprintf("; %s reclaimable counted as free", bytesIEC(m.Reclaim))
	}
	msg += ")"
	return checkers.NewChecker(level(pct, &c.Warning, &c.Critical), msg)
}

type swapCmd struct {
	Warning  float64 `short:"w" long:"warning" value-name:"PERCENT" default:"50" description:"WARNING when more than PERCENT of swap is in use"`
	Critical float64 `short:"c" long:"critical" value-name:"PERCENT" default:"80" description:"CRITICAL when more than PERCENT of swap is in use"`
	common
}

func (c *swapCmd) validate() error {
	return errors.Join(validPercent("--warning", &c.Warning), validPercent("--critical", &c.Critical))
}

func (c *swapCmd) pairs() []pair {
	return []pair{{warnFlag: "--warning", critFlag: "--critical", warn: c.Warning, crit: c.Critical, over: true}}
}

func (c *swapCmd) run(ctx context.Context, h *host) *checkers.Checker {
	sw, err := h.st.Swap()
	if err != nil {
		return checkers.Unknown(err.Error())
	}
	used, total, ok := sw.SwapBytes()
	switch {
	case !ok:
		return checkers.Ok("this kernel reports no swap")
	case total == 0:
		return checkers.Ok("no swap configured")
	}
	pct := float64(used) / float64(total) * 100
	return checkers.NewChecker(level(pct, &c.Warning, &c.Critical),
		fmt.Sprintf("%.1f%% of swap in use (%s of %s)", pct, bytesIEC(used), bytesIEC(total)))
}

type loadCmd struct {
	Warning  string `short:"w" long:"warning" value-name:"LOAD" description:"WARNING when the load average is above LOAD (a list such as 4,3,2 is accepted; its first number is used)"`
	Critical string `short:"c" long:"critical" value-name:"LOAD" description:"CRITICAL when the load average is above LOAD"`
	PerCPU   bool   `short:"r" long:"per-cpu" description:"divide the load average by the number of CPUs"`
	common
	warn, crit threshold
}

// parseLoad reads a load threshold; go-check-plugins' check-load takes
// three comma-separated figures, and Plan 9 has one.
func parseLoad(flag, s string) (threshold, error) {
	if s == "" {
		return nil, nil
	}
	first, _, _ := strings.Cut(s, ",")
	var v float64
	if _, err := fmt.Sscanf(strings.TrimSpace(first), "%g", &v); err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%s %q: want a number such as 4 or 1.5", flag, s)
	}
	return &v, nil
}

func (c *loadCmd) validate() error {
	var err1, err2 error
	c.warn, err1 = parseLoad("--warning", c.Warning)
	c.crit, err2 = parseLoad("--critical", c.Critical)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if c.warn == nil && c.crit == nil {
		return errors.New("give --warning, --critical or both")
	}
	return nil
}

func (c *loadCmd) pairs() []pair {
	if c.warn == nil || c.crit == nil {
		return nil
	}
	return []pair{{warnFlag: "--warning", critFlag: "--critical", warn: *c.warn, crit: *c.crit, over: true}}
}

func (c *loadCmd) run(ctx context.Context, h *host) *checkers.Checker {
	cpus, err := h.st.SysStat()
	if err != nil {
		return checkers.Unknown(err.Error())
	}
	load := p9stats.LoadAverage(cpus)
	msg := fmt.Sprintf("load average: %.2f (%d CPU", load, len(cpus))
	if len(cpus) != 1 {
		msg += "s"
	}
	msg += ")"
	if c.PerCPU {
		load /= float64(len(cpus))
		msg += fmt.Sprintf(", %.2f per CPU", load)
	}
	return checkers.NewChecker(level(load, c.warn, c.crit), msg)
}

type uptimeCmd struct {
	WarningUnder  *float64 `short:"w" long:"warning-under" value-name:"SECONDS" description:"WARNING when up for less than SECONDS"`
	CriticalUnder *float64 `short:"c" long:"critical-under" value-name:"SECONDS" description:"CRITICAL when up for less than SECONDS"`
	WarningOver   *float64 `short:"W" long:"warning-over" value-name:"SECONDS" description:"WARNING when up for more than SECONDS"`
	CriticalOver  *float64 `short:"C" long:"critical-over" value-name:"SECONDS" description:"CRITICAL when up for more than SECONDS"`
	common
}

func (c *uptimeCmd) validate() error {
	for _, t := range []struct {
		flag string
		v    *float64
	}{{"--warning-under", c.WarningUnder}, {"--critical-under", c.CriticalUnder}, {"--warning-over", c.WarningOver}, {"--critical-over", c.CriticalOver}} {
		if t.v != nil && (*t.v < 0 || math.IsNaN(*t.v) || math.IsInf(*t.v, 0)) {
			return fmt.Errorf("%s %v: give a number of seconds, 0 or more", t.flag, *t.v)
		}
	}
	return nil
}

func (c *uptimeCmd) pairs() []pair {
	var ps []pair
	if c.WarningUnder != nil && c.CriticalUnder != nil {
		ps = append(ps, pair{warnFlag: "--warning-under", critFlag: "--critical-under", warn: *c.WarningUnder, crit: *c.CriticalUnder})
	}
	if c.WarningOver != nil && c.CriticalOver != nil {
		ps = append(ps, pair{warnFlag: "--warning-over", critFlag: "--critical-over", warn: *c.WarningOver, crit: *c.CriticalOver, over: true})
	}
	return ps
}

func (c *uptimeCmd) run(ctx context.Context, h *host) *checkers.Checker {
	t, err := h.st.Time()
	if err != nil {
		return checkers.Unknown(err.Error())
	}
	up, ok := t.Uptime()
	if !ok {
		return checkers.Unknown("/dev/time: no time since boot (fast clock rate 0)")
	}
	s := up.Seconds()
	st := checkers.OK
	switch {
	case c.CriticalUnder != nil && s < *c.CriticalUnder, c.CriticalOver != nil && s > *c.CriticalOver:
		st = checkers.CRITICAL
	case c.WarningUnder != nil && s < *c.WarningUnder, c.WarningOver != nil && s > *c.WarningOver:
		st = checkers.WARNING
	}
	sec := int64(s)
	return checkers.NewChecker(st, fmt.Sprintf("%d day(s) %d hour(s) %d minute(s) (%d second(s))",
		sec/86400, sec%86400/3600, sec%3600/60, sec))
}

type linkCmd struct {
	Interfaces []string `short:"i" long:"interface" value-name:"NAME" required:"true" description:"ethernet interface to check, such as ether0 (repeatable)"`
	common
}

func (c *linkCmd) validate() error {
	for _, i := range c.Interfaces {
		if i == "" || strings.ContainsAny(i, "/ ") {
			return fmt.Errorf("--interface %q: give a device name such as ether0", i)
		}
	}
	return nil
}

func (c *linkCmd) run(ctx context.Context, h *host) *checkers.Checker {
	var rs []*checkers.Checker
	for _, i := range c.Interfaces {
		s, err := h.st.EtherStats(i)
		switch {
		case p9stats.IsNotExist(err):
			rs = append(rs, checkers.Unknown(fmt.Sprintf("%s: no such interface (no /net/%s/stats)", i, i)))
		case err != nil:
			rs = append(rs, checkers.Unknown(err.Error()))
		case s.Link == 0:
			rs = append(rs, checkers.Critical(i+": link down"))
		default:
			rs = append(rs, checkers.Ok(fmt.Sprintf("%s: link up, %d Mbps", i, s.Mbps)))
		}
	}
	return worst(rs)
}
