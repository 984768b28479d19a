// Package fsspace asks Plan 9 file servers how much space they have. No
// file server exports that as a file: each prints it on its console in
// reply to a command (see p9stats.ParseCwfsStatw and friends), and the
// console is open only to the host owner. This package writes the command
// and collects the reply:
//
//	cwfs    statw          reply on the console (/srv/cwfs.cmd)
//	hjfs    df             reply on hjfs's standard error, which 9front
//	                       copies to /dev/kmesg
//	gefs    df             reply on the console (/srv/gefs.cmd)
//	fossil  fsys main df   reply on the console (/srv/fscons)
//
// A console is a peer like any other: its reply is read by the deadline
// and up to MaxReply bytes, each line parsed once as it arrives
// (p9stats.SpaceReply).
package fsspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/metricname"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// Spec is one --fs KIND:CONSOLE[:NAME] argument.
type Spec struct {
	Kind    string // cwfs, hjfs, gefs or fossil
	Console string // unrooted path of the console, "srv/cwfs.cmd"
	// Name is fossil's file system ("main" when empty); for the other
	// kinds it only extends the metric segment.
	Name string
}

// ParseSpec parses KIND:CONSOLE[:NAME].
func ParseSpec(s string) (Spec, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 || parts[1] == "" {
		return Spec{}, fmt.Errorf("--fs %q: want KIND:CONSOLE, for example cwfs:/srv/cwfs.cmd", s)
	}
	sp := Spec{Kind: parts[0], Console: strings.TrimPrefix(path.Clean(parts[1]), "/")}
	if len(parts) == 3 {
		sp.Name = parts[2]
	}
	switch sp.Kind {
	case "cwfs", "hjfs", "gefs", "fossil":
	default:
		return Spec{}, fmt.Errorf("--fs %q: kind %q is not one of cwfs, hjfs, gefs, fossil", s, sp.Kind)
	}
	return sp, nil
}

func (s Spec) String() string {
	if s.Name != "" {
		return s.Kind + ":/" + s.Console + ":" + s.Name
	}
	return s.Kind + ":/" + s.Console
}

// Space is the answer of one file system.
type Space struct {
	// Segment names it in metrics: the console's name without ".cmd"
	// ("cwfs" for /srv/cwfs.cmd), then "_NAME" when a name was given or
	// the server has several file systems.
	Segment string
	p9stats.FSSpace
}

func (s Spec) segment(name string) string {
	seg := strings.TrimSuffix(path.Base(s.Console), ".cmd")
	if name != "" {
		seg += "_" + name
	}
	return metricname.Segment(seg)
}

// Read asks the file server of spec and waits for its answer until ctx
// ends. fsys must let consoles be opened (ns.ConsoleFS).
func Read(ctx context.Context, fsys ns.FS, spec Spec) ([]Space, error) {
	cfs, ok := fsys.(ns.ConsoleFS)
	if !ok {
		return nil, errors.New("this name space cannot open consoles")
	}
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", spec, fmt.Sprintf(format, args...))
	}
	if spec.Kind == "hjfs" {
		return readHjfs(ctx, cfs, p9stats.NewFS(fsys), spec, errorf)
	}
	cmd := map[string]string{"cwfs": "statw", "gefs": "df", "fossil": "fsys main df"}[spec.Kind]
	if spec.Kind == "fossil" && spec.Name != "" {
		cmd = "fsys " + spec.Name + " df"
	}
	reply, err := p9stats.NewSpaceReply(spec.Kind)
	if err != nil {
		return nil, errorf("%v", err)
	}
	if err := converse(ctx, cfs, spec.Console, cmd, reply); err != nil {
		return nil, errorf("%v", err)
	}
	sps, err := reply.Spaces()
	if err != nil {
		return nil, errorf("%v", err)
	}
	var out []Space
	for _, sp := range sps {
		name := spec.Name
		if spec.Kind == "cwfs" && len(sps) > 1 {
			name = strings.Trim(name+"_"+sp.Name, "_")
		}
		out = append(out, Space{spec.segment(name), sp})
	}
	return out, nil
}

// Result is the answer of one Spec.
type Result struct {
	Spec   Spec
	Spaces []Space
	Err    error
}

// ReadAll asks every file server at once and returns their answers in the
// order of specs, by ctx's deadline: Read gives up on a console that does
// not answer by then, but opening one can itself hang over 9P, so a
// server still busy at the deadline is given an error here.
func ReadAll(ctx context.Context, fsys ns.FS, specs []Spec) []Result {
	type result struct {
		i int
		r Result
	}
	ch := make(chan result, len(specs)) // buffered: late servers never block
	for i, spec := range specs {
		go func() {
			sp, err := Read(ctx, fsys, spec)
			ch <- result{i, Result{spec, sp, err}}
		}()
	}
	out := make([]Result, len(specs))
	done := make([]bool, len(specs))
	for range specs {
		select {
		case r := <-ch:
			out[r.i], done[r.i] = r.r, true
		case <-ctx.Done():
			for i, spec := range specs {
				if !done[i] {
					out[i] = Result{Spec: spec, Err: fmt.Errorf("%s: no answer before the deadline (%w)", spec, ctx.Err())}
				}
			}
			return out
		}
	}
	return out
}

// MaxReply bounds a console's reply. The answers are a few hundred bytes;
// a console that says more without the answer is not giving it.
const MaxReply = 64 << 10

// converse writes cmd to the console and reads the reply into r until r
// holds the answer, the reply passes MaxReply, or ctx ends.
func converse(ctx context.Context, cfs ns.ConsoleFS, name, cmd string, r *p9stats.SpaceReply) error {
	c, err := cfs.OpenConsole(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	closeConsole := func() { once.Do(func() { c.Close() }) }
	defer closeConsole()
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk, 8)
	go func() {
		defer close(chunks)
		buf := make([]byte, 8192)
		// One byte past the bound is enough to tell it was passed.
		for left := MaxReply + 1; left > 0; {
			n, err := c.Read(buf[:min(len(buf), left)])
			left -= n
			if n > 0 || err != nil {
				select {
				case chunks <- chunk{append([]byte(nil), buf[:n]...), err}:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return fmt.Errorf("writing %q: %v", cmd, err)
	}
	got := 0
	for {
		select {
		case ch, ok := <-chunks:
			if !ok {
				return fmt.Errorf("console closed without a usable reply to %q", cmd)
			}
			over := got+len(ch.b) > MaxReply
			if over {
				ch.b = ch.b[:MaxReply-got]
			}
			got += len(ch.b)
			r.Write(ch.b)
			if ch.err != nil {
				r.End()
			}
			if r.Complete() {
				return nil
			}
			if over {
				return fmt.Errorf("no usable reply to %q in its first %d KiB", cmd, MaxReply>>10)
			}
			if ch.err != nil && ch.err != io.EOF {
				return fmt.Errorf("reading the reply to %q: %v", cmd, ch.err)
			}
		case <-ctx.Done():
			closeConsole()
			if got > 0 {
				_, perr := r.Spaces()
				return fmt.Errorf("no usable reply to %q before the deadline: %v", cmd, perr)
			}
			return fmt.Errorf("no reply to %q before the deadline", cmd)
		}
	}
}

// kmesgPoll is how often /dev/kmesg is read for hjfs's reply.
var kmesgPoll = 100 * time.Millisecond

// readHjfs writes df to hjfs's command pipe and waits for the reply to
// appear in /dev/kmesg, after what the buffer held before.
func readHjfs(ctx context.Context, cfs ns.ConsoleFS, p p9stats.FS, spec Spec, errorf func(string, ...any) error) ([]Space, error) {
	before, err := p.KernelMessages()
	if err != nil {
		return nil, errorf("hjfs replies in /dev/kmesg: %v", err)
	}
	c, err := cfs.OpenConsole(spec.Console)
	if err != nil {
		return nil, errorf("%v", err)
	}
	_, err = io.WriteString(c, "df\n")
	c.Close()
	if err != nil {
		return nil, errorf("writing df: %v", err)
	}
	tick := time.NewTicker(kmesgPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, errorf("no df reply in /dev/kmesg before the deadline")
		case <-tick.C:
		}
		after, err := p.KernelMessages()
		if err != nil {
			return nil, errorf("%v", err)
		}
		if sp, err := p9stats.ParseHjfsDf(newPart(before, after)); err == nil {
			return []Space{{spec.segment(spec.Name), sp}}, nil
		}
	}
}

// newPart returns what after, a later read of the kernel's message ring,
// holds beyond before. The ring keeps only its last 16 KiB, so before may
// have slid off its front.
func newPart(before, after []byte) []byte {
	if len(before) == 0 {
		return after
	}
	tail := before[max(0, len(before)-256):]
	if i := bytes.LastIndex(after, tail); i >= 0 {
		return after[i+len(tail):]
	}
	// The ring slid past that tail: after begins with a shorter suffix.
	for k := min(len(before), len(after)); k >= 32; k-- {
		if bytes.HasPrefix(after, before[len(before)-k:]) {
			return after[k:]
		}
	}
	return after
}
