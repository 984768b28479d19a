package ninep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// rtt is the round trip of the in-memory link in the tests below. They run
// in a testing/synctest bubble, where time passes only while every
// goroutine waits, so elapsed time is exactly rtt times the round trips.
const rtt = 50 * time.Millisecond

// pipeClient dials srv over p9test.Pipe inside a bubble and returns the
// client and the round trips the dial took.
func pipeClient(t *testing.T, srv *p9test.Server) (*ninep.Client, float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	conn := p9test.Pipe(t, srv, rtt/2)
	start := time.Now()
	c, err := ninep.NewClient(ctx, conn, "pipe", "glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, float64(time.Since(start)) / float64(rtt)
}

// orderTree is a root with a file, a file larger than one read, a
// directory and a path deeper than one Twalk reaches.
func orderTree(t *testing.T) string {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(root, "big"), bytes.Repeat([]byte("x"), 3*ninep.MaxMessageSize), 0o644)
	os.Mkdir(filepath.Join(root, "d"), 0o755)
	for i := range 5 {
		os.WriteFile(filepath.Join(root, "d", fmt.Sprint(i)), nil, 0o644)
	}
	deep := filepath.Join(root, filepath.FromSlash(strings.Repeat("a/", 20)))
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "g"), []byte("deep\n"), 0o644)
	return root
}

var deepName = strings.Repeat("a/", 20) + "g"

// Each operation costs the round trips the ordering rules allow, gets the
// right answer from a server that reorders as exportfs may, and leaves
// no fid behind.
func TestRoundTrips(t *testing.T) {
	root := orderTree(t)
	tests := []struct {
		name string
		op   func(c *ninep.Client) error
		rtts float64
	}{
		{"ReadFile: walk+open, read", wantBytes("f", "hello\n"), 2},
		{"ReadFile, two walks", wantBytes(deepName, "deep\n"), 2},
		{"ReadFile, absent", wantErr(func(c *ninep.Client) error { _, err := c.ReadFile("d/none"); return err }, fs.ErrNotExist), 1},
		{"ReadFile, absent in the second walk", wantErr(func(c *ninep.Client) error {
			_, err := c.ReadFile(strings.Repeat("a/", 17) + "none")
			return err
		}, fs.ErrNotExist), 1},
		{"ReadFile, larger than a read", func(c *ninep.Client) error {
			b, err := c.ReadFile("big")
			if err == nil && len(b) != 3*ninep.MaxMessageSize {
				err = fmt.Errorf("%d bytes", len(b))
			}
			return err
		}, 1 + 4},
		{"ReadDir: walk+open, read, read to the end", func(c *ninep.Client) error {
			ds, err := c.ReadDir("d")
			if err == nil && len(ds) != 5 {
				err = fmt.Errorf("%d entries", len(ds))
			}
			return err
		}, 3},
		{"Stat: walk+stat+clunk", func(c *ninep.Client) error {
			fi, err := c.Stat(deepName)
			if err == nil && (fi.Name() != "g" || fi.Size() != 5) {
				err = fmt.Errorf("%v", fi)
			}
			return err
		}, 1},
		{"Stat, absent", wantErr(func(c *ninep.Client) error { _, err := c.Stat("none"); return err }, fs.ErrNotExist), 1},
		{"Open and Close", func(c *ninep.Client) error {
			f, err := c.Open("f")
			if err == nil {
				err = f.Close()
			}
			return err
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &p9test.Server{Root: root}
				c, dial := pipeClient(t, srv)
				if dial != 1 {
					t.Errorf("dial took %v round trips", dial)
				}
				start := time.Now()
				if err := tt.op(c); err != nil {
					t.Fatal(err)
				}
				if got := float64(time.Since(start)) / float64(rtt); got != tt.rtts {
					t.Errorf("%v round trips, want %v", got, tt.rtts)
				}
				time.Sleep(rtt) // for the clunks, which nobody waits for
				if n := srv.Fids(); n != 1 {
					t.Errorf("%d fids in use, want the root's", n)
				}
			})
		})
	}
}

func wantBytes(name, want string) func(c *ninep.Client) error {
	return func(c *ninep.Client) error {
		b, err := c.ReadFile(name)
		if err == nil && string(b) != want {
			err = fmt.Errorf("%s: %q, want %q", name, b, want)
		}
		return err
	}
}

func wantErr(op func(c *ninep.Client) error, want error) func(c *ninep.Client) error {
	return func(c *ninep.Client) error {
		if err := op(c); !errors.Is(err, want) {
			return fmt.Errorf("error %v, want %v", err, want)
		}
		return nil
	}
}

// An error anywhere in a chain of requests sent together fails the
// operation with the first failure's message, releases the fid, and
// leaves the connection working.
func TestChainErrors(t *testing.T) {
	root := orderTree(t)
	deepParts := strings.Split(deepName, "/")
	tests := []struct {
		name  string
		fault func(f *plan9.Fcall, path string) p9test.Fault
		op    func(c *ninep.Client) error
		want  string
	}{
		{"walk refused, open sent with it", on(plan9.Twalk, "f", p9test.Refuse), readFile("f"), "read f: injected fault"},
		{"open refused after its walk", on(plan9.Topen, "f", p9test.Refuse), readFile("f"), "read f: injected fault"},
		{"read refused after walk+open", on(plan9.Tread, "f", p9test.Refuse), readFile("f"), "read f: injected fault"},
		{"second walk refused", func(f *plan9.Fcall, path string) p9test.Fault {
			if f.Type == plan9.Twalk && f.Fid == f.Newfid {
				return p9test.Refuse
			}
			return p9test.Answer
		}, readFile(deepName), "injected fault"},
		// exportfs moves a fid walked in place as far as it got; the
		// open that follows then opens a directory, and must not count.
		{"second walk stops short", nil, readFile(strings.Join(deepParts[:17], "/") + "/none"), "'none' file does not exist"},
		{"second walk stops short, then stat", nil, func(c *ninep.Client) error {
			_, err := c.Stat(strings.Join(deepParts[:17], "/") + "/none")
			return err
		}, "'none' file does not exist"},
		{"second walk stops short, then readdir", nil, func(c *ninep.Client) error {
			_, err := c.ReadDir(strings.Join(deepParts[:17], "/") + "/none")
			return err
		}, "'none' file does not exist"},
		{"stat refused after its walk", on(plan9.Tstat, "f", p9test.Refuse), func(c *ninep.Client) error { _, err := c.Stat("f"); return err }, "stat f: injected fault"},
		{"clunk refused after walk+stat", on(plan9.Tclunk, "f", p9test.Refuse), func(c *ninep.Client) error { _, err := c.Stat("f"); return err }, ""},
		{"directory read refused", on(plan9.Tread, "d", p9test.Refuse), func(c *ninep.Client) error { _, err := c.ReadDir("d"); return err }, "readdir d: injected fault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &p9test.Server{Root: root, Fault: tt.fault}
				c, _ := pipeClient(t, srv)
				err := tt.op(c)
				if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want one saying %q", err, tt.want)
				}
				// The connection still works, and every fid is released.
				if b, err := c.ReadFile("d/0"); err != nil || len(b) != 0 {
					t.Errorf("after: %q %v", b, err)
				}
				time.Sleep(rtt)
				if n := srv.Fids(); n != 1 {
					t.Errorf("%d fids in use, want the root's", n)
				}
			})
		})
	}
}

func on(typ uint8, path string, f p9test.Fault) func(*plan9.Fcall, string) p9test.Fault {
	return func(req *plan9.Fcall, p string) p9test.Fault {
		if req.Type == typ && (p == path || typ == plan9.Twalk && len(req.Wname) > 0 && req.Wname[len(req.Wname)-1] == path) {
			return f
		}
		return p9test.Answer
	}
}

func readFile(name string) func(c *ninep.Client) error {
	return func(c *ninep.Client) error { _, err := c.ReadFile(name); return err }
}

// Reads in flight hold no buffer of their own: a hundred small files read
// at once over a slow link allocate about what they hold and the 9P
// messages, not a read's full 64 KiB each, which cost 3 MB a host when a
// fleet's collections all waited on their replies at once.
func TestReadsInFlightHoldNoBuffer(t *testing.T) {
	root := orderTree(t)
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeClient(t, &p9test.Server{Root: root})
		const n = 100
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for range n {
			wg.Go(func() {
				if err := wantBytes("f", "hello\n")(c); err != nil {
					errs <- err
				}
			})
			wg.Go(func() {
				if ds, err := c.ReadDir("d"); err != nil || len(ds) != 5 {
					errs <- fmt.Errorf("ReadDir: %d entries, %v", len(ds), err)
				}
			})
		}
		wg.Wait()
		runtime.ReadMemStats(&after)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// The client's, the server's and the link's allocations together:
		// some 13 KB a read; with a 64 KiB buffer each, 79 KB.
		if per := (after.TotalAlloc - before.TotalAlloc) / (2 * n); per > 32<<10 {
			t.Errorf("%d bytes allocated a read", per)
		}
	})
}
