// Package cli holds what mackerel-plugin-plan9 and check-plan9 share on
// their command lines: the options that choose the name space to read, the
// single-dash spelling of long options, and the version string.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jessevdk/go-flags"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/remote"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// Namespace chooses the Plan 9 name space a command reads.
type Namespace struct {
	Root     string `long:"root" value-name:"DIR" default:"/" description:"read the Plan 9 name space rooted at DIR: / on a Plan 9 host, or a name space mounted (v9fs, 9pfuse) or copied elsewhere"`
	NineP    string `long:"9p" value-name:"ADDR" description:"read the name space a Plan 9 host exports over 9P at ADDR, a dial string (tcp!host!port) or host:port, instead of --root; or rcpu!host[!port] to authenticate with dp9ik and encrypt with TLS, as rimport does (needs --auth-key)"`
	Aname    string `long:"aname" value-name:"PATH" description:"with --9p, the tree to attach (exportfs's -r root, or a path under it)"`
	AttachAs string `long:"9p-user" value-name:"NAME" description:"with --9p, the user name to attach as (default: $USER, else none); over rcpu, the key's user"`
	// AuthKey and AuthServer are for rcpu!host addresses.
	AuthKey    string `long:"auth-key" value-name:"FILE" description:"with --9p rcpu!host, the file holding the dp9ik key, one line: key proto=dp9ik dom=DOMAIN user=USER !password=SECRET; readable only by its owner"`
	AuthServer string `long:"auth-server" value-name:"ADDR" description:"with --9p rcpu!host, the domain's auth server, such as tcp!auth!567 (default: p9auth.DOMAIN)"`
}

// WithUser is Namespace with --user, the shorter name for --9p-user, for
// every command but check-plan9 procs, whose --user is a process owner.
type WithUser struct {
	Namespace
	User string `long:"user" value-name:"NAME" description:"the same as --9p-user"`
}

// Resolve returns the Namespace with --user applied.
func (w WithUser) Resolve() Namespace {
	n := w.Namespace
	if n.AttachAs == "" {
		n.AttachAs = w.User
	}
	return n
}

// Open returns the name space and a function that releases it. Dialling
// and attaching over 9P end by ctx's deadline.
func (n Namespace) Open(ctx context.Context) (ns.FS, func(), error) {
	if n.NineP == "" {
		return ns.Dir(n.Root), func() {}, nil
	}
	user := n.AttachAs
	if user == "" {
		user = os.Getenv("USER")
	}
	if user == "" {
		user = os.Getenv("user") // Plan 9's rc
	}
	if user == "" {
		user = "none"
	}
	c, err := remote.Dial(ctx, n.NineP, remote.Options{User: user, Aname: n.Aname, KeyFile: n.AuthKey, AuthServer: n.AuthServer})
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// given reports whether the option long of cmd (or of a command above it)
// was given on the command line, rather than left at its default.
func given(cmd *flags.Command, long string) bool {
	o := cmd.FindOptionByLongName(long)
	return o != nil && o.IsSet() && !o.IsSetDefault()
}

// Check reports the first name-space option whose value cannot work,
// naming it, before anything is read. cmd is the command whose options
// hold n.
func (n Namespace) Check(cmd *flags.Command) error {
	switch {
	case given(cmd, "9p") && n.NineP == "":
		return errors.New("--9p: empty; give the address of a Plan 9 host's exportfs, such as tcp!gnot!17564")
	case n.NineP != "" && given(cmd, "root"):
		return errors.New("--root and --9p: give one or the other")
	case n.NineP == "" && n.Root == "":
		return errors.New("--root: empty; give a directory, such as / on a Plan 9 host or /mnt/gnot")
	case n.NineP == "" && given(cmd, "aname"):
		return errors.New("--aname: only with --9p")
	case n.NineP == "" && given(cmd, "9p-user"):
		return errors.New("--9p-user: only with --9p")
	case !remote.IsRcpu(n.NineP) && n.AuthKey != "":
		return errors.New("--auth-key: only with --9p rcpu!host")
	case !remote.IsRcpu(n.NineP) && n.AuthServer != "":
		return errors.New("--auth-server: only with --9p rcpu!host")
	case remote.IsRcpu(n.NineP) && n.AuthKey == "":
		return errors.New("--9p " + n.NineP + ": give the dp9ik key file with --auth-key FILE")
	}
	if n.NineP != "" {
		var oe *remote.OptionError
		if err := remote.Check(n.NineP, remote.Options{KeyFile: n.AuthKey, AuthServer: n.AuthServer}); errors.As(err, &oe) {
			flag := map[string]string{"address": "--9p", "key file": "--auth-key", "auth server": "--auth-server"}[oe.Option]
			return fmt.Errorf("%s: %s", flag, strings.TrimPrefix(oe.Err.Error(), "9P: "))
		}
	}
	return nil
}

// Check is Namespace.Check, and --user, which names the 9P user, only
// with --9p.
func (w WithUser) Check(cmd *flags.Command) error {
	if err := w.Namespace.Check(cmd); err != nil {
		return err
	}
	if w.NineP == "" && given(cmd, "user") {
		return errors.New("--user: only with --9p, as the user to attach as")
	}
	return nil
}

// CheckTimeout reports a --timeout that would end the run before it began.
func CheckTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("--timeout %v: give a duration above zero, such as 10s", d)
	}
	return nil
}

// Explain turns err, when it says that the name space is not a Plan 9
// one (a *p9stats.NamespaceError), into one line naming the option, what
// was found and what to do about it. For any other error, ok is false.
func (n Namespace) Explain(err error) (msg string, ok bool) {
	what, ok := n.Describe(err)
	if !ok {
		return "", false
	}
	todo := "point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)"
	var ne *p9stats.NamespaceError
	errors.As(err, &ne)
	switch {
	case n.NineP != "" && ne.Problem == p9stats.NamespaceLinux:
		todo = "give the address of a Plan 9 host's exportfs"
	case n.NineP != "":
		todo = "export the Plan 9 host's root (exportfs -r /), letting /dev, /net and /proc through any -P pattern"
	}
	return what + "; " + todo, true
}

// Describe says what Explain says of a name space that is not a Plan 9
// one, without what to do about it, which differs between commands.
func (n Namespace) Describe(err error) (what string, ok bool) {
	var ne *p9stats.NamespaceError
	if !errors.As(err, &ne) {
		return "", false
	}
	what = "--root " + n.Root
	if n.NineP != "" {
		what = "--9p " + n.NineP
		if n.Aname != "" {
			what += " --aname " + n.Aname
		}
	}
	switch ne.Problem {
	case p9stats.NamespaceMissing:
		return what + " does not exist", true
	case p9stats.NamespaceNotDir:
		return what + " is not a directory", true
	case p9stats.NamespaceUnreadable:
		return fmt.Sprintf("%s cannot be read (%v)", what, ne.Err), true
	case p9stats.NamespaceLinux:
		return fmt.Sprintf("%s is Linux's name space, not a Plan 9 one (%s is in Linux's format)", what, ne.File), true
	}
	return what + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap", true
}

// Identity names the name space for state files: runs that read the same
// host share their state, runs that read different hosts do not.
func (n Namespace) Identity() string {
	if n.NineP != "" {
		return "9p:" + n.NineP + ":" + n.Aname
	}
	return "root:" + n.Root
}

// FixArgs rewrites single-dash long options, such as -metric-key-prefix=x
// and -tempfile x that users copy from other Mackerel plugins (which use
// Go's flag package), into the double-dash form go-flags parses. Only names
// that are long options of some command of the parser are rewritten.
func FixArgs(p *flags.Parser, args []string) []string {
	long := map[string]bool{}
	var walk func(c *flags.Command)
	var group func(g *flags.Group)
	group = func(g *flags.Group) {
		for _, o := range g.Options() {
			if o.LongName != "" {
				long[o.LongName] = true
			}
		}
		for _, sub := range g.Groups() {
			group(sub)
		}
	}
	walk = func(c *flags.Command) {
		group(c.Group)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(p.Command)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// version is set by the release build: -ldflags "-X …/internal/cli.version=v1.2.3".
var (
	version = ""
	commit  = ""
)

// Build is this build's version and commit: what goreleaser stamped, or
// what the Go toolchain recorded for a plain go build or go install.
// version is "devel" and commit "" when neither says.
func Build() (v, c string) {
	v, c = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return v, c
}

// Version describes this build: "v1.2.3 (0123456789ab)".
func Version() string {
	v, c := Build()
	if c != "" {
		return v + " (" + c + ")"
	}
	return v
}

// Parse parses args with p after FixArgs. When --help was asked for, its
// text is printed on stdout and help is true. Any other error is returned
// for the caller to report.
func Parse(p *flags.Parser, args []string, stdout io.Writer) (rest []string, help bool, err error) {
	p.Options &^= flags.PrintErrors
	rest, err = p.ParseArgs(FixArgs(p, args))
	var fe *flags.Error
	if errors.As(err, &fe) && fe.Type == flags.ErrHelp {
		fmt.Fprintln(stdout, fe.Message)
		return rest, true, nil
	}
	return rest, false, err
}
