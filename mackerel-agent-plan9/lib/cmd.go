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
	Shard   string `long:"shard" value-name:"K/N" description:"in fleet mode, watch only the hosts whose name hashes to K of N, so that N agents split a fleet"`
}

type onceCmd struct{}
type configtestCmd struct{}
type versionCmd struct{}
type retireCmd struct {
	Force bool   `long:"force" description:"do not ask for confirmation"`
	Host  string `long:"host" value-name:"NAME" description:"in fleet mode, retire the host of [host.NAME]"`
}

// IO is where a command reads and writes; Stop delivers the notes (or
// signals) that stop the agent, Hangup a hangup (SIGHUP), which stops the
// native agent and makes a fleet's read its configuration again.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Stop, Hangup   <-chan struct{}
}

// Do runs the agent with the process's arguments and exits.
func Do() {
	stop, hup := make(chan struct{}, 2), make(chan struct{}, 2)
	notify(stop, stopSignals...)
	notify(hup, hangupSignals...)
	os.Exit(Run(os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Stop: stop, Hangup: hup}))
}

// notify passes the signals on to ch, dropping one that finds ch full.
func notify(ch chan struct{}, sigs ...os.Signal) {
	if len(sigs) == 0 {
		return
	}
	c := make(chan os.Signal, 2)
	signal.Notify(c, sigs...)
	go func() {
		for range c {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
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
	var shard Shard
	if err == nil && opts.Shard != "" {
		shard, err = ParseShard(opts.Shard)
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
		if !config.Test(io.Stderr, opts.Conf, func(c *config.Config) error {
			if c.Fleet() {
				return nil
			}
			return checkNamespace(opts.Root)
		}) {
			return 1
		}
		return 0
	case "once":
		return once(opts, io)
	case "retire":
		return retire(opts, rc, io)
	}
	return runAgent(opts, shard, io)
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

func runAgent(opts options, shard Shard, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	v, rev := cli.Build()
	lg := logger.New(io.Stderr, c.Verbose, c.Silent, nil)
	o := Options{Config: c, Log: io.Stderr, Version: v, Revision: rev, Runner: &runner.Runner{}}
	stop := io.Stop
	if c.Fleet() {
		o.Fleet, o.Shard = true, shard
		reload := make(chan *config.Config, 1)
		o.Reload = reload
		go reloads(opts, io.Hangup, reload, lg)
	} else {
		if opts.Shard != "" {
			return errorf(io.Stderr, "--shard: the configuration has no [host.NAME] tables to share out")
		}
		if o.Hosts, err = nativeHosts(opts, c, lg, filepath.Join(c.Root, "work")); err != nil {
			return errorf(io.Stderr, "%v", err)
		}
		stop = merge(io.Stop, io.Hangup)
	}
	if err := os.MkdirAll(c.Root, 0o755); err != nil {
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
	a, err := New(o)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if c.Fleet() {
		a.log.Infof("Start: apibase = %s, root = %s, watching %d of %d hosts", c.Apibase, c.Root, len(a.hosts), len(c.Hosts))
	} else {
		a.log.Infof("Start: apibase = %s, root = %s", c.Apibase, c.Root)
	}
	if err := a.Run(stop); err != nil {
		if !errors.Is(err, ErrUnposted) {
			a.log.Errorf("%v", err)
		}
		return 1
	}
	return 0
}

// reloads reads the configuration again at each hangup and hands it on;
// one that cannot be used is logged, and the agent goes on as it was.
func reloads(opts options, hup <-chan struct{}, out chan<- *config.Config, lg *logger.Logger) {
	for range hup {
		c, unexpected, err := config.Load(opts.Conf, true)
		switch {
		case err != nil:
			lg.Errorf("Reloading: %v; going on as before", err)
			continue
		case !c.Fleet():
			lg.Errorf("Reloading %s: it has no [host.NAME] tables left; going on as before (stop the agent to change mode)", opts.Conf)
			continue
		}
		for _, u := range unexpected {
			lg.Warningf("%s: %s", u.File, u)
		}
		out <- c
	}
}

// merge is one channel that receives what either does.
func merge(a, b <-chan struct{}) <-chan struct{} {
	out := make(chan struct{}, 2)
	for _, c := range []<-chan struct{}{a, b} {
		if c == nil {
			continue
		}
		go func() {
			for range c {
				out <- struct{}{}
			}
		}()
	}
	return out
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

// retire retires the host the id file names and deletes the file: this
// host's, or in fleet mode the one of --host.
func retire(opts options, rc retireCmd, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	idFile := c.IDFile()
	switch {
	case rc.Host != "" && c.Hosts[rc.Host] == nil:
		return errorf(io.Stderr, "--host %s: the configuration has no [host.%s]", rc.Host, rc.Host)
	case rc.Host != "":
		idFile = filepath.Join(c.HostDir(rc.Host), "id")
	case c.Fleet():
		return errorf(io.Stderr, "retire: the configuration watches a fleet; name the host with --host NAME")
	}
	id, err := loadHostID(idFile)
	if errors.Is(err, os.ErrNotExist) {
		return errorf(io.Stderr, "no host to retire: %s does not exist", idFile)
	}
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if !rc.Force {
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
	if err := a.Retire(context.Background(), idFile); err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	return 0
}
