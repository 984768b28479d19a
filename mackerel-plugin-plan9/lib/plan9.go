// Package mpplan9 is mackerel-plugin-plan9: a Mackerel metrics plugin for
// Plan 9 and 9front hosts, read locally or from another machine through a
// mounted name space or 9P.
package mpplan9

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jessevdk/go-flags"
	mp "github.com/mackerelio/go-mackerel-plugin"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/metricname"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/statefile"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

const name = "mackerel-plugin-plan9"

type options struct {
	Prefix   string        `long:"metric-key-prefix" value-name:"PREFIX" default:"plan9" description:"metric key prefix: metrics are posted as custom.PREFIX.*"`
	Tempfile string        `long:"tempfile" value-name:"PATH" description:"state file for rates (default: a file in $MACKEREL_PLUGIN_WORKDIR, or in a directory of this user's own in the temporary directory, named after the prefix and the name space)"`
	FS       []string      `long:"fs" value-name:"KIND:CONSOLE" description:"report a file server's space, asking its console: cwfs:/srv/cwfs.cmd, hjfs:/srv/hjfs.cmd, gefs:/srv/gefs.cmd or fossil:/srv/fscons (repeatable; needs the host owner)"`
	Timeout  time.Duration `long:"timeout" value-name:"DURATION" default:"10s" description:"end the run by then, printing what was read"`
	Version  bool          `long:"version" description:"print the version and exit"`

	cli.WithUser `group:"Name space"`
}

// Plugin collects the metrics of one name space.
type Plugin struct {
	Prefix   string
	FS       ns.FS
	Consoles []fsspace.Spec
	// StateFile holds the previous sample of counters for rates; Identity
	// names the name space so that a file of another host is not used.
	// With no StateFile every run is a first run.
	StateFile string
	Identity  string
	// Interval is how long to wait between two samples when there is no
	// usable previous one, so that even the first run prints rates.
	Interval time.Duration
	Now      func() time.Time
	Stderr   io.Writer
}

// MetricKeyPrefix and GraphDefinition make Plugin a go-mackerel-plugin
// plugin, which prints the graph definitions.
func (p *Plugin) MetricKeyPrefix() string { return p.Prefix }

func (p *Plugin) GraphDefinition() map[string]mp.Graphs {
	lp := "Plan 9"
	if p.Prefix != "plan9" {
		lp = strings.ToUpper(p.Prefix[:1]) + p.Prefix[1:]
	}
	return graphs(lp)
}

// FetchMetrics is go-mackerel-plugin's entry point for values. The values
// are printed by Output instead, because go-mackerel-plugin looks up the
// values of non-wildcard graphs by bare metric name, and this contract has
// used and total in both plan9.memory and plan9.swap.
func (p *Plugin) FetchMetrics() (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return p.Collect(ctx)
}

func (p *Plugin) warnf(format string, args ...any) {
	fmt.Fprintf(p.Stderr, name+": "+format+"\n", args...)
}

// Collect reads the name space and returns the metrics, keyed relative to
// the prefix. What could not be read is reported on Stderr, one line per
// source, and left out; everything else is still returned. It returns by
// ctx's deadline.
//
// When the name space is not a Plan 9 one (p9stats.FS.CheckPlan9), it
// reports nothing, saves no state and returns the *p9stats.NamespaceError.
func (p *Plugin) Collect(ctx context.Context) (map[string]float64, error) {
	st := p9stats.NewFS(p.FS)
	var spaces []fsspace.Result
	var wg sync.WaitGroup
	// Freeing an older state's blocks can be slow: do it while reading.
	dropped := make(chan struct{})
	go func() {
		defer close(dropped)
		dropOld(p.StateFile)
	}()
	defer func() { <-dropped }()
	if len(p.Consoles) > 0 {
		wg.Go(func() { spaces = fsspace.ReadAll(ctx, p.FS, p.Consoles) })
	}
	snap := st.Snapshot(ctx, allSources)
	if err := st.CheckPlan9(snap); err != nil {
		wg.Wait()
		return nil, err
	}
	p.report(snap)
	cur := countersOf(snap)
	cur.Time = p.Now()

	var r map[string]float64
	var drops []string
	prev, err := loadState(p.StateFile, p.Identity, cur.Time)
	refused := err != nil && err != errNoState
	if err == nil && cur.Time.Sub(prev.Time) > maxGap {
		// Too old to average over: measure anew, as a first run does.
		err = fmt.Errorf("the previous sample is %v old, more than %v", cur.Time.Sub(prev.Time).Round(time.Second), maxGap)
	}
	switch {
	case err == nil:
		r, drops = rates(prev, cur)
	default:
		// No usable previous sample: measure over a short interval now.
		if err != errNoState {
			p.warnf("%v; measuring rates over %v", err, p.Interval)
		}
		select {
		case <-time.After(p.Interval):
			next := countersOf(st.Snapshot(ctx, counterSources))
			next.Time = p.Now()
			r, drops = rates(cur, next)
			cur = next
		case <-ctx.Done():
			drops = []string{"no time left to measure them"}
		}
	}
	for _, d := range drops {
		p.warnf("rates left out: %s", d)
	}
	if len(cur.Counters) > 0 {
		<-dropped
		// A state refused as unsafe (a neighbour's file in a shared
		// directory) may not be replaced either: its line says why.
		if err := saveState(p.StateFile, p.Identity, cur); err != nil && !refused {
			p.warnf("saving state: %v", err)
		}
	}
	wg.Wait()
	for _, res := range spaces {
		if res.Err != nil {
			p.warnf("filesystem: %s", oneLine(res.Err.Error()))
		}
	}
	m := gaugesOf(&reading{snap: snap, spaces: spaces})
	for k, v := range r {
		m[k] = v
	}
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	return m, nil
}

// report prints one line on Stderr for each source that failed, except
// sources that are simply absent on this host.
func (p *Plugin) report(s *p9stats.Snapshot) {
	var srcs []p9stats.Source
	for src, err := range s.Errors {
		if !p9stats.IsNotExist(err) {
			srcs = append(srcs, src)
		}
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i] < srcs[j] })
	for _, src := range srcs {
		p.warnf("%v: %s", src, oneLine(s.Errors[src].Error()))
	}
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "; ")
}

// Output prints the metrics as the agent reads them: name, value and time
// separated by tabs, sorted by name. Values print in full precision.
func (p *Plugin) Output(w io.Writer, m map[string]float64) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	now := p.Now().Unix()
	b := make([]byte, 0, len(keys)*(len(p.Prefix)+48))
	for _, k := range keys {
		b = append(b, p.Prefix...)
		b = append(b, '.')
		b = append(b, k...)
		b = append(b, '\t')
		b = strconv.AppendFloat(b, m[k], 'f', -1, 64)
		b = append(b, '\t')
		b = strconv.AppendInt(b, now, 10)
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

// Do runs the plugin with the process's arguments and exits.
func Do() {
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr))
}

// Run runs the plugin and returns the exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	var opts options
	parser := flags.NewParser(&opts, flags.HelpFlag|flags.PassDoubleDash)
	parser.Name = name
	parser.Usage = "[OPTIONS]"
	parser.LongDescription = "Prints metrics of a Plan 9 or 9front host for mackerel-agent: name, value and time on each line, or the graph definitions when MACKEREL_AGENT_PLUGIN_META is set."
	rest, help, err := cli.Parse(parser, args, stdout)
	if help {
		return 0
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && !metricname.ValidPrefix(opts.Prefix) {
		err = fmt.Errorf("--metric-key-prefix %q: use letters, digits, '-', '_' and single dots", opts.Prefix)
	}
	if err == nil {
		err = cli.CheckTimeout(opts.Timeout)
	}
	if err == nil {
		err = opts.WithUser.Check(parser.Command)
	}
	if err == nil {
		err = checkTempfile(parser.Command, opts.Tempfile)
	}
	var specs []fsspace.Spec
	for _, f := range opts.FS {
		s, perr := fsspace.ParseSpec(f)
		if perr != nil && err == nil {
			err = perr
		}
		specs = append(specs, s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		fmt.Fprintf(stderr, "Try %s --help.\n", name)
		return 1
	}
	if opts.Version {
		fmt.Fprintf(stdout, "%s %s\n", name, cli.Version())
		return 0
	}
	p := &Plugin{
		Prefix: opts.Prefix, Consoles: specs, Identity: opts.Resolve().Identity(),
		StateFile: opts.Tempfile, Interval: time.Second, Now: time.Now, Stderr: stderr,
	}
	if os.Getenv("MACKEREL_AGENT_PLUGIN_META") != "" {
		// The definitions are static: no need to reach the host.
		// go-mackerel-plugin prints them on os.Stdout.
		mp.NewMackerelPlugin(p).OutputDefinitions()
		return 0
	}
	if p.StateFile == "" {
		dir, err := stateDir()
		if err != nil {
			fmt.Fprintf(stderr, "%s: no state kept, rates measured within the run: %v\n", name, err)
		} else {
			h := sha1.Sum([]byte(p.Identity))
			p.StateFile = filepath.Join(dir, fmt.Sprintf("mackerel-plugin-%s-%x", p.Prefix, h[:8]))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	fsys, release, err := opts.Resolve().Open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer release()
	p.FS = fsys
	m, err := p.Collect(ctx)
	if err != nil {
		msg, ok := opts.Resolve().Explain(err)
		if !ok {
			msg = oneLine(err.Error())
		}
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		return 1
	}
	if err := p.Output(stdout, m); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// stateDir is where the state goes by default: $MACKEREL_PLUGIN_WORKDIR,
// which the agent makes, or else a directory of this user's own in the
// temporary directory, which other users share (statefile.PrivateDir).
func stateDir() (string, error) {
	if d := os.Getenv("MACKEREL_PLUGIN_WORKDIR"); d != "" {
		return d, nil
	}
	return statefile.PrivateDir("", name)
}

// checkTempfile reports a --tempfile that cannot be written: an empty
// name, a directory, or a file in a directory that is a file. A missing
// directory is made when the state is saved.
func checkTempfile(cmd *flags.Command, path string) error {
	if path == "" {
		if o := cmd.FindOptionByLongName("tempfile"); o != nil && o.IsSet() {
			return errors.New("--tempfile: empty; give a file name, or leave it out for the default")
		}
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--tempfile %s: a directory; give a file name", path)
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("--tempfile %s: %s is not a directory", path, dir)
			}
			return nil
		}
		if next := filepath.Dir(dir); next == dir {
			return nil
		}
	}
}
