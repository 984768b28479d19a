package checkplan9

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mackerelio/checkers"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// Check is a check-plan9 command line parsed once, to be run in-process
// against any name space as often as needed: the agent's fleet mode runs
// a host's checks so, without a process per host per minute.
type Check struct {
	c       check
	checker string
	timeout time.Duration
}

// Parse reads a check-plan9 command line without "check-plan9": the
// subcommand and its options, as a check's line in the agent's
// configuration gives it. Options that choose a name space (--root, --9p
// and the like) are refused: the caller gives the name space.
func Parse(args []string) (*Check, error) {
	var global globalOptions
	parser, checks, names := newParser(&global)
	rest, help, err := cli.Parse(parser, args, io.Discard)
	switch {
	case help:
		return nil, errors.New("--help is not a check")
	case err != nil:
		return nil, errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	case len(rest) > 0:
		return nil, fmt.Errorf("unexpected argument %q", rest[0])
	case parser.Active == nil:
		return nil, errors.New("no check named")
	}
	for _, o := range []string{"root", "9p", "aname", "9p-user", "auth-key", "auth-server"} {
		if opt := parser.Active.FindOptionByLongName(o); opt != nil && opt.IsSet() && !opt.IsSetDefault() {
			return nil, fmt.Errorf("--%s: the host's name space is the agent's to choose", o)
		}
	}
	c := checks[parser.Active.Name]
	if err := c.checkFlags(parser.Active); err != nil {
		return nil, err
	}
	if err := validate(c, parser.Active); err != nil {
		return nil, err
	}
	_, timeout := c.opts()
	return &Check{c: c, checker: names[parser.Active.Name], timeout: timeout}, nil
}

// Run runs the check on fsys, the name space of the host at addr, and
// returns its exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and the
// line check-plan9 would print, by ctx's deadline or the check's
// --timeout, whichever comes first.
func (c *Check) Run(ctx context.Context, fsys ns.FS, addr string) (status int, line string) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	h := &host{fs: fsys, st: p9stats.NewFS(fsys), now: time.Now}
	ckr := runWithin(ctx, c.timeout, c.c, h, cli.Namespace{NineP: addr})
	if ckr.Name == "" {
		ckr.Name = c.checker
	}
	var b strings.Builder
	status = result(&b, ckr)
	return status, strings.TrimRight(b.String(), "\n")
}

// Unknown is the line check-plan9 prints for a check that could not run.
func (c *Check) Unknown(msg string) string {
	var b strings.Builder
	result(&b, &checkers.Checker{Name: c.checker, Status: checkers.UNKNOWN, Message: msg})
	return strings.TrimRight(b.String(), "\n")
}
