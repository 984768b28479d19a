package ninep_test

import (
	"context"
	"errors"
	"io/fs"
	"runtime"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// tamper returns a Reply hook that passes rx through f when the request
// is of type on, and every other reply untouched.
func tamper(on uint8, f func(tx, rx *plan9.Fcall, path string) *plan9.Fcall) func(tx, rx *plan9.Fcall, path string) *plan9.Fcall {
	return func(tx, rx *plan9.Fcall, path string) *plan9.Fcall {
		if tx.Type == on && rx.Type != plan9.Rerror {
			return f(tx, rx, path)
		}
		return rx
	}
}

func entry(name string) []byte {
	b, _ := (&plan9.Dir{Name: name, Uid: "glenda", Gid: "glenda", Muid: "glenda"}).Bytes()
	return b
}

// onFile returns an operation that opens dev/swap and does op with it.
func onFile(op func(f fs.File) error) func(c *ninep.Client) error {
	return func(c *ninep.Client) error {
		f, err := c.Open("dev/swap")
		if err != nil {
			return err
		}
		defer f.Close()
		return op(f)
	}
}

// A server whose reply does not fit its request ends the connection with
// one line that names it, whatever the request path; the client never
// panics, and leaves no goroutine behind.
func TestRepliesThatDoNotFit(t *testing.T) {
	readFile := func(c *ninep.Client) error { _, err := c.ReadFile("dev/swap"); return err }
	tests := []struct {
		name  string
		reply func(tx, rx *plan9.Fcall, path string) *plan9.Fcall
		op    func(c *ninep.Client) error
		want  string
	}{
		{"more qids than names", tamper(plan9.Twalk, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Wqid = append(rx.Wqid, plan9.Qid{Path: 99})
			return rx
		}), readFile, "Rwalk of 3 qids to a Twalk of 2 names"},
		{"a walk of no names answered with a qid", tamper(plan9.Twalk, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Wqid = []plan9.Qid{{Type: plan9.QTDIR}}
			return rx
		}), func(c *ninep.Client) error { _, err := c.Stat("."); return err }, "Rwalk of 1 qids to a Twalk of 0 names"},
		{"a qid list on the error path", tamper(plan9.Twalk, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			// A walk that stopped at dev, with three qids.
			rx.Wqid = []plan9.Qid{{Type: plan9.QTDIR}, {}, {}}
			return rx
		}), func(c *ninep.Client) error { _, err := c.ReadFile("dev/nonexistent"); return err }, "Rwalk of 3 qids to a Twalk of 2 names"},
		{"a stat whose size disagrees", tamper(plan9.Tstat, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Stat = append(rx.Stat, 0)
			return rx
		}), func(c *ninep.Client) error { _, err := c.Stat("dev/sysstat"); return err }, "Rstat: "},
		{"a stat of an open file whose size disagrees", tamper(plan9.Tstat, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Stat = rx.Stat[:len(rx.Stat)-1]
			return rx
		}), onFile(func(f fs.File) error { _, err := f.Stat(); return err }), "Rstat: "},
		{"a reply to a tag it did not send", tamper(plan9.Topen, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Tag = 0xfff0
			return rx
		}), readFile, "Ropen to tag 65520, which has no request waiting"},
		{"a reply of the wrong type", tamper(plan9.Tstat, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			return &plan9.Fcall{Type: plan9.Rclunk, Tag: rx.Tag}
		}), func(c *ninep.Client) error { _, err := c.Stat("dev/swap"); return err }, "Rclunk to a Tstat"},
		{"a reply of the wrong type that nobody waits for", tamper(plan9.Tclunk, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			return &plan9.Fcall{Type: plan9.Rread, Tag: rx.Tag}
		}), func(c *ninep.Client) error {
			// The Tclunk after the read goes without waiting; its bad
			// reply arrives before the next request's.
			if _, err := c.ReadFile("dev/swap"); err != nil {
				return err
			}
			_, err := c.Stat("dev/swap")
			return err
		}, "Rread to a Tclunk"},
		{"an Rread longer than asked", tamper(plan9.Tread, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Data = make([]byte, tx.Count+10)
			return rx
		}), onFile(func(f fs.File) error { _, err := f.Read(make([]byte, 10)); return err }), "Rread of 20 bytes to a Tread of 10"},
		{"an Rwrite of more than was written", tamper(plan9.Twrite, func(tx, rx *plan9.Fcall, _ string) *plan9.Fcall {
			rx.Count = uint32(len(tx.Data)) + 1
			return rx
		}), func(c *ninep.Client) error {
			k, err := c.OpenConsole("srv/test.cmd")
			if err != nil {
				return err
			}
			defer k.Close()
			_, err = k.Write([]byte("statw\n"))
			return err
		}, "Rwrite of 7 bytes to a Twrite of 6"},
		{"a directory entry named with a slash", tamper(plan9.Tread, func(tx, rx *plan9.Fcall, path string) *plan9.Fcall {
			if path == "proc" && len(rx.Data) > 0 {
				rx.Data = append(entry("1/../../x"), rx.Data...)
			}
			return rx
		}), func(c *ninep.Client) error { _, err := c.ReadDir("proc"); return err }, `file name "1/../../x"`},
		{"a directory entry named ..", tamper(plan9.Tread, func(tx, rx *plan9.Fcall, path string) *plan9.Fcall {
			if path == "proc" && len(rx.Data) > 0 {
				rx.Data = append(entry(".."), rx.Data...)
			}
			return rx
		}), func(c *ninep.Client) error { _, err := c.ReadDir("proc"); return err }, `file name ".."`},
		{"a directory entry cut short", tamper(plan9.Tread, func(tx, rx *plan9.Fcall, path string) *plan9.Fcall {
			if path == "proc" && len(rx.Data) > 0 {
				rx.Data = rx.Data[:len(rx.Data)-1]
			}
			return rx
		}), func(c *ninep.Client) error { _, err := c.ReadDir("proc"); return err }, "bytes of stat whose size field says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srv := &p9test.Server{Root: capture, Reply: tt.reply, Consoles: map[string]func(string) string{
				"srv/test.cmd": func(cmd string) string { return "ok\n" },
			}}
			addr := p9test.Start(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := ninep.Dial(ctx, addr, "glenda", "")
			if err != nil {
				t.Fatal(err)
			}
			err = tt.op(c)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), "9P "+addr+": protocol error: ") || !strings.Contains(err.Error(), tt.want) ||
				strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line naming the server, a protocol error and %q", err, tt.want)
			}
			// The connection has ended.
			if _, err2 := c.ReadFile("dev/time"); err2 == nil || !strings.Contains(err2.Error(), "protocol error") {
				t.Errorf("after the protocol error: %v", err2)
			}
			c.Close()
			srv.Close()
			p9test.Settle(t, base)
		})
	}
}

// A walk that stops short is a missing file, as the kernel takes it, and
// the connection goes on.
func TestShortWalk(t *testing.T) {
	srv := &p9test.Server{Root: capture}
	c := dial(t, p9test.Start(t, srv), 10*time.Second)
	if _, err := c.ReadFile("dev/nonexistent/deeper"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v", err)
	}
	if _, err := c.ReadFile("dev/swap"); err != nil {
		t.Error(err)
	}
}

// An Rversion under another tag is refused.
func TestVersionReplyTag(t *testing.T) {
	b, _ := (&plan9.Fcall{Type: plan9.Rversion, Tag: 1, Msize: 8192, Version: plan9.VERSION9P}).Bytes()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := ninep.Dial(ctx, rawServer(t, b), "glenda", "")
	if err == nil || !strings.Contains(err.Error(), "protocol error: Rversion with tag 1 to a Tversion") {
		t.Errorf("%v", err)
	}
}

// A directory whose listing never ends is read up to the bound, which is
// an error of that listing alone: the connection goes on.
func TestEndlessDirectory(t *testing.T) {
	for _, perRead := range []int{0, 7} {
		srv := &p9test.Server{Root: capture, Endless: "proc", PerRead: perRead}
		c := dial(t, p9test.Start(t, srv), 30*time.Second)
		ds, err := c.ReadDir("proc")
		if !errors.Is(err, ns.ErrDirTooLarge) || ds != nil || !strings.Contains(err.Error(), "readdir proc: ") {
			t.Errorf("per read %d: %d entries, %v", perRead, len(ds), err)
		}
		f, err := c.Open("proc")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.(fs.ReadDirFile).ReadDir(-1); !errors.Is(err, ns.ErrDirTooLarge) {
			t.Errorf("ReadDir(-1): %v", err)
		}
		f.Close()
		if _, err := c.ReadFile("dev/swap"); err != nil {
			t.Error(err)
		}
	}
}
