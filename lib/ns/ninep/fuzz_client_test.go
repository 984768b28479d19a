package ninep_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// scripted is a 9P server for FuzzClient: it answers every request, in
// the order they arrive, from a small tree, and lets the fuzzer's input
// decide, request by request, how to break the reply (see directive).
type scripted struct {
	in   []byte // what is left of the fuzzer's input
	fids map[uint32]string
	tree map[string]string // path → content; directories end in "/"
}

var deepPath = strings.Repeat("a/", 17) + "g"

func newScripted(in []byte) *scripted {
	t := map[string]string{
		".": "/", "dev": "/", "proc": "/", "proc/1": "/", "proc/22": "/", "srv": "/",
		"dev/swap":       "1067155456 memory\n4096 pagesize\n104215 kernel\n1011/150376 user\n0/320000 swap\n",
		"dev/sysstat":    "0 1 2 3 4 5 6 7 8 9\n",
		"proc/1/status":  "init bootes Await 10 20 30 0 0 0 116 10 10\n",
		"proc/22/status": "rc glenda Pread 10 20 30 0 0 0 116 10 10\n",
		"srv/test.cmd":   "",
	}
	for p := "a"; p != path.Dir(deepPath); p += "/a" {
		t[p] = "/"
	}
	t[path.Dir(deepPath)] = "/"
	t[deepPath] = "deep\n"
	return &scripted{in: in, fids: map[uint32]string{}, tree: t}
}

func (s *scripted) next() byte {
	if len(s.in) == 0 {
		return 0
	}
	b := s.in[0]
	s.in = s.in[1:]
	return b
}

func (s *scripted) take(n int) []byte {
	n = min(n, len(s.in))
	b := s.in[:n]
	s.in = s.in[n:]
	return b
}

func (s *scripted) dir(p string) *plan9.Dir {
	name := path.Base(p)
	if p == "." {
		name = "/"
	}
	d := &plan9.Dir{Name: name, Uid: "glenda", Gid: "glenda", Muid: "glenda", Qid: plan9.Qid{Path: uint64(len(p))}, Mode: 0o644}
	if c := s.tree[p]; c == "/" {
		d.Qid.Type, d.Mode = plan9.QTDIR, plan9.DMDIR|0o555
	} else {
		d.Length = uint64(len(c))
	}
	return d
}

// answer is the reply a correct server gives.
func (s *scripted) answer(tx *plan9.Fcall) *plan9.Fcall {
	rerror := &plan9.Fcall{Type: plan9.Rerror, Ename: "file does not exist"}
	p, ok := s.fids[tx.Fid]
	if !ok && tx.Type != plan9.Tversion && tx.Type != plan9.Tattach && tx.Type != plan9.Tflush {
		return &plan9.Fcall{Type: plan9.Rerror, Ename: "unknown fid"}
	}
	switch tx.Type {
	case plan9.Tversion:
		return &plan9.Fcall{Type: plan9.Rversion, Msize: tx.Msize, Version: plan9.VERSION9P}
	case plan9.Tattach:
		s.fids[tx.Fid] = "."
		return &plan9.Fcall{Type: plan9.Rattach, Qid: plan9.Qid{Type: plan9.QTDIR}}
	case plan9.Tflush:
		return &plan9.Fcall{Type: plan9.Rflush}
	case plan9.Twalk:
		var qids []plan9.Qid
		for _, w := range tx.Wname {
			next := path.Join(p, w)
			if _, ok := s.tree[next]; !ok {
				break
			}
			qids = append(qids, s.dir(next).Qid)
			p = next
		}
		if len(qids) == 0 && len(tx.Wname) > 0 {
			return rerror
		}
		if len(qids) == len(tx.Wname) || tx.Newfid == tx.Fid {
			s.fids[tx.Newfid] = p
		}
		return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}
	case plan9.Topen:
		return &plan9.Fcall{Type: plan9.Ropen, Qid: s.dir(p).Qid}
	case plan9.Tread:
		var data []byte
		if s.tree[p] == "/" {
			var names []string
			for k := range s.tree {
				if k != p && (path.Dir(k) == p) {
					names = append(names, k)
				}
			}
			sort.Strings(names)
			var all []byte
			for _, n := range names {
				b, _ := s.dir(n).Bytes()
				all = append(all, b...)
			}
			if tx.Offset < uint64(len(all)) {
				all = all[tx.Offset:]
				n := 0
				for n < len(all) {
					m := int(binary.LittleEndian.Uint16(all[n:])) + 2
					if n+m > int(tx.Count) {
						break
					}
					n += m
				}
				data = all[:n]
			}
		} else if c := s.tree[p]; tx.Offset < uint64(len(c)) {
			data = []byte(c[tx.Offset:min(uint64(len(c)), tx.Offset+uint64(tx.Count))])
		}
		return &plan9.Fcall{Type: plan9.Rread, Data: data}
	case plan9.Twrite:
		return &plan9.Fcall{Type: plan9.Rwrite, Count: uint32(len(tx.Data))}
	case plan9.Tstat:
		b, _ := s.dir(p).Bytes()
		return &plan9.Fcall{Type: plan9.Rstat, Stat: b}
	case plan9.Tclunk:
		delete(s.fids, tx.Fid)
		return &plan9.Fcall{Type: plan9.Rclunk}
	}
	return &plan9.Fcall{Type: plan9.Rerror, Ename: "not supported"}
}

// directive is what the input's next byte makes of the reply to tx: the
// correct reply, or one broken in one way. It returns the bytes to write
// and whether to hang up after them.
func (s *scripted) directive(tx *plan9.Fcall) ([]byte, bool) {
	rx := s.answer(tx)
	rx.Tag = tx.Tag
	d := s.next()
	switch d % 10 {
	case 1: // an error, of any text
		rx = &plan9.Fcall{Type: plan9.Rerror, Tag: tx.Tag, Ename: string(s.take(int(s.next())))}
	case 4: // any number of qids
		if rx.Type == plan9.Rwalk {
			rx.Wqid = make([]plan9.Qid, s.next()%(plan9.MAXWELEM+1))
		}
	case 5: // any data or stat
		n := int(s.next()) | int(s.next())<<8
		switch rx.Type {
		case plan9.Rread:
			rx.Data = s.take(n)
		case plan9.Rstat:
			rx.Stat = s.take(n)
		case plan9.Rwrite, plan9.Ropen:
			rx.Count, rx.Iounit = uint32(n), uint32(n)
		}
	case 6: // any bytes at all, then the end: if they were not a whole
		// message, the client would wait for the rest until its deadline
		n := int(s.next()) | int(s.next())<<8
		return s.take(n), true
	case 8:
		return nil, true
	}
	b, err := rx.Bytes()
	if err != nil {
		return nil, true
	}
	switch d % 10 {
	case 2: // another type
		b[4] = s.next()
	case 3: // another tag
		b[5], b[6] = s.next(), s.next()
	case 7: // a size word that disagrees, then the end, as for 6
		binary.LittleEndian.PutUint32(b, uint32(len(b)+int(int8(s.next()))))
		return b, true
	case 9: // the reply twice
		b = append(b, b...)
	}
	return b, false
}

func (s *scripted) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		tx, err := ninep.ReadMessage(r, ninep.MaxMessageSize)
		if err != nil {
			return
		}
		b, hangup := s.directive(tx)
		if len(b) > 0 {
			if _, err := conn.Write(b); err != nil {
				return
			}
		}
		if hangup {
			return
		}
	}
}

// FuzzClient feeds arbitrary replies to the client's request paths: dial,
// walk, open, read, stat, directory read, console write and read. Nothing
// may panic or hang; what the client returns is bounded and well-formed;
// a failure that is not the server's own error text names the server.
func FuzzClient(f *testing.F) {
	f.Add([]byte{})
	for i := range 40 {
		pad := make([]byte, i)
		for _, d := range [][]byte{
			{1, 5, 'e', 'r', 'r', 'o', 'r'}, {2, plan9.Rerror}, {2, plan9.Rclunk}, {3, 0x40, 0}, {4, 3}, {4, 0},
			{5, 20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, {6, 4, 0, 0xff, 0xff, 0xff, 0xff},
			{7, 0xff}, {7, 1}, {8}, {9},
		} {
			f.Add(append(pad, d...))
		}
	}
	f.Fuzz(fuzzClient)
}

func fuzzClient(t *testing.T, in []byte) {
	client, server := net.Pipe()
	s := newScripted(in)
	done := make(chan struct{})
	go func() { defer close(done); s.serve(server) }()
	defer func() { client.Close(); server.Close(); <-done }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ninep.NewClient(ctx, client, "fuzz!server", "glenda", "")
	if err != nil {
		checkErr(t, err)
		return
	}
	defer c.Close()
	for _, name := range []string{"dev/swap", deepPath, "dev/nonexistent"} {
		b, err := c.ReadFile(name)
		checkErr(t, err)
		if len(b) > ns.MaxFileSize {
			t.Fatalf("%s: %d bytes", name, len(b))
		}
	}
	ds, err := c.ReadDir("proc")
	checkErr(t, err)
	checkEntries(t, ds)
	for _, name := range []string{".", "dev/sysstat"} {
		_, err := c.Stat(name)
		checkErr(t, err)
	}
	if f, err := c.Open("dev/swap"); checkErr(t, err) {
		buf := make([]byte, 16)
		if n, err := f.Read(buf); checkErr(t, err) && n > len(buf) {
			t.Fatalf("read %d bytes into %d", n, len(buf))
		}
		_, err = f.(io.ReaderAt).ReadAt(buf, 5)
		checkErr(t, err)
		_, err = f.Stat()
		checkErr(t, err)
		f.Close()
	}
	if f, err := c.Open("proc"); checkErr(t, err) {
		ds, err := f.(fs.ReadDirFile).ReadDir(-1)
		checkErr(t, err)
		checkEntries(t, ds)
		f.Close()
	}
	if k, err := c.OpenConsole("srv/test.cmd"); checkErr(t, err) {
		if n, err := k.Write([]byte("statw\n")); checkErr(t, err) && n > 6 {
			t.Fatalf("wrote %d bytes of 6", n)
		}
		buf := make([]byte, 64)
		if n, err := k.Read(buf); checkErr(t, err) && n > len(buf) {
			t.Fatalf("read %d bytes into %d", n, len(buf))
		}
		k.Close()
	}
}

// checkErr reports whether err is nil, and fails on an error of more than
// one line, or one that is neither the server's own text nor names the
// server.
func checkErr(t *testing.T, err error) bool {
	t.Helper()
	var se ninep.ServerError
	switch {
	case err == nil:
		return true
	case strings.ContainsAny(err.Error(), "\n\r"):
		t.Fatalf("error %q of more than one line", err)
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, ns.ErrDirTooLarge), errors.Is(err, fs.ErrClosed):
	case !strings.Contains(err.Error(), "9P fuzz!server: "):
		t.Fatalf("error %q does not name the server", err)
	}
	return false
}

func checkEntries(t *testing.T, ds []fs.DirEntry) {
	t.Helper()
	if len(ds) > ns.MaxDirEntries {
		t.Fatalf("%d entries", len(ds))
	}
	for _, d := range ds {
		if n := d.Name(); n == "" || n == "." || n == ".." || strings.Contains(n, "/") {
			t.Fatalf("entry %q", n)
		}
	}
}
