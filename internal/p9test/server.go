// Package p9test is a small 9P2000 file server for tests. It serves a
// directory read-only, the way exportfs(4) serves a Plan 9 name space, plus
// scripted file-server consoles, over TCP on the loopback interface or
// over an in-memory connection. It can be told to misbehave.
//
// It schedules requests as exportfs does, so that a client that relies on
// an order exportfs does not keep fails here too. exportfs (9front
// sys/src/cmd/exportfs/io.c and exportsrv.c; 9legacy and Plan 9 4e
// exportfs.c and exportsrv.c) reads one request at a time and handles
// Tversion, Tauth, Tflush, Tattach, Twalk, Tcreate, Tclunk, Tremove, Tstat
// and Twstat itself before it reads the next; it hands Topen, Tread and
// Twrite to slave processes, where they run concurrently with each other
// and with whatever it reads next. This server does the same and makes the
// most of that freedom: it holds the slave requests until it has no more
// input buffered and then runs them one after the other, last-arrived
// first (a console read that must wait does so on its own). So a Tread sent
// with the Topen of its fid runs before the open, and a Tclunk sent with a
// Tread of its fid runs before the read, every time.
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
	"strconv"
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
	// Warn answers after writing, between two replies, the line a
	// 9legacy exportfs's connection carries when it first holds more
	// than 100 files open: there its standard error is the connection,
	// and the kernel warns the process on it.
	Warn
)

// FdWarning is the line Warn writes.
const FdWarning = "exportfs 603: warning: process exceeds 100 file descriptors\n"

// Server serves Root and Consoles. Set the fields before Start or Pipe.
type Server struct {
	Root string
	// Consoles maps a path ("srv/cwfs.cmd") to what the console replies to
	// each command written to it; reads wait for a reply.
	Consoles map[string]func(cmd string) string
	// Fault, if set, decides the fate of every request when it arrives;
	// path is that of the request's fid ("." for the root), "" when the
	// fid does not exist.
	Fault func(req *plan9.Fcall, path string) Fault
	// Reply, if set, may change the reply to every request but Tversion
	// and Tflush before it is sent (its tag set): to break the protocol
	// in a way a test chooses. path is as for Fault.
	Reply func(req, reply *plan9.Fcall, path string) *plan9.Fcall
	// Endless names a directory ("proc") whose listing never ends: each
	// read returns PerRead fresh entries (as many as fit when 0) named
	// by increasing numbers from 1000000, none of which can be walked.
	Endless string
	PerRead int

	once     sync.Once
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[*conn]bool
	requests atomic.Int64
}

func (s *Server) init() {
	s.once.Do(func() { s.conns = map[*conn]bool{} })
}

// Start listens on 127.0.0.1 and serves until the test ends. It returns
// the address to dial.
func Start(t testing.TB, s *Server) string {
	t.Helper()
	s.init()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return ln.Addr().String()
}

// Pipe serves one client over an in-memory connection (net.Pipe) and
// returns the client's end. Every byte is delayed by oneWay in each
// direction, as through Proxy. It uses no network and no real clock of its
// own, so it runs inside a testing/synctest bubble, where the delays cost
// no real time and the bubble's clock counts round trips exactly.
func Pipe(t testing.TB, s *Server, oneWay time.Duration) net.Conn {
	s.init()
	client, end := net.Pipe()
	server := end
	if oneWay > 0 {
		a, b := net.Pipe()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); delayCopy(end, b, oneWay) }()
		go func() { defer wg.Done(); delayCopy(b, end, oneWay) }()
		t.Cleanup(func() {
			for _, c := range []net.Conn{client, end, a, b} {
				c.Close()
			}
			wg.Wait()
		})
		server = a
	}
	s.wg.Add(1)
	go s.serve(server)
	t.Cleanup(s.Close)
	return client
}

// Serve serves one client on c, which may carry 9P inside another
// protocol (rcpu's TLS), and returns when the connection ends.
func Serve(s *Server, c net.Conn) {
	s.init()
	s.wg.Add(1)
	s.serve(c)
}

// Requests counts the requests received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Fids counts the fids in use on all connections, attached roots
// included: after a client has finished, what it leaked.
func (s *Server) Fids() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.mu.Lock()
		n += len(c.fids)
		c.mu.Unlock()
	}
	return n
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.init()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.c.Close()
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
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	c := &conn{s: s, c: nc, fids: map[uint32]*fid{}, slaves: map[uint16]*slaveReq{}, done: make(chan struct{})}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

type conn struct {
	s      *Server
	c      net.Conn
	wmu    sync.Mutex
	w      *bufio.Writer // replies, written out by flush
	mu     sync.Mutex    // guards fids, their fields, and slaves
	fids   map[uint32]*fid
	slaves map[uint16]*slaveReq // handed to a slave and not yet answered
	msize  uint32
	wg     sync.WaitGroup
	done   chan struct{} // closed when the connection ends
}

type fid struct {
	path    string // slash path relative to Root, "." for the root
	open    bool
	isDir   bool
	console *console
	dir     []byte // directory contents, read at open
	dirOff  uint64 // where the next directory read must start
}

// slaveReq is a Topen, Tread or Twrite handed to a slave.
type slaveReq struct {
	tx       *plan9.Fcall
	path     string        // of its fid when it arrived
	silent   bool          // Silence: never run
	flushed  chan struct{} // closed by a Tflush
	flushTag int           // that Tflush's tag, -1 before; guarded by conn.mu
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

func isSlave(t uint8) bool { return t == plan9.Topen || t == plan9.Tread || t == plan9.Twrite }

func (c *conn) serve() {
	// In this order: a slave still writing a reply gets an error instead
	// of waiting for a reader that is gone.
	defer c.wg.Wait()
	defer c.c.Close()
	defer close(c.done)
	// Large enough that a batch of requests written at once is read at
	// once, as a kernel's network buffer would hold it for exportfs.
	r := bufio.NewReaderSize(c.c, 4*ninep.MaxMessageSize)
	// Replies go out when the input runs dry: fewer writes, same order.
	c.w = bufio.NewWriterSize(c.c, 4*ninep.MaxMessageSize)
	c.msize = ninep.MaxMessageSize
	var held []*slaveReq
	for {
		if r.Buffered() == 0 {
			c.release(held)
			held = nil
			c.flush()
		}
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
		path := ""
		c.mu.Lock()
		if f := c.fids[tx.Fid]; f != nil {
			path = f.path
		}
		c.mu.Unlock()
		if c.s.Fault != nil && tx.Type != plan9.Tflush {
			fault = c.s.Fault(tx, path)
		}
		switch fault {
		case Hangup:
			c.flush()
			return
		case Refuse:
			if tx.Type == plan9.Tclunk {
				// clunk(5): the fid is gone even when the clunk fails.
				c.mu.Lock()
				delete(c.fids, tx.Fid)
				c.mu.Unlock()
			}
			c.answer(tx, &plan9.Fcall{Type: plan9.Rerror, Ename: "injected fault"}, path)
			continue
		case Warn:
			c.wmu.Lock()
			c.w.WriteString(FdWarning)
			c.wmu.Unlock()
			fault = Answer
		case Garbage:
			c.wmu.Lock()
			// An Rread claiming 100 bytes of data and carrying none.
			b := []byte{11, 0, 0, 0, plan9.Rread, 0, 0, 100, 0, 0, 0}
			binary.LittleEndian.PutUint16(b[5:], tx.Tag)
			c.w.Write(b)
			c.wmu.Unlock()
			continue
		}
		switch {
		case tx.Type == plan9.Tflush:
			c.tflush(tx)
		case isSlave(tx.Type):
			q := &slaveReq{tx: tx, path: path, silent: fault == Silence, flushed: make(chan struct{}), flushTag: -1}
			c.mu.Lock()
			c.slaves[tx.Tag] = q
			c.mu.Unlock()
			if !q.silent {
				held = append(held, q)
			}
		case fault == Silence:
		default:
			c.answer(tx, c.handle(tx, nil), path)
		}
	}
}

// release runs the held slave requests, last-arrived first, in a
// goroutine of their own.
func (c *conn) release(held []*slaveReq) {
	if len(held) == 0 {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.flush()
		for i := len(held) - 1; i >= 0; i-- {
			select {
			case <-c.done:
				return
			default:
			}
			q := held[i]
			if c.mayWait(q.tx) {
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					c.slave(q)
					c.flush()
				}()
				continue
			}
			c.slave(q)
		}
	}()
}

// mayWait reports whether tx is a console read, which waits for output.
func (c *conn) mayWait(tx *plan9.Fcall) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fids[tx.Fid]
	return tx.Type == plan9.Tread && f != nil && f.console != nil
}

// slave runs q. As exportfs's slaves do, it answers a request flushed
// before it ran with the Rflush alone, and otherwise writes its reply
// before the Rflush of a Tflush that came meanwhile.
func (c *conn) slave(q *slaveReq) {
	var rx *plan9.Fcall
	select {
	case <-q.flushed:
	default:
		rx = c.handle(q.tx, q)
	}
	if rx != nil {
		c.answer(q.tx, rx, q.path)
	}
	c.mu.Lock()
	delete(c.slaves, q.tx.Tag)
	ft := q.flushTag
	c.mu.Unlock()
	if ft >= 0 {
		c.reply(&plan9.Fcall{Type: plan9.Rflush, Tag: uint16(ft)})
	}
}

// tflush handles a Tflush as exportfs does: a request in a slave answers
// it when done; anything else has been answered, or never will be, and
// the Rflush goes at once.
func (c *conn) tflush(tx *plan9.Fcall) {
	c.mu.Lock()
	q, ok := c.slaves[tx.Oldtag]
	if ok && !q.silent && q.flushTag < 0 {
		q.flushTag = int(tx.Tag)
		close(q.flushed)
		c.mu.Unlock()
		return
	}
	if ok && q.silent {
		delete(c.slaves, tx.Oldtag)
	}
	c.mu.Unlock()
	c.reply(&plan9.Fcall{Type: plan9.Rflush, Tag: tx.Tag})
}

// answer sends rx in reply to tx, through the Reply hook.
func (c *conn) answer(tx, rx *plan9.Fcall, path string) {
	rx.Tag = tx.Tag
	if c.s.Reply != nil {
		rx = c.s.Reply(tx, rx, path)
	}
	c.reply(rx)
}

func (c *conn) reply(rx *plan9.Fcall) {
	b, err := rx.Bytes()
	if err != nil {
		panic(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.Write(b)
}

// flush writes out the replies so far.
func (c *conn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.Flush()
}

func rerror(s string) *plan9.Fcall { return &plan9.Fcall{Type: plan9.Rerror, Ename: s} }

const errNotExist = "file does not exist"

// handle answers tx; q is its slave request, if it runs in one.
func (c *conn) handle(tx *plan9.Fcall, q *slaveReq) *plan9.Fcall {
	c.mu.Lock()
	f := c.fids[tx.Fid]
	var fv fid
	if f != nil {
		fv = *f
	}
	c.mu.Unlock()
	if f == nil && tx.Type != plan9.Tattach {
		return rerror("unknown fid")
	}
	switch tx.Type {
	case plan9.Tattach:
		if f != nil {
			return rerror("fid in use")
		}
		c.setFid(tx.Fid, &fid{path: "."})
		return &plan9.Fcall{Type: plan9.Rattach, Qid: plan9.Qid{Type: plan9.QTDIR}}
	case plan9.Twalk:
		if fv.open {
			return rerror("walk of open fid")
		}
		if tx.Newfid != tx.Fid && c.hasFid(tx.Newfid) {
			return rerror("fid in use")
		}
		p := fv.path
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
				break
			}
			qids = append(qids, d.Qid)
			p = next
		}
		switch {
		case tx.Newfid == tx.Fid:
			// exportfs moves a fid walked in place as far as it got,
			// even when the walk stops short.
			c.mu.Lock()
			f.path = p
			c.mu.Unlock()
		case len(qids) == len(tx.Wname):
			c.setFid(tx.Newfid, &fid{path: p})
		}
		return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}
	case plan9.Topen:
		d, err := c.s.stat(fv.path)
		if err != nil {
			return rerror(errNotExist)
		}
		mode := tx.Mode &^ (plan9.OTRUNC | plan9.OCEXEC | plan9.ORCLOSE)
		k := c.s.console(fv.path)
		if k == nil && mode != plan9.OREAD {
			return rerror("permission denied")
		}
		isDir := d.Mode&plan9.DMDIR != 0
		var dir []byte
		if isDir {
			dir = c.s.dirents(fv.path)
		}
		c.mu.Lock()
		f.open, f.isDir, f.console, f.dir, f.dirOff = true, isDir, k, dir, 0
		c.mu.Unlock()
		return &plan9.Fcall{Type: plan9.Ropen, Qid: d.Qid}
	case plan9.Tread:
		if !fv.open {
			return rerror("fid not open")
		}
		if fv.console != nil {
			return fv.console.read(int(tx.Count), q, c.done)
		}
		if fv.isDir {
			c.mu.Lock()
			defer c.mu.Unlock()
			// exportfs reads a directory with pread(2), and the kernel
			// refuses any offset but 0 or where the last read ended.
			if tx.Offset != 0 && tx.Offset != f.dirOff {
				return rerror("seek in directory")
			}
			var data []byte
			if fv.path == c.s.Endless {
				data = c.s.endless(tx.Offset, tx.Count)
			} else {
				data = dirChunk(f.dir, tx.Offset, tx.Count)
			}
			f.dirOff = tx.Offset + uint64(len(data))
			return &plan9.Fcall{Type: plan9.Rread, Data: data}
		}
		b, err := os.ReadFile(c.s.local(fv.path))
		if err != nil {
			return rerror(err.Error())
		}
		var data []byte
		if tx.Offset < uint64(len(b)) {
			data = b[tx.Offset:min(uint64(len(b)), tx.Offset+uint64(tx.Count))]
		}
		return &plan9.Fcall{Type: plan9.Rread, Data: data}
	case plan9.Twrite:
		if fv.console == nil || !fv.open {
			return rerror("permission denied")
		}
		fv.console.write(string(tx.Data))
		return &plan9.Fcall{Type: plan9.Rwrite, Count: uint32(len(tx.Data))}
	case plan9.Tstat:
		d, err := c.s.stat(fv.path)
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

func (c *conn) hasFid(n uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fids[n] != nil
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

// endless returns the entries of the Endless directory from off, each of
// the same size, that fit in count bytes.
func (s *Server) endless(off uint64, count uint32) []byte {
	entry := func(i uint64) []byte {
		n := strconv.FormatUint(1000000+i, 10)
		d := &plan9.Dir{Name: n, Uid: "glenda", Gid: "glenda", Muid: "glenda",
			Qid: plan9.Qid{Type: plan9.QTDIR, Path: hash(n)}, Mode: plan9.DMDIR | 0o555}
		b, _ := d.Bytes()
		return b
	}
	size := uint64(len(entry(0)))
	n := uint64(count) / size
	if s.PerRead > 0 {
		n = min(n, uint64(s.PerRead))
	}
	var out []byte
	for i := range n {
		out = append(out, entry(off/size+i)...)
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

// read waits for output, or for q, the read's slave request, to be
// flushed.
func (k *console) read(count int, q *slaveReq, done chan struct{}) *plan9.Fcall {
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
		case <-q.flushed:
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
		} else {
			dst.Close() // an in-memory pipe cannot close one direction
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
