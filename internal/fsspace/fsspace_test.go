package fsspace

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"cwfs:/srv/cwfs.cmd":       {"cwfs", "srv/cwfs.cmd", ""},
		"fossil:/srv/fscons:other": {"fossil", "srv/fscons", "other"},
		"hjfs:srv/hjfs.cmd":        {"hjfs", "srv/hjfs.cmd", ""},
	} {
		if got, err := ParseSpec(in); err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"cwfs", "cwfs:", "zfs:/srv/x", ":/srv/x"} {
		if _, err := ParseSpec(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if s := (Spec{"fossil", "srv/fscons", "main"}).segment("main"); s != "fscons_main" {
		t.Error(s)
	}
	for in, want := range map[string]string{"a b/c.d": "a_b_c_d", "ether0": "ether0", "sd-C0_x": "sd-C0_x", "¶swap": "_swap", "a\xffb": "a_b", "": ""} {
		if s := Sanitize(in); s != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, s, want)
		}
	}
}

// The kernel message ring keeps its last 16 KiB: what came after an
// earlier reading is found by its tail, also when the front slid off.
func TestNewPart(t *testing.T) {
	before := []byte(strings.Repeat("x", 300) + "old line\n")
	if got := newPart(before, append(append([]byte{}, before...), "new\n"...)); string(got) != "new\n" {
		t.Errorf("%q", got)
	}
	slid := append(append([]byte{}, before[100:]...), "new\n"...)
	if got := newPart(before, slid); string(got) != "new\n" {
		t.Errorf("slid: %q", got)
	}
	if got := newPart(before, []byte("all new\n")); string(got) != "all new\n" {
		t.Errorf("unrelated: %q", got)
	}
	if got := newPart(nil, []byte("first\n")); string(got) != "first\n" {
		t.Errorf("empty before: %q", got)
	}
}

// consoles is an in-memory name space whose consoles answer commands, and
// whose /dev/kmesg grows as a hjfs console is written.
type consoles struct {
	fstest.MapFS
	mu    sync.Mutex
	reply map[string]func(string) string
}

func (c *consoles) ReadFile(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.MapFS.ReadFile(name)
}

func (c *consoles) ReadDir(name string) ([]fs.DirEntry, error) { return c.MapFS.ReadDir(name) }
func (c *consoles) Stat(name string) (fs.FileInfo, error)      { return c.MapFS.Stat(name) }

func (c *consoles) OpenConsole(name string) (io.ReadWriteCloser, error) {
	r, ok := c.reply[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	pr, pw := io.Pipe()
	return &pipeConsole{r: pr, w: pw, reply: r}, nil
}

type pipeConsole struct {
	r     *io.PipeReader
	w     *io.PipeWriter
	reply func(string) string
}

func (p *pipeConsole) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *pipeConsole) Write(b []byte) (int, error) {
	go p.w.Write([]byte(p.reply(strings.TrimSpace(string(b)))))
	return len(b), nil
}
func (p *pipeConsole) Close() error { p.r.Close(); return p.w.Close() }

func TestRead(t *testing.T) {
	c := &consoles{MapFS: fstest.MapFS{"dev/kmesg": {Data: []byte("\nPlan 9\nhjfs: (blocks) free 1, used 1, total 2\n")}}}
	c.reply = map[string]func(string) string{
		"srv/cwfs.cmd": func(cmd string) string {
			return "cwstats main\n\t\tfsize  =  1208420\n\t\twsize  =  5626362\n"
		},
		"srv/hjfs.cmd": func(cmd string) string {
			c.mu.Lock()
			c.MapFS["dev/kmesg"].Data = append(c.MapFS["dev/kmesg"].Data, "hjfs: (blocks) free 10, used 6, total 16\n"...)
			c.mu.Unlock()
			return ""
		},
		"srv/gefs.cmd": func(cmd string) string { return "gefs# " }, // never the df reply
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sp, err := Read(ctx, c, Spec{"cwfs", "srv/cwfs.cmd", ""})
	if err != nil || len(sp) != 1 || sp[0].Segment != "cwfs" || sp[0].Used != 1208420*16384 {
		t.Errorf("cwfs %+v %v", sp, err)
	}
	// Only the df reply written after the command counts, not the old one.
	sp, err = Read(ctx, c, Spec{"hjfs", "srv/hjfs.cmd", ""})
	if err != nil || len(sp) != 1 || sp[0].Size != 16*4096 || sp[0].Free != 10*4096 {
		t.Errorf("hjfs %+v %v", sp, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	_, err = Read(short, c, Spec{"gefs", "srv/gefs.cmd", ""})
	if err == nil || !strings.Contains(err.Error(), `gefs:/srv/gefs.cmd: no usable reply to "df" before the deadline`) {
		t.Errorf("gefs: %v", err)
	}
	if _, err := Read(ctx, c, Spec{"cwfs", "srv/none.cmd", ""}); !errors.Is(err, fs.ErrNotExist) && !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing console: %v", err)
	}
}
