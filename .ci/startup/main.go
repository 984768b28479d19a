// Command startup measures how long the two commands take to run, as the
// agent runs them, against a Go hello-world built the same way: the
// figures in the README's Performance section.
//
//	go run ./.ci/startup          # 40 runs of each, the default
//	go run ./.ci/startup -n 100 -workdir /dev/shm
//
// It builds the hello-world, mackerel-plugin-plan9 and check-plan9 as
// released (CGO_ENABLED=0, -trimpath, -ldflags=-s -w) into a temporary
// directory, runs the plugin once so that a state file is present, and
// then runs, in turn and n times each:
//
//   - hello: the hello-world
//   - values: the plugin on the 9front capture with its state file, the
//     steady state of every run after an agent's first
//   - meta: the plugin with MACKEREL_AGENT_PLUGIN_META=1, which the agent
//     runs once when it starts
//   - check: check-plan9 memory on the same capture
//
// Runs are interleaved so that a change in the machine's load affects
// every command alike. Each time is the wall time from starting the
// process to its exit, measured here. It prints the median, the fastest
// and the 90th percentile of each, each median's ratio to hello's, and the
// median processor time (user and system) with its ratio.
//
// The state file goes in a new directory in the temporary directory, as
// $MACKEREL_PLUGIN_WORKDIR, or in one made under -workdir: compare a disk
// with a memory file system such as /dev/shm to see what the disk costs.
//
// It is not run by CI: wall times depend on the machine and its load.
// Run it on a quiet machine.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

const hello = `package main

import "fmt"

func main() { fmt.Println("hello, world") }
`

type command struct {
	name string
	args []string
	env  []string
	runs []time.Duration
	cpu  []time.Duration // user and system time
}

func main() {
	n := flag.Int("n", 40, "runs of each command")
	capture := flag.String("capture", "testdata/qemu-9front-11879-amd64-9pc64", "the name space the plugin and check read")
	workdir := flag.String("workdir", "", "the directory for the plugin's state file, as $MACKEREL_PLUGIN_WORKDIR (default: a new one in the temporary directory)")
	flag.Parse()
	if err := run(*n, *capture, *workdir); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(n int, capture, workdir string) error {
	root, err := filepath.Abs(capture)
	if err != nil {
		return err
	}
	if _, err := os.Stat(root); err != nil {
		return fmt.Errorf("run from the repository's top directory: %w", err)
	}
	dir, err := os.MkdirTemp("", "startup")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	hdir := filepath.Join(dir, "hello-src")
	if err := os.Mkdir(hdir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(hdir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(hdir, "main.go"), []byte(hello), 0o644); err != nil {
		return err
	}
	exe := func(s string) string {
		if runtime.GOOS == "windows" {
			return s + ".exe"
		}
		return s
	}
	bin := map[string]string{}
	for _, b := range []struct{ name, dir, pkg string }{
		{"hello", hdir, "."},
		{"mackerel-plugin-plan9", "", "./mackerel-plugin-plan9"},
		{"check-plan9", "", "./check-plan9"},
	} {
		bin[b.name] = filepath.Join(dir, exe(b.name))
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin[b.name], b.pkg)
		cmd.Dir = b.dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", b.name, err, out)
		}
	}

	// The state file goes where the agent's plugins keep theirs, in
	// $MACKEREL_PLUGIN_WORKDIR: by default on the disk of the temporary
	// directory.
	work := filepath.Join(dir, "work")
	if workdir != "" {
		if work, err = os.MkdirTemp(workdir, "startup"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	} else if err := os.Mkdir(work, 0o755); err != nil {
		return err
	}
	plugin := []string{bin["mackerel-plugin-plan9"], "--root", root}
	cmds := []*command{
		{name: "hello", args: []string{bin["hello"]}},
		{name: "values", args: plugin, env: []string{"MACKEREL_PLUGIN_WORKDIR=" + work, "MACKEREL_AGENT_PLUGIN_META="}},
		{name: "meta", args: plugin, env: []string{"MACKEREL_PLUGIN_WORKDIR=" + work, "MACKEREL_AGENT_PLUGIN_META=1"}},
		{name: "check", args: []string{bin["check-plan9"], "memory", "--root", root}},
	}
	// The first run writes the state file (and measures rates over a
	// second); every later values run is a steady-state run. One run of
	// each warms the page cache.
	for _, c := range cmds {
		if _, err := c.once(); err != nil {
			return err
		}
		c.runs, c.cpu = nil, nil
	}
	if states, _ := filepath.Glob(filepath.Join(work, "mackerel-plugin-plan9-*[0-9a-f]")); len(states) != 1 {
		return fmt.Errorf("the plugin wrote no state file in %s", work)
	}
	for range n {
		for _, c := range cmds {
			if _, err := c.once(); err != nil {
				return err
			}
		}
	}

	fmt.Printf("%s/%s, %d CPUs, %s, %d runs each, state in %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), n, work)
	fmt.Printf("%-8s %10s %10s %10s %8s %10s %8s\n", "command", "median", "fastest", "p90", "/hello", "CPU", "/hello")
	base, baseCPU := median(cmds[0].runs), median(cmds[0].cpu)
	for _, c := range cmds {
		slices.Sort(c.runs)
		m, cpu := median(c.runs), median(c.cpu)
		fmt.Printf("%-8s %10s %10s %10s %7.2fx %10s %7.2fx\n", c.name, ms(m), ms(c.runs[0]), ms(c.runs[len(c.runs)*9/10]),
			float64(m)/float64(base), ms(cpu), float64(cpu)/float64(baseCPU))
	}
	return nil
}

// once runs the command and records its wall time and the processor time
// it took. It fails when the command fails or writes on standard error,
// which would mean it is not measuring a normal run.
func (c *command) once() (time.Duration, error) {
	cmd := exec.Command(c.args[0], c.args[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %s", c.name, err, errb.String())
	}
	if errb.Len() > 0 {
		return 0, fmt.Errorf("%s wrote on stderr: %s", c.name, errb.String())
	}
	if out.Len() == 0 {
		return 0, fmt.Errorf("%s printed nothing", c.name)
	}
	c.runs = append(c.runs, d)
	c.cpu = append(c.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	return d, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
