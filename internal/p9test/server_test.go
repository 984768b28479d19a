package p9test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// raw is a 9P connection that writes batches of requests as they are
// given and collects the replies by tag.
type raw struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *raw {
	c, err := net.Dial("tcp", Start(t, s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := &raw{t: t, c: c, r: bufio.NewReader(c)}
	r.batch(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192, Version: plan9.VERSION9P},
		&plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"})
	return r
}

// batch writes txs at once and returns the replies by tag.
func (r *raw) batch(txs ...*plan9.Fcall) map[uint16]*plan9.Fcall {
	r.t.Helper()
	var b []byte
	for _, tx := range txs {
		m, err := tx.Bytes()
		if err != nil {
			r.t.Fatal(err)
		}
		b = append(b, m...)
	}
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
	out := map[uint16]*plan9.Fcall{}
	for range txs {
		rx, err := ninep.ReadMessage(r.r, ninep.MaxMessageSize)
		if err != nil {
			r.t.Fatal(err)
		}
		out[rx.Tag] = rx
	}
	return out
}

func walk(tag uint16, fid, newfid uint32, names ...string) *plan9.Fcall {
	return &plan9.Fcall{Type: plan9.Twalk, Tag: tag, Fid: fid, Newfid: newfid, Wname: names}
}

func errorOf(rx *plan9.Fcall) string {
	if rx.Type == plan9.Rerror {
		return rx.Ename
	}
	return ""
}

// The server runs the orders exportfs may: requests it handles in its
// read loop in arrival order, and a Topen, Tread or Twrite possibly after
// whatever arrived with it.
func TestExportfsOrders(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f"), []byte("hello"), 0o644)
	os.Mkdir(filepath.Join(root, "d"), 0o755)
	for _, n := range []string{"a", "b", "c"} {
		os.WriteFile(filepath.Join(root, "d", n), nil, 0o644)
	}
	srv := &Server{Root: root}
	r := dialRaw(t, srv)

	// A walk and the open of its new fid: the walk is done first.
	rs := r.batch(walk(1, 0, 1, "f"), &plan9.Fcall{Type: plan9.Topen, Tag: 2, Fid: 1})
	if rs[1].Type != plan9.Rwalk || rs[2].Type != plan9.Ropen {
		t.Fatalf("walk+open: %v %v", rs[1], rs[2])
	}
	// A read sent with another open of its fid runs before that open.
	r.batch(walk(1, 0, 2, "f"))
	rs = r.batch(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 2}, &plan9.Fcall{Type: plan9.Tread, Tag: 2, Fid: 2, Count: 100})
	if rs[1].Type != plan9.Ropen || errorOf(rs[2]) != "fid not open" {
		t.Errorf("open+read: %v %v", rs[1], rs[2])
	}
	// A clunk sent with a read of its fid runs before the read.
	rs = r.batch(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Count: 100}, &plan9.Fcall{Type: plan9.Tclunk, Tag: 2, Fid: 1})
	if errorOf(rs[1]) != "unknown fid" || rs[2].Type != plan9.Rclunk {
		t.Errorf("read+clunk: %v %v", rs[1], rs[2])
	}
	// Walk, stat and clunk: all in order.
	rs = r.batch(walk(1, 0, 3, "d", "a"), &plan9.Fcall{Type: plan9.Tstat, Tag: 2, Fid: 3}, &plan9.Fcall{Type: plan9.Tclunk, Tag: 3, Fid: 3})
	if rs[1].Type != plan9.Rwalk || rs[2].Type != plan9.Rstat || rs[3].Type != plan9.Rclunk {
		t.Errorf("walk+stat+clunk: %v %v %v", rs[1], rs[2], rs[3])
	}
	// A failed walk leaves the new fid unused: what was sent with it fails.
	rs = r.batch(walk(1, 0, 3, "nonexistent"), &plan9.Fcall{Type: plan9.Topen, Tag: 2, Fid: 3})
	if !strings.Contains(errorOf(rs[1]), "does not exist") || errorOf(rs[2]) != "unknown fid" {
		t.Errorf("failed walk+open: %v %v", rs[1], rs[2])
	}
	// exportfs moves a fid walked in place as far as the walk got.
	r.batch(walk(1, 0, 4))
	rs = r.batch(walk(1, 4, 4, "d", "nonexistent"), &plan9.Fcall{Type: plan9.Tstat, Tag: 2, Fid: 4})
	if len(rs[1].Wqid) != 1 || rs[2].Type != plan9.Rstat {
		t.Fatalf("walk in place: %v %v", rs[1], rs[2])
	}
	if d, _ := plan9.UnmarshalDir(rs[2].Stat); d.Name != "d" {
		t.Errorf("fid walked in place is at %q", d.Name)
	}
	// A directory is read where the last read ended, or from 0.
	r.batch(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 4})
	rs = r.batch(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 4, Offset: 1, Count: 8192})
	if errorOf(rs[1]) != "seek in directory" {
		t.Errorf("directory read at 1: %v", rs[1])
	}
	rs = r.batch(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 4, Count: 8192})
	n := len(rs[1].Data)
	rs = r.batch(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 4, Offset: uint64(n), Count: 8192})
	if n == 0 || rs[1].Type != plan9.Rread || len(rs[1].Data) != 0 {
		t.Errorf("directory: %d bytes, then %v", n, rs[1])
	}
	r.batch(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 4}, &plan9.Fcall{Type: plan9.Tclunk, Tag: 2, Fid: 2})
	if n := srv.Fids(); n != 1 {
		t.Errorf("%d fids in use, want the root's", n)
	}
}

// A console read waits without holding up the requests that came with it,
// and a Tflush makes its slave answer the flush alone.
func TestConsoleFlush(t *testing.T) {
	srv := &Server{Root: t.TempDir(), Consoles: map[string]func(string) string{"cmd": func(s string) string { return "<" + s + ">" }}}
	r := dialRaw(t, srv)
	r.batch(walk(1, 0, 1, "cmd"), &plan9.Fcall{Type: plan9.Topen, Tag: 2, Fid: 1, Mode: plan9.ORDWR})
	// The read runs first and waits for what the write brings.
	rs := r.batch(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 1, Data: []byte("x")}, &plan9.Fcall{Type: plan9.Tread, Tag: 2, Fid: 1, Count: 100})
	if rs[1].Type != plan9.Rwrite || string(rs[2].Data) != "<x>" {
		t.Errorf("write+read: %v %v", rs[1], rs[2])
	}
	// A read with nothing to come is flushed; only the Rflush answers.
	b, _ := (&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Count: 100}).Bytes()
	r.c.Write(b)
	rs = r.batch(&plan9.Fcall{Type: plan9.Tflush, Tag: 2, Oldtag: 1}, &plan9.Fcall{Type: plan9.Tclunk, Tag: 3, Fid: 1})
	if rs[2].Type != plan9.Rflush || rs[3].Type != plan9.Rclunk || rs[1] != nil {
		t.Errorf("flush: %v %v %v", rs[1], rs[2], rs[3])
	}
}
