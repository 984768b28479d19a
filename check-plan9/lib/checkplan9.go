// Package checkplan9 is check-plan9: Mackerel check plugins for Plan 9 and
// 9front hosts, one subcommand per check, with the flags go-check-plugins
// users know.
package checkplan9

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jessevdk/go-flags"
	"github.com/mackerelio/checkers"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

const name = "check-plan9"

// common holds the options every subcommand takes.
type common struct {
	Timeout      time.Duration `long:"timeout" value-name:"DURATION" default:"10s" description:"give up, UNKNOWN, after this long"`
	cli.WithUser `group:"Name space"`
}

func (c *common) opts() (cli.Namespace, time.Duration) { return c.Resolve(), c.Timeout }

func (c *common) checkFlags(cmd *flags.Command) error {
	if err := cli.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	return c.WithUser.Check(cmd)
}

// commonNoUser is common for procs, whose --user names a process owner:
// there the 9P attach name is only --9p-user.
type commonNoUser struct {
	Timeout       time.Duration `long:"timeout" value-name:"DURATION" default:"10s" description:"give up, UNKNOWN, after this long"`
	cli.Namespace `group:"Name space"`
}

func (c *commonNoUser) opts() (cli.Namespace, time.Duration) { return c.Namespace, c.Timeout }

func (c *commonNoUser) checkFlags(cmd *flags.Command) error {
	if err := cli.CheckTimeout(c.Timeout); err != nil {
		return err
	}
	return c.Namespace.Check(cmd)
}

// host is what a check reads.
type host struct {
	fs  ns.FS
	st  p9stats.FS
	now func() time.Time
}

// check is a subcommand.
type check interface {
	opts() (cli.Namespace, time.Duration)
	// checkFlags reports a common flag (--timeout, the name space) whose
	// value cannot work; cmd is the subcommand.
	checkFlags(cmd *flags.Command) error
	// run returns the result; it may take until ctx's deadline.
	run(ctx context.Context, h *host) *checkers.Checker
}

type globalOptions struct {
	Version bool `long:"version" description:"print the version and exit"`
}

var subcommands = []struct {
	name, checker, short, long string
	new                        func() check
}{
	{"reboot-required", "RebootRequired", "Is a newer kernel waiting for a reboot?",
		"WARNING (or CRITICAL with --critical) when the kernel that will boot next differs from the running one. The running kernel's build time is the modification time of #c/sysstat; the next kernel's is read from its kerndate symbol, or, for a kernel without symbols, estimated from its modification time.",
		func() check { return &rebootCmd{} }},
	{"memory", "Memory", "User memory in use",
		"Percent of user memory in use; pages the kernel can reclaim (9front's image and mount caches) count as free.",
		func() check { return &memoryCmd{} }},
	{"swap", "Swap", "Swap in use",
		"Percent of swap space in use. A host without swap is OK.",
		func() check { return &swapCmd{} }},
	{"load", "Load", "Load average",
		"Plan 9's load average: runnable processes, a decayed average over a few seconds (the kernel keeps no 5- or 15-minute figures).",
		func() check { return &loadCmd{} }},
	{"procs", "Procs", "Number of processes",
		"Counts processes by program name, user and state, like check-procs. Every --pattern is counted and judged; the worst result wins.",
		func() check { return &procsCmd{} }},
	{"uptime", "Uptime", "Time since boot",
		"Time since boot, from /dev/time.",
		func() check { return &uptimeCmd{} }},
	{"fs", "FileServer", "File-server free space",
		"Free space of cwfs, hjfs, gefs or fossil, asked on the file server's console; run as the host owner.",
		func() check { return &fsCmd{} }},
	{"link", "Link", "Ethernet link state",
		"CRITICAL when a named interface reports link 0 in /net/etherN/stats. Some drivers never set the link state; check by hand first.",
		func() check { return &linkCmd{} }},
}

// Do runs check-plan9 with the process's arguments and exits with the
// check's status.
func Do() {
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr))
}

// Run runs check-plan9 and returns the exit status: 0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN. The result is one line on stdout.
func Run(args []string, stdout, stderr io.Writer) int {
	var global globalOptions
	parser, checks, names := newParser(&global)
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		fmt.Fprintf(stdout, "%s %s\n", name, cli.Version())
		return 0
	}
	rest, help, err := cli.Parse(parser, args, stdout)
	if help {
		return 0
	}
	if err == nil && global.Version {
		fmt.Fprintf(stdout, "%s %s\n", name, cli.Version())
		return 0
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	var c check
	if err == nil {
		c = checks[parser.Active.Name]
		err = c.checkFlags(parser.Active)
	}
	if err == nil {
		err = validate(c, parser.Active)
	}
	if err != nil {
		return usage(stdout, stderr, parser, err)
	}
	nspace, timeout := c.opts()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var ckr *checkers.Checker
	if h, release, err := open(ctx, nspace); err != nil {
		ckr = checkers.Unknown(err.Error())
	} else {
		defer release()
		ckr = runWithin(ctx, timeout, c, h, nspace)
	}
	if ckr.Name == "" {
		ckr.Name = names[parser.Active.Name]
	}
	return result(stdout, ckr)
}

// newParser is check-plan9's command line: the global options, and each
// subcommand with its check and its checker's name.
func newParser(global *globalOptions) (*flags.Parser, map[string]check, map[string]string) {
	parser := flags.NewParser(global, flags.HelpFlag|flags.PassDoubleDash)
	parser.Name = name
	parser.Usage = "[OPTIONS]"
	parser.LongDescription = "Mackerel check plugins for Plan 9 and 9front hosts. Each subcommand prints one line, '<Name> <STATUS>: message', and exits 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN). See check-plan9 SUBCOMMAND --help."
	checks := map[string]check{}
	names := map[string]string{}
	for _, s := range subcommands {
		c := s.new()
		if _, err := parser.AddCommand(s.name, s.short, s.long, c); err != nil {
			panic(err) // the table above is wrong
		}
		checks[s.name], names[s.name] = c, s.checker
	}
	return parser, checks, names
}

// usage reports a bad command line: UNKNOWN, as the check could not run,
// with the usage on stderr.
func usage(stdout, stderr io.Writer, p *flags.Parser, err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	if p.Active != nil {
		fmt.Fprintf(stderr, "Try %s %s --help.\n", name, p.Active.Name)
	} else {
		p.WriteHelp(stderr)
	}
	return result(stdout, &checkers.Checker{Name: "CheckPlan9", Status: checkers.UNKNOWN, Message: msg})
}

// validater is implemented by subcommands that check their flags.
type validater interface{ validate() error }

// pair is a warning threshold and its critical one. over says they are
// upper limits (WARNING above warn); otherwise they are lower limits.
type pair struct {
	warnFlag, critFlag string // long names
	warn, crit         float64
	warnText, critText string // as given, where that is not the number
	over               bool
}

// pairer is implemented by subcommands that have both thresholds of a
// kind, after validate has parsed them.
type pairer interface{ pairs() []pair }

// validate checks a subcommand's flags (cmd is the subcommand): each
// value, and that no warning threshold lies beyond its critical one,
// where WARNING could never be reported. A threshold left at its default
// counts, and the message says so.
func validate(c check, cmd *flags.Command) error {
	if v, ok := c.(validater); ok {
		if err := v.validate(); err != nil {
			return err
		}
	}
	p, ok := c.(pairer)
	if !ok {
		return nil
	}
	var errs []error
	for _, t := range p.pairs() {
		if t.over && t.warn <= t.crit || !t.over && t.warn >= t.crit {
			continue
		}
		if t.warnText == "" {
			t.warnText = strconv.FormatFloat(t.warn, 'g', -1, 64)
		}
		if t.critText == "" {
			t.critText = strconv.FormatFloat(t.crit, 'g', -1, 64)
		}
		given := func(flag, text string) string {
			if o := cmd.FindOptionByLongName(strings.TrimPrefix(flag, "--")); o != nil && o.IsSetDefault() {
				text += " (the default)"
			}
			return flag + " " + text
		}
		most := "most"
		if !t.over {
			most = "least"
		}
		errs = append(errs, fmt.Errorf("%s is beyond %s, so WARNING could never be reported; give a %s of at %s %s",
			given(t.warnFlag, t.warnText), given(t.critFlag, t.critText), t.warnFlag, most, t.critText))
	}
	return errors.Join(errs...)
}

// open opens the name space, by ctx's deadline.
func open(ctx context.Context, n cli.Namespace) (*host, func(), error) {
	fsys, release, err := n.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &host{fs: fsys, st: p9stats.NewFS(fsys), now: time.Now}, release, nil
}

// runWithin runs the check and gives up, UNKNOWN, when ctx ends. A check
// that is UNKNOWN because the name space is not a Plan 9 one (a missing
// or empty --root, Linux's own /) says so instead, naming the flag.
func runWithin(ctx context.Context, timeout time.Duration, c check, h *host, n cli.Namespace) *checkers.Checker {
	done := make(chan *checkers.Checker, 1)
	go func() {
		ckr := c.run(ctx, h)
		if ckr.Status == checkers.UNKNOWN {
			if msg, ok := n.Explain(h.st.CheckPlan9(nil)); ok {
				ckr = checkers.Unknown(msg)
			}
		}
		done <- ckr
	}()
	select {
	case ckr := <-done:
		return ckr
	case <-ctx.Done():
		return checkers.Unknown(fmt.Sprintf("no answer within %v", timeout))
	}
}

// maxMessage is what Mackerel keeps of a check's message.
const maxMessage = 1024

func result(w io.Writer, ckr *checkers.Checker) int {
	ckr.Message = strings.ReplaceAll(strings.TrimRight(ckr.Message, "\n"), "\n", "; ")
	if r := []rune(ckr.Message); len(r) > maxMessage-len(ckr.Name)-12 {
		ckr.Message = string(r[:maxMessage-len(ckr.Name)-15]) + "..."
	}
	fmt.Fprintln(w, ckr.String())
	return int(ckr.Status)
}

// worst combines results: the most severe status wins, UNKNOWN counting
// below CRITICAL but above WARNING, and the messages are joined.
func worst(results []*checkers.Checker) *checkers.Checker {
	rank := map[checkers.Status]int{checkers.OK: 0, checkers.WARNING: 1, checkers.UNKNOWN: 2, checkers.CRITICAL: 3}
	out := &checkers.Checker{Status: checkers.OK}
	var msgs []string
	for _, r := range results {
		if rank[r.Status] > rank[out.Status] {
			out.Status = r.Status
		}
		msgs = append(msgs, r.Message)
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}
