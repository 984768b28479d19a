package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jessevdk/go-flags"
	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
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
	p.AddCommand("once", "Print the host's specs, one round of metrics and the graph definitions as JSON; post nothing", "Needs no API key.", &onceCmd{})
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
		opts.Conf = DefaultConfigFile()
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
		return configtest(opts, io)
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

// load reads the configuration, reports its unknown keys and notices on
// w, and applies the command line.
func load(opts options, requireKey bool, w io.Writer) (*Config, error) {
	c, unexpected, err := LoadConfig(opts.Conf, requireKey)
	if err != nil {
		return nil, err
	}
	for _, u := range unexpected {
		fmt.Fprintf(w, "[WARNING] %s: %s\n", u.File, u)
	}
	for _, n := range c.Notices {
		fmt.Fprintf(w, "[NOTICE] %s\n", n)
	}
	if opts.Verbose {
		c.Verbose = true
	}
	return c, nil
}

// configtest checks the file as upstream's configtest does: every unknown
// key is a warning naming the nearest known one, and fails the test.
func configtest(opts options, io IO) int {
	c, unexpected, err := LoadConfig(opts.Conf, true)
	if err != nil {
		fmt.Fprintf(io.Stderr, "[CRITICAL] failed to test config: %v\n", err)
		return 1
	}
	for _, n := range c.Notices {
		fmt.Fprintf(io.Stderr, "[NOTICE] %s\n", n)
	}
	if len(unexpected) > 0 {
		for _, u := range unexpected {
			fmt.Fprintf(io.Stderr, "[WARNING] %s\n", u)
		}
		return 1
	}
	fmt.Fprintf(io.Stderr, "SUCCESS (%s)\n", opts.Conf)
	return 0
}

// setProxy passes http_proxy and https_proxy on as upstream does: through
// the environment, so that plugins see them too.
func setProxy(c *Config) {
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

// openSystem checks that the name space is a Plan 9 one and returns the
// agent's view of it.
func openSystem(opts options, c *Config, logf func(string, ...any)) (System, error) {
	fsys := ns.Dir(opts.Root)
	if err := checkNamespace(fsys, opts.Root); err != nil {
		return nil, err
	}
	return newSystem(fsys, c.Consoles, logf), nil
}

func runAgent(opts options, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	v, rev := cli.Build()
	lg := &logger{w: io.Stderr, verbose: c.Verbose, silent: c.Silent}
	sys, err := openSystem(opts, c, lg.Warningf)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if err := writePidfile(c.Pidfile); err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	defer os.Remove(c.Pidfile)
	a, err := New(Options{Config: c, System: sys, Log: io.Stderr, Version: v, Revision: rev})
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	if err := a.Run(io.Stop); err != nil {
		a.log.Errorf("%v", err)
		return 1
	}
	return 0
}

// writePidfile records the agent's pid, refusing to start a second agent
// on the same root.
func writePidfile(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && processExists(pid) {
			return fmt.Errorf("an agent already runs as pid %d (%s); stop it first, or remove %s if it is not an agent", pid, path, path)
		}
	}
	return writeFileAtomic(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// onceOutput is what once prints.
type onceOutput struct {
	Host      *mackerel.CreateHostParam  `json:"host"`
	Metrics   onceMetrics                `json:"metrics"`
	GraphDefs []*mackerel.GraphDefsParam `json:"graphDefs"`
}

type onceMetrics struct {
	Time int64 `json:"time"`
	// Values are this host's: the system metrics and the plugins' without
	// custom_identifier.
	Values map[string]float64 `json:"values"`
	// CustomIdentifiers holds the values of plugins that post to other
	// hosts, by custom_identifier.
	CustomIdentifiers map[string]map[string]float64 `json:"customIdentifiers,omitempty"`
}

// onceInterval is the interval over which once measures rates, as
// upstream's once.
const onceInterval = time.Second

// once prints the host's specs, one round of metrics with rates over one
// second, and the plugins' graph definitions, and posts nothing.
func once(opts options, io IO) int {
	c, err := load(opts, false, io.Stderr)
	if _, serr := os.Stat(opts.Conf); err != nil && errors.Is(serr, fs.ErrNotExist) {
		// As upstream's once: no configuration is no plugins, not an
		// error. One that exists but cannot be used is.
		fmt.Fprintf(io.Stderr, "[NOTICE] %s does not exist: the system metrics only\n", opts.Conf)
		c, err = emptyConfig(opts.Conf)
	}
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	v, rev := cli.Build()
	lg := &logger{w: io.Stderr, verbose: c.Verbose, silent: c.Silent}
	sys, err := openSystem(opts, c, lg.Warningf)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	a, err := New(Options{Config: c, System: sys, Log: io.Stderr, Version: v, Revision: rev})
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	out, err := a.once(context.Background())
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	fmt.Fprintf(io.Stdout, "%s\n", b)
	return 0
}

func (a *Agent) once(ctx context.Context) (*onceOutput, error) {
	if err := os.MkdirAll(a.workdir, 0o755); err != nil {
		return nil, err
	}
	param, err := a.hostParam(ctx)
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	a.sys.Sample(sctx, now)
	cancel()
	a.sleep(onceInterval)
	now = a.clock.Now()
	sctx, cancel = context.WithTimeout(ctx, sampleTimeout)
	a.sys.Sample(sctx, now)
	cancel()
	cctx, cancel := context.WithTimeout(ctx, collectTimeout)
	sys := a.sys.Collect(cctx, now)
	cancel()
	out := &onceOutput{Host: param, Metrics: onceMetrics{Time: now.Unix(), Values: map[string]float64{}}}
	for n, v := range sys {
		if !a.ignoredSystemMetric(n) {
			out.Metrics.Values[n] = v
		}
	}
	for _, n := range sortedKeys(a.conf.MetricPlugins) {
		p := a.conf.MetricPlugins[n]
		m := out.Metrics.Values
		if p.CustomIdentifier != "" {
			if out.Metrics.CustomIdentifiers == nil {
				out.Metrics.CustomIdentifiers = map[string]map[string]float64{}
			}
			if out.Metrics.CustomIdentifiers[p.CustomIdentifier] == nil {
				out.Metrics.CustomIdentifiers[p.CustomIdentifier] = map[string]float64{}
			}
			m = out.Metrics.CustomIdentifiers[p.CustomIdentifier]
		}
		for _, v := range a.pluginValues(p, now) {
			m[v.Name] = v.Value
		}
	}
	out.GraphDefs = a.graphDefs()
	if out.GraphDefs == nil {
		out.GraphDefs = []*mackerel.GraphDefsParam{}
	}
	return out, nil
}

// retire retires the host the id file names and deletes the file.
func retire(opts options, force bool, io IO) int {
	c, err := load(opts, true, io.Stderr)
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	setProxy(c)
	id, err := loadHostID(c)
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(io.Stderr, "no host to retire: %s does not exist", c.idFile())
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
	err = a.retry("retiring the host", 10, startInterval, func() error {
		return a.api.RetireHostContext(context.Background(), id)
	})
	if err != nil {
		return errorf(io.Stderr, "retiring the host %s failed: %v", id, apiErrorHint(err))
	}
	a.log.Infof("This host (hostID: %s) has been retired.", id)
	if err := os.Remove(c.idFile()); err != nil {
		a.log.Warningf("Failed to remove the host id file: %v", err)
	}
	return 0
}

// emptyConfig is the configuration of no file: defaults, no plugins.
func emptyConfig(file string) (*Config, error) {
	c := &Config{File: file, MetricPlugins: map[string]*MetricPlugin{}, CheckPlugins: map[string]*CheckPlugin{}}
	return c, c.finish(false)
}
