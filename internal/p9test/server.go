// Package p9test is a small 9P2000 file server for tests. It serves a
// directory read-only over TCP on the loopback interface, the way
// exportfs(4) serves a Plan 9 name space, plus scripted file-server
// consoles. It can be told to misbehave.
package p9test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// Fault is what the server does with one request instead of answering it.
type Fault int

const (
	Answer  Fault = iota // no fault
	Silence              // never answer it (answer a Tflush for it, as a server must)
	Hangup               // close the connection
	Refuse               // answer Rerror "injected fault"
	Garbage              // answer with a malformed message
)

// Server serves Root and Consoles. Set the fields before Start.
type Server struct {
	Root string
	// Consoles maps a path ("srv/cwfs.cmd") to what the console replies to
	// each command written to it; reads wait for a reply.
	Consoles map[string]func(cmd string) string
	// Fault, if set, decides the fate of every request; path is that of
	// the request's fid ("." for the root), "" before the fid exists.
	Fault func(req *plan9.Fcall, path string) Fault

	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	requests atomic.Int64
}

// Start listens on 127.0.0.1 and serves until the test ends. It returns
// the address to dial.
func Start(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.conns = map[net.Conn]bool{}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return ln.Addr().String()
}

// Requests counts the requests received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			(&conn{s: s, c: c, fids: map[uint32]*fid{}, pending: map[uint16]chan struct{}{}, done: make(chan struct{})}).serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

type conn struct {
	s       *Server
	c       net.Conn
	wmu     sync.Mutex
	mu      sync.Mutex
	fids    map[uint32]*fid
	pending map[uint16]chan struct{} // closed when the request is flushed
	msize   uint32
	wg      sync.WaitGroup
	done    chan struct{} // closed when the connection ends
}

type fid struct {
	path    string // slash path relative to Root, "." for the root
	open    bool
	console *console
	dir     []byte // directory contents, read at open
}

type console struct {
	mu    sync.Mutex
	reply func(string) string
	out   []byte
	ready chan struct{} // closed and replaced when out grows
}

func (s *Server) console(p string) *console {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.Consoles[p]
	if !ok {
		return nil
	}
	return &console{reply: f, ready: make(chan struct{})}
}

func (c *conn) serve() {
	defer c.c.Close()
	defer c.wg.Wait()
	defer close(c.done)
	r := bufio.NewReader(c.c)
	c.msize = ninep.MaxMessageSize
	for {
		tx, err := ninep.ReadMessage(r, c.msize)
		if err != nil {
			return
		}
		c.s.requests.Add(1)
		if tx.Type == plan9.Tversion {
			c.msize = min(tx.Msize, ninep.MaxMessageSize)
			c.reply(&plan9.Fcall{Type: plan9.Rversion, Tag: tx.Tag, Msize: c.msize, Version: plan9.VERSION9P})
			continue
		}
		fault := Answer
		if c.s.Fault != nil && tx.Type != plan9.Tflush {
			path := ""
			c.mu.Lock()
			if f := c.fids[tx.Fid]; f != nil {
				path = f.path
			}
			c.mu.Unlock()
			fault = c.s.Fault(tx, path)
		}
		switch fault {
		case Hangup:
			return
		case Refuse:
			c.reply(&plan9.Fcall{Type: plan9.Rerror, Tag: tx.Tag, Ename: "injected fault"})
			continue
		case Garbage:
			c.wmu.Lock()
			// An Rread claiming 100 bytes of data and carrying none.
			b := []byte{11, 0, 0, 0, plan9.Rread, 0, 0, 100, 0, 0, 0}
			binary.LittleEndian.PutUint16(b[5:], tx.Tag)
			c.c.Write(b)
			c.wmu.Unlock()
			continue
		}
		flushed := make(chan struct{})
		c.mu.Lock()
		c.pending[tx.Tag] = flushed
		c.mu.Unlock()
		if tx.Type == plan9.Tflush {
			c.mu.Lock()
			if ch, ok := c.pending[tx.Oldtag]; ok {
				close(ch)
				delete(c.pending, tx.Oldtag)
			}
			delete(c.pending, tx.Tag)
			c.mu.Unlock()
			c.reply(&plan9.Fcall{Type: plan9.Rflush, Tag: tx.Tag})
			continue
		}
		if fault == Silence {
			continue
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			rx := c.handle(tx, flushed)
			c.mu.Lock()
			_, live := c.pending[tx.Tag]
			delete(c.pending, tx.Tag)
			c.mu.Unlock()
			if live && rx != nil {
				rx.Tag = tx.Tag
				c.reply(rx)
			}
		}()
	}
}

func (c *conn) reply(rx *plan9.Fcall) {
	b, err := rx.Bytes()
	if err != nil {
		panic(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.c.Write(b)
}

func rerror(s string) *plan9.Fcall { return &plan9.Fcall{Type: plan9.Rerror, Ename: s} }

const errNotExist = "file does not exist"

func (c *conn) handle(tx *plan9.Fcall, flushed chan struct{}) *plan9.Fcall {
	c.mu.Lock()
	f := c.fids[tx.Fid]
	c.mu.Unlock()
	if f == nil && tx.Type != plan9.Tattach {
		return rerror("unknown fid")
	}
	switch tx.Type {
	case plan9.Tattach:
		c.setFid(tx.Fid, &fid{path: "."})
		return &plan9.Fcall{Type: plan9.Rattach, Qid: plan9.Qid{Type: plan9.QTDIR}}
	case plan9.Twalk:
		if f.open {
			return rerror("walk of open fid")
		}
		p := f.path
		var qids []plan9.Qid
		for _, w := range tx.Wname {
			next := path.Join(p, w)
			if w == ".." || strings.HasPrefix(next, "..") {
				next = path.Dir(p)
			}
			d, err := c.s.stat(next)
			if err != nil {
				if len(qids) == 0 {
					return rerror("'" + w + "' " + errNotExist)
				}
				return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}
			}
			qids = append(qids, d.Qid)
			p = next
		}
		c.setFid(tx.Newfid, &fid{path: p})
		return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}
	case plan9.Topen:
		d, err := c.s.stat(f.path)
		if err != nil {
			return rerror(errNotExist)
		}
		mode := tx.Mode &^ (plan9.OTRUNC | plan9.OCEXEC | plan9.ORCLOSE)
		if k := c.s.console(f.path); k != nil {
			f.console = k
		} else if mode != plan9.OREAD {
			return rerror("permission denied")
		}
		if d.Mode&plan9.DMDIR != 0 {
			f.dir = c.s.dirents(f.path)
		}
		f.open = true
		return &plan9.Fcall{Type: plan9.Ropen, Qid: d.Qid}
	case plan9.Tread:
		if !f.open {
			return rerror("fid not open")
		}
		if f.console != nil {
			return f.console.read(int(tx.Count), flushed, c.done)
		}
		var data []byte
		if f.dir != nil {
			data = dirChunk(f.dir, tx.Offset, tx.Count)
		} else {
			b, err := os.ReadFile(c.s.local(f.path))
			if err != nil {
				return rerror(err.Error())
			}
			if tx.Offset < uint64(len(b)) {
				data = b[tx.Offset:min(uint64(len(b)), tx.Offset+uint64(tx.Count))]
			}
		}
		return &plan9.Fcall{Type: plan9.Rread, Data: data}
	case plan9.Twrite:
		if f.console == nil || !f.open {
			return rerror("permission denied")
		}
		f.console.write(string(tx.Data))
		return &plan9.Fcall{Type: plan9.Rwrite, Count: uint32(len(tx.Data))}
	case plan9.Tstat:
		d, err := c.s.stat(f.path)
		if err != nil {
			return rerror(errNotExist)
		}
		b, _ := d.Bytes()
		return &plan9.Fcall{Type: plan9.Rstat, Stat: b}
	case plan9.Tclunk:
		c.mu.Lock()
		delete(c.fids, tx.Fid)
		c.mu.Unlock()
		return &plan9.Fcall{Type: plan9.Rclunk}
	}
	return rerror("read-only file system")
}

func (c *conn) setFid(n uint32, f *fid) {
	c.mu.Lock()
	c.fids[n] = f
	c.mu.Unlock()
}

func (s *Server) local(p string) string { return filepath.Join(s.Root, filepath.FromSlash(p)) }

// stat returns the entry for p, a file of Root or a console.
func (s *Server) stat(p string) (*plan9.Dir, error) {
	name := path.Base(p)
	if p == "." {
		name = "/"
	}
	d := &plan9.Dir{Name: name, Uid: "glenda", Gid: "glenda", Muid: "glenda"}
	s.mu.Lock()
	_, isConsole := s.Consoles[p]
	isParent := false
	for k := range s.Consoles {
		isParent = isParent || strings.HasPrefix(k, p+"/") || p == "."
	}
	s.mu.Unlock()
	fi, err := os.Stat(s.local(p))
	switch {
	case err == nil:
		d.Length = uint64(fi.Size())
		d.Mtime = uint32(fi.ModTime().Unix())
		d.Mode = plan9.Perm(fi.Mode().Perm() & 0o444)
		if fi.IsDir() {
			d.Mode |= plan9.DMDIR | 0o555
			d.Length = 0
		}
	case isConsole:
		d.Mode = 0o660
		d.Mtime = uint32(time.Now().Unix())
	case isParent:
		d.Mode = plan9.DMDIR | 0o555
	default:
		return nil, err
	}
	if d.Mode&plan9.DMDIR != 0 {
		d.Qid.Type = plan9.QTDIR
	}
	d.Qid.Path = hash(p)
	return d, nil
}

func hash(p string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(p); i++ {
		h = (h ^ uint64(p[i])) * 1099511628211
	}
	return h
}

// dirents returns the marshalled entries of directory p.
func (s *Server) dirents(p string) []byte {
	names := map[string]bool{}
	if es, err := os.ReadDir(s.local(p)); err == nil {
		for _, e := range es {
			names[e.Name()] = true
		}
	}
	s.mu.Lock()
	for k := range s.Consoles {
		if rest, ok := strings.CutPrefix(k, p+"/"); ok || p == "." {
			if p == "." {
				rest = k
			}
			names[strings.Split(rest, "/")[0]] = true
		}
	}
	s.mu.Unlock()
	var out []byte
	for n := range names {
		if d, err := s.stat(path.Join(p, n)); err == nil {
			b, _ := d.Bytes()
			out = append(out, b...)
		}
	}
	return out
}

// dirChunk returns the whole entries of dir that start at off and fit in
// count bytes, as a directory read must.
func dirChunk(dir []byte, off uint64, count uint32) []byte {
	if off >= uint64(len(dir)) {
		return nil
	}
	b := dir[off:]
	n := 0
	for n < len(b) {
		m := int(binary.LittleEndian.Uint16(b[n:])) + 2
		if n+m > int(count) {
			break
		}
		n += m
	}
	return b[:n]
}

func (k *console) write(cmd string) {
	r := k.reply(strings.TrimRight(cmd, "\n"))
	k.mu.Lock()
	k.out = append(k.out, r...)
	close(k.ready)
	k.ready = make(chan struct{})
	k.mu.Unlock()
}

func (k *console) read(count int, flushed, done chan struct{}) *plan9.Fcall {
	for {
		k.mu.Lock()
		if len(k.out) > 0 {
			n := min(count, len(k.out))
			data := append([]byte(nil), k.out[:n]...)
			k.out = k.out[n:]
			k.mu.Unlock()
			return &plan9.Fcall{Type: plan9.Rread, Data: data}
		}
		ready := k.ready
		k.mu.Unlock()
		select {
		case <-ready:
		case <-flushed:
			return nil
		case <-done:
			return nil
		}
	}
}

// Proxy forwards TCP connections to target, holding every byte for delay
// in each direction, as a long network link would. It returns the address
// to dial.
func Proxy(t testing.TB, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			mu.Lock()
			open = append(open, a, b)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); delayCopy(b, a, delay) }()
			go func() { defer wg.Done(); delayCopy(a, b, delay) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

type chunk struct {
	at   time.Time
	data []byte
}

func delayCopy(dst, src net.Conn, delay time.Duration) {
	q := make(chan chunk, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range q {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.data); err != nil {
				dst.Close()
				src.Close()
				for range q {
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	buf := make([]byte, 64*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{time.Now().Add(delay), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			break
		}
	}
	close(q)
	<-done
}

// Settle waits up to five seconds for the number of goroutines to fall
// back to n, and fails the test, listing them, if it does not: a 9P
// client or server that left one behind.
func Settle(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > n {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left, want %d:\n%s", g, n, buf[:runtime.Stack(buf, true)])
	}
}
