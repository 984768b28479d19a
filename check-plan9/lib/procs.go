package checkplan9

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mackerelio/checkers"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

type procsCmd struct {
	Patterns      []string `short:"p" long:"pattern" value-name:"REGEXP" description:"count processes whose program name matches REGEXP (repeatable: each pattern is counted and judged)"`
	Exclude       []string `short:"x" long:"exclude-pattern" value-name:"REGEXP" description:"leave out processes whose program name matches REGEXP (repeatable)"`
	User          string   `short:"u" long:"user" value-name:"USER" description:"count only processes of USER"`
	State         string   `short:"s" long:"state" value-name:"STATE" description:"count only processes in STATE: a class (running, ready, sleeping, stopped, broken, moribund, new) or the state as ps shows it (Pread, Await, …)"`
	WarningOver   *int     `short:"w" long:"warning-over" value-name:"N" description:"WARNING when more than N processes match"`
	CriticalOver  *int     `short:"c" long:"critical-over" value-name:"N" description:"CRITICAL when more than N processes match"`
	WarningUnder  int      `short:"W" long:"warning-under" value-name:"N" default:"1" description:"WARNING when fewer than N processes match"`
	CriticalUnder int      `short:"C" long:"critical-under" value-name:"N" default:"1" description:"CRITICAL when fewer than N processes match"`
	Broken        bool     `long:"broken" description:"CRITICAL when any process is Broken (crashed and held for the debugger) and still is 2 s later, naming them; other thresholds are ignored"`
	commonNoUser

	patterns, exclude []*regexp.Regexp
}

func (c *procsCmd) validate() error {
	compile := func(flag string, ss []string) ([]*regexp.Regexp, error) {
		var rs []*regexp.Regexp
		for _, s := range ss {
			r, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %v", flag, s, err)
			}
			rs = append(rs, r)
		}
		return rs, nil
	}
	var err error
	if c.patterns, err = compile("--pattern", c.Patterns); err != nil {
		return err
	}
	if c.exclude, err = compile("--exclude-pattern", c.Exclude); err != nil {
		return err
	}
	for _, n := range []struct {
		flag string
		v    *int
	}{{"--warning-over", c.WarningOver}, {"--critical-over", c.CriticalOver}, {"--warning-under", &c.WarningUnder}, {"--critical-under", &c.CriticalUnder}} {
		if n.v != nil && *n.v < 0 {
			return fmt.Errorf("%s %d: give a number of processes, 0 or more", n.flag, *n.v)
		}
	}
	if c.State != "" && strings.TrimSpace(c.State) == "" {
		return errors.New("--state: empty; give a class such as broken or a state as ps shows it")
	}
	if _, isClass := p9stats.ParseStateClass(c.State); c.State != "" && !isClass && !p9stats.KnownState(c.State) {
		var classes []string
		for _, k := range p9stats.StateClasses {
			classes = append(classes, k.String())
		}
		return fmt.Errorf("--state %q: neither a class (%s) nor a state Plan 9 kernels show, such as Pread, Await or Rendez",
			c.State, strings.Join(classes, ", "))
	}
	return nil
}

func (c *procsCmd) pairs() []pair {
	ps := []pair{{warnFlag: "--warning-under", critFlag: "--critical-under", warn: float64(c.WarningUnder), crit: float64(c.CriticalUnder)}}
	if c.WarningOver != nil && c.CriticalOver != nil {
		ps = append(ps, pair{warnFlag: "--warning-over", critFlag: "--critical-over", warn: float64(*c.WarningOver), crit: float64(*c.CriticalOver), over: true})
	}
	return ps
}

func (c *procsCmd) match(p p9stats.ProcStatus) bool {
	if c.User != "" && p.User != c.User {
		return false
	}
	if c.State != "" && p.State != c.State {
		if class, ok := p9stats.ParseStateClass(c.State); !ok || class != p.Class {
			return false
		}
	}
	for _, x := range c.exclude {
		if x.MatchString(p.Name) {
			return false
		}
	}
	return true
}

func (c *procsCmd) run(ctx context.Context, h *host) *checkers.Checker {
	procs, err := h.st.Procs()
	if err != nil && len(procs) == 0 {
		return checkers.Unknown(err.Error())
	}
	if c.Broken {
		return broken(ctx, h, procs)
	}
	patterns := c.patterns
	if len(patterns) == 0 {
		patterns = []*regexp.Regexp{nil}
	}
	var rs []*checkers.Checker
	for _, re := range patterns {
		n := 0
		for _, p := range procs {
			if c.match(p) && (re == nil || re.MatchString(p.Name)) {
				n++
			}
		}
		st := checkers.OK
		switch {
		case c.CriticalOver != nil && n > *c.CriticalOver, n < c.CriticalUnder:
			st = checkers.CRITICAL
		case c.WarningOver != nil && n > *c.WarningOver, n < c.WarningUnder:
			st = checkers.WARNING
		}
		msg := fmt.Sprintf("Found %d matching processes", n)
		if re != nil {
			msg += fmt.Sprintf(" /%s/", re)
		}
		rs = append(rs, checkers.NewChecker(st, msg))
	}
	r := worst(rs)
	if err != nil {
		// Some /proc/N/status could not be read: say so, but count the rest.
		r.Message += " (" + strings.ReplaceAll(err.Error(), "\n", "; ") + ")"
	}
	return r
}

// brokenSettle is how long a process must stay Broken to count. On the
// 2016 9front kernels a Go program's helper procs are left Broken as it
// exits ("floating point in note handler"), and the agent ends what a
// plugin's run leaves within moments; a check reading /proc in that moment
// reported the agent's own plugin, CRITICAL for one minute in about
// twelve in a 9front guest. A Broken process is held until someone kills
// it, so one that is still Broken a little later is really there.
const brokenSettle = 2 * time.Second

// settle waits d unless ctx ends first or would end too soon after it for
// a second reading; it says whether it waited. Tests replace it.
var settle = defaultSettle

func defaultSettle(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// broken reports processes in the Broken state: on Plan 9 a program that
// faults is held as Broken for a debugger (acid) until someone kills it.
// Only processes Broken in procs and again brokenSettle later count (same
// pid and name); without the time for a second reading, the first counts.
func broken(ctx context.Context, h *host, procs []p9stats.ProcStatus) *checkers.Checker {
	first := brokenOf(procs)
	if len(first) > 0 && settle(ctx, brokenSettle) {
		// A second reading with files it could not read cannot clear
		// anyone: the first stands.
		if again, err := h.st.Procs(); err == nil {
			still := map[int]string{}
			for _, p := range brokenOf(again) {
				still[p.PID] = p.Name
			}
			first = slices.DeleteFunc(first, func(p p9stats.ProcStatus) bool {
				name, ok := still[p.PID]
				return !ok || name != p.Name
			})
			procs = again
		}
	}
	if len(first) == 0 {
		return checkers.Ok(fmt.Sprintf("no broken process among %d", len(procs)))
	}
	names := make([]string, len(first))
	for i, p := range first {
		names[i] = fmt.Sprintf("%s (pid %d, %s)", p.Name, p.PID, p.User)
	}
	return checkers.Critical(fmt.Sprintf("%d broken: %s", len(names), strings.Join(names, ", ")))
}

func brokenOf(procs []p9stats.ProcStatus) []p9stats.ProcStatus {
	var out []p9stats.ProcStatus
	for _, p := range procs {
		if p.Class == p9stats.StateBroken {
			out = append(out, p)
		}
	}
	return out
}
