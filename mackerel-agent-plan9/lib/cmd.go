package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/jessevdk/go-flags"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/pidfile"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

const name = "mackerel-agent-plan9"

type options struct {
	Conf    string `long:"conf" value-name:"FILE" description:"the configuration file (default: $home/lib/mackerel/agent.conf)"`
	Root    string `long:"root" value-name:"DIR" default:"/" description:"the Plan 9 name space to read: / on a Plan 9 host, or one mounted or copied elsewhere (the state directory is the configuration's root)"`
	Verbose bool   `short:"v" long:"verbose" description:"log DEBUG lines too, as verbose = true"`
}

type onceCmd struct{}
type configtestCmd struct{}
type versionCmd struct{}
type retireCmd struct {
	Force bool `long:"force" description:"do not ask for confirmation"`
}

// IO is where a command reads and writes; Stop delivers the notes (or
// signals) that stop the agent.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Stop           <-chan struct{}
}

// Do runs the agent with the process's arguments and exits.
func Do() {
	stop := make(chan struct{}, 2)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	go func() {
		for range sigs {
			stop <- struct{}{}
		}
	}()
	os.Exit(Run(os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Stop: stop}))
}

// Run runs the command line and returns the exit status.
func Run(args []string, io IO) int {
	var opts options
	p := flags.NewParser(&opts, flags.HelpFlag|flags.PassDoubleDash)
	p.Name = name
	p.Usage = "[OPTIONS] [once | configtest | retire | version]"
	p.LongDescription = "A Mackerel agent for the Plan 9 or 9front host it runs on: it registers the host, posts its system metrics and the values of metric plugins every minute, and runs check plugins. With no command it runs in the foreground, logging to standard error, until an interrupt or hangup note."
	p.SubcommandsOptional = true
	p.AddCommand("once", "Print the host's specs, one round of metrics and the graph definitions as JSON; post nothing, write nothing", "Needs no API key.", &onceCmd{})
	p.AddCommand("configtest", "Check the configuration file", "Exit status 1 when a key is unknown or the file cannot be used.", &configtestCmd{})
	var rc retireCmd
	p.AddCommand("retire", "Retire this host on Mackerel and delete its id file", "", &rc)
	p.AddCommand("version", "Print the version", "", &versionCmd{})
	rest, help, err := cli.Parse(p, args, io.Stdout)
	if help {
		return 0
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && opts.Root == "" {
		err = errors.New("--root: give a directory")
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "%s: %v\nTry %s --help.\n", name, err, name)
		return 1
	}
	if opts.Conf == "" {
		opts.Conf = config.DefaultConfigFile()
	}
	cmd := ""
	if p.Active != nil {
		cmd = p.Active.Name
	}
	switch cmd {
	case "version":
		v, c := cli.Build()
		if c == "" {
			c = "unknown"
		}
		fmt.Fprintf(io.Stdout, "%s version %s (rev %s) [%s %s %s]\n", name, v, c, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return 0
	case "configtest":
		if !config.Test(io.Stderr, opts.Conf, func(*config.Config) error { return checkNamespace(opts.Root) }) {
			return 1
		}
		return 0
	case "once":
		return once(opts, io)
	case "retire":
		return retire(opts, rc.Force, io)
	}
	return runAgent(opts, io)
}

func errorf(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, "%s: %s\n", name, fmt.Sprintf(format, args...))
	return 1
}

// load reads the configuration and reports on w what configtest would
// warn of, then applies the command line.
func load(opts options, requireKey bool, w io.Writer) (*config.Config, error) {
	c, unexpected, err := config.Load(opts.Conf, requireKey)
	if err != nil {
		return nil, err
	}
	for _, u := range unexpected {
		fmt.Fprintf(w, "[WARNING] %s: %s\n", u.File, u)
	}
	for _, n := range c.Notices {
		fmt.Fprintf(w, "[NOTICE] %s\n", n)
	}
	for _, s := range c.Warnings {
		fmt.Fprintf(w, "[WARNING] %s\n", s)
	}
	if opts.Verbose {
		c.Verbose = true
	}
	return c, nil
}

// setProxy passes http_proxy and https_proxy on as upstream does: through
// the environment, so that plugins see them too.
func setProxy(c *config.Config) {
	if c.HTTPProxy != "" {
		os.Setenv("HTTP_PROXY", c.HTTPProxy)
		if c.HTTPSProxy == "" && os.Getenv("HTTPS_PROXY") == "" {
			os.Setenv("HTTPS_PROXY", c.HTTPProxy)
		}
	}
	if c.HTTPSProxy != "" {
		os.Setenv("HTTPS_PROXY", c.HTTPSProxy)
	}
}

func runAgent(opts options, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	v, rev := cli.Build()
	lg := logger.New(io.Stderr, c.Verbose, c.Silent, nil)
	hosts, err := nativeHosts(opts, c, lg, filepath.Join(c.Root, "work"))
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if err := os.MkdirAll(filepath.Join(c.Root, "work"), 0o755); err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	pf, err := pidfile.Acquire(c.Pidfile)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	defer pf.Release()
	if !pf.Guarded() {
		lg.Warningf("The file server of %s keeps no exclusive-use files: a second agent started at the same instant would not be refused", c.Pidfile)
	}
	a, err := New(Options{Config: c, Hosts: hosts, Log: io.Stderr, Version: v, Revision: rev, Runner: &runner.Runner{}})
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	a.log.Infof("Start: apibase = %s, root = %s", c.Apibase, c.Root)
	if err := a.Run(io.Stop); err != nil {
		if !errors.Is(err, ErrUnposted) {
			a.log.Errorf("%v", err)
		}
		return 1
	}
	return 0
}

// nativeHosts is the host the agent runs on, read through the name space
// at --root; workdir is the plugins' MACKEREL_PLUGIN_WORKDIR ("" for
// none).
func nativeHosts(opts options, c *config.Config, lg *logger.Logger, workdir string) ([]HostOptions, error) {
	if err := checkNamespace(opts.Root); err != nil {
		return nil, err
	}
	sys := newSystem(opts.Root, c.Filesystems.Consoles, lg.Warningf)
	ho := HostOptions{IDFile: c.IDFile()}
	ho.DisplayName, ho.Roles, ho.System = c.DisplayName, c.Roles, sys
	ho.Plugins, ho.Checks = c.MetricPlugins, c.CheckPlugins
	ho.IgnoreInterfaces, ho.IgnoreFilesystems = c.Interfaces.Ignore, c.Filesystems.Ignore
	ho.Workdir = workdir
	return []HostOptions{ho}, nil
}

// retire retires the host the id file names and deletes the file.
func retire(opts options, force bool, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	id, err := loadHostID(c.IDFile())
	if errors.Is(err, os.ErrNotExist) {
		return errorf(io.Stderr, "no host to retire: %s does not exist", c.IDFile())
	}
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if !force {
		fmt.Fprintf(io.Stdout, "retire this host? (hostID: %s) [y/N]: ", id)
		line, _ := bufio.NewReader(io.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errorf(io.Stderr, "retirement is canceled")
		}
	}
	v, rev := cli.Build()
	a, err := New(Options{Config: c, Log: io.Stderr, Version: v, Revision: rev})
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if err := a.Retire(context.Background(), c.IDFile()); err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	return 0
}
