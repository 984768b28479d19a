// Package ninep reads a Plan 9 name space over 9P2000, as exported by
// exportfs(4) or any 9P file server, and serves it as an ns.FS.
//
// It speaks the protocol with the message types of 9fans.net/go/plan9.
// That module's client package is not used: on GOOS=plan9 it is a stub
// whose Attach panics, it has no deadlines, and when a connection fails it
// leaves every caller but one waiting forever. This client multiplexes any
// number of concurrent requests on one connection by tag, so that reading
// a host's files costs a few round trips whatever their number; ends
// everything by the deadline of the context it was dialled with; and fails
// every pending request, leaving no goroutine behind, when the server
// stops answering, hangs up, or sends something that is not 9P.
//
// Requests that need not wait for each other's replies travel together,
// in one write, wherever exportfs is sure to handle them in order (see
// the Ordering comment in client.go): Dial costs one round trip after the
// connection's, ReadFile two, ReadDir three, Stat one.
//
// Files are only ever opened for reading, except by OpenConsole, which
// the caller uses for a file server's console that a user named.
package ninep

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"9fans.net/go/plan9"
)

// MaxMessageSize is the msize this client asks for: 64 KiB of data per
// read, enough for any kernel statistics file in one message.
const MaxMessageSize = 64*1024 + plan9.IOHDRSZ

// Client is a 9P2000 connection attached to a tree. It implements ns.FS
// and ns.ConsoleFS and is safe for concurrent use.
type Client struct {
	addr  string
	conn  net.Conn
	msize uint32
	root  uint32

	wmu     sync.Mutex // guards queue and writing
	queue   []byte     // messages waiting for the writer
	spare   []byte
	writing bool

	mu       sync.Mutex
	calls    map[uint16]*call
	flushing map[uint16]bool // tags flushed but not yet released by Rflush
	nextTag  uint16
	freeTags []uint16
	nextFid  uint32
	freeFids []uint32
	err      error
	done     chan struct{}
	closed   chan struct{} // the reader has returned

	requests atomic.Int64
	warnings atomic.Int64 // fdWarning lines skipped
}

// Ordering
//
// A 9P server may answer requests in any order, and exportfs(4), which
// serves a Plan 9 name space, does run some of them concurrently. In every
// exportfs there is (9front: sys/src/cmd/exportfs/io.c, the fcalls table
// and io, and exportsrv.c; 9legacy and Plan 9 4e: exportfs.c, main and the
// fcalls table, and exportsrv.c), the main process reads one request at a
// time and
//
//   - handles Tversion, Tauth, Tflush, Tattach, Twalk, Tcreate, Tclunk,
//     Tremove, Tstat and Twstat itself, replying before it reads the next
//     request: these take effect in the order they were sent;
//   - hands Topen, Tread and Twrite to a slave process (slave and
//     blockingslave), which runs them concurrently with other slaves and
//     with the requests read after them: they may take effect in any order,
//     and after a later Tclunk.
//
// So this client sends, in one write:
//
//   - Tversion and Tattach (Dial costs one round trip);
//   - the Twalks to a new fid and a request on that fid, Topen or Tstat:
//     the fid exists (or the walk failed, and the request fails "Bad fid")
//     before the request is read. A walk of more than MAXWELEM names is
//     several Twalks, the later ones walking the new fid in place;
//   - a Tclunk after a Tstat, both handled in order.
//
// and waits for a reply before sending:
//
//   - a Tread after its Topen, and a Tread after the Tread before it: both
//     run in slaves. Reading a directory ahead is impossible besides: the
//     kernel's read (port/sysfile.c) refuses any directory offset but 0 and
//     the last one's end ("seek in directory"), and a union directory
//     ignores the offset, so two reads in flight could swap their halves;
//   - a Tclunk after every Topen and Tread of its fid has been answered:
//     exportfs would close the file under the slave reading it. (It need
//     not wait for the Rclunk: the fid number is reused only after it.)
//
// After a failure in such a chain the client waits for every reply of the
// chain before it clunks the fid or reuses its number: a slave may look the
// fid up at any time until it answers. A failed in-place Twalk moves the
// fid as far as it got in exportfs (Xwalk), so a later failure, not
// success, is trusted after one.
//
// exportfs's concurrency is bounded only in Plan 9 4e's (exportfs.h:
// Nr_workbufs and MAXPROC, 50 each; 9legacy's and 9front's allocate as
// needed): there a request read while 50 are in slaves waits up to 0.45 s
// for one to finish (getsbuf) before exportfs gives up, far longer than a
// kernel file takes. p9stats bounds the files read at once. Every open
// file is a file descriptor of the exportfs process: see fdWarning.

type call struct {
	ch    chan *plan9.Fcall // nil when nobody waits (clunks, flushes)
	after func()            // run by the reader when the reply arrives
	tx    *plan9.Fcall      // the request, set by send
}

// Dial connects to addr, negotiates 9P2000 and attaches to aname as user,
// with Tversion and Tattach sent together. addr is a Plan 9 dial string
// ("tcp!gnot!17564", "gnot!9fs") or host:port. Every request, the dial
// included, ends by ctx's deadline; when ctx ends the connection is
// closed.
func Dial(ctx context.Context, addr, user, aname string) (*Client, error) {
	hostport, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("9P %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return NewClient(ctx, conn, addr, user, aname)
}

// NewClient runs 9P over conn, which it owns from then on, until ctx ends.
// addr names the server in errors.
func NewClient(ctx context.Context, conn net.Conn, addr, user, aname string) (*Client, error) {
	c := &Client{
		addr: addr, conn: conn, msize: MaxMessageSize,
		calls: map[uint16]*call{}, flushing: map[uint16]bool{}, nextFid: 1,
		done: make(chan struct{}), closed: make(chan struct{}),
	}
	go func() {
		select {
		case <-ctx.Done():
			c.fail(c.errorf("read", ctx.Err()))
		case <-c.done:
		}
	}()
	r := bufio.NewReaderSize(conn, 8192)
	// Tattach goes with Tversion when it fits any msize the server may
	// choose; the Rversion comes first.
	tv := &plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: c.msize, Version: plan9.VERSION9P}
	ta := &plan9.Fcall{Type: plan9.Tattach, Fid: c.root, Afid: plan9.NOFID, Uname: user, Aname: aname}
	ka := &call{ch: make(chan *plan9.Fcall, 1)}
	txs, ks := []*plan9.Fcall{tv}, []*call{nil}
	if b, err := ta.Bytes(); err == nil && len(b) <= minMsize {
		txs, ks = append(txs, ta), append(ks, ka)
	}
	if err := c.send(txs, ks); err != nil {
		return nil, c.failed(c.errorf("version", err))
	}
	rx, err := ReadMessage(r, c.msize)
	switch {
	case err != nil:
	case rx.Type == plan9.Rerror:
		err = serverError(rx.Ename)
	case rx.Type != plan9.Rversion || rx.Tag != plan9.NOTAG:
		err = fmt.Errorf("protocol error: %s with tag %d to a Tversion", typeName(rx.Type), rx.Tag)
	case rx.Version != plan9.VERSION9P:
		err = fmt.Errorf("server speaks %q, not 9P2000", rx.Version)
	case rx.Msize < minMsize || rx.Msize > c.msize:
		err = fmt.Errorf("bad msize %d", rx.Msize)
	}
	if err != nil {
		return nil, c.failed(c.errorf("version", err))
	}
	c.msize = rx.Msize
	go c.reader(r)
	if len(txs) == 1 {
		err = c.send([]*plan9.Fcall{ta}, []*call{ka})
	}
	if err == nil {
		_, err = c.wait(ta, ka, nil, nil)
	}
	if err != nil {
		err = c.failed(c.errorf("attach", err))
		c.Close()
		return nil, err
	}
	return c, nil
}

// minMsize is the smallest msize a server may choose.
const minMsize = 256

// Close hangs up. Pending requests fail; the server releases every fid.
// It waits for the connection's reader to return, but not for long: on
// some Plan 9 kernels (9front of 2016) Go cannot interrupt a network read
// blocked in the kernel, which then ends only at the deadline.
func (c *Client) Close() error {
	c.fail(errClosed)
	select {
	case <-c.closed:
	case <-time.After(closeWait):
	}
	return nil
}

const closeWait = time.Second

// Requests is the number of 9P requests sent so far.
func (c *Client) Requests() int64 { return c.requests.Load() }

var errClosed = errors.New("connection closed")

func (c *Client) errorf(op string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("no reply before the deadline")
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe") {
		err = errors.New("connection closed by the server")
	}
	return fmt.Errorf("9P %s: %s: %w", c.addr, op, err)
}

// failed fails the connection with err and returns the error it failed
// with, which is an earlier one if there was one.
func (c *Client) failed(err error) error {
	c.fail(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// fail ends the connection: every pending and future request gets err.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		close(c.done)
		c.conn.Close()
	}
	c.mu.Unlock()
}

// write writes b, n messages, at once. Messages of concurrent callers
// travel together too: while one caller writes, the others queue theirs
// and return, and it writes the queue next in one write. A caller whose
// messages were queued learns of a failed write as every caller does:
// the connection fails.
func (c *Client) write(b []byte, n int) error {
	c.requests.Add(int64(n))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.queue = append(c.queue, b...)
	if c.writing {
		return nil
	}
	c.writing = true
	defer func() { c.writing = false }()
	for len(c.queue) > 0 {
		out := c.queue
		c.queue = c.spare[:0]
		c.wmu.Unlock()
		_, err := c.conn.Write(out)
		c.wmu.Lock()
		c.spare = out
		if err != nil {
			c.queue = c.queue[:0]
			return err
		}
	}
	return nil
}

func (c *Client) reader(r *bufio.Reader) {
	defer close(c.closed)
	for {
		c.warnings.Add(int64(skipFdWarnings(r, c.msize)))
		rx, err := ReadMessage(r, c.msize)
		if err != nil {
			c.fail(c.errorf("read", err))
			return
		}
		c.mu.Lock()
		k, ok := c.calls[rx.Tag]
		if ok {
			delete(c.calls, rx.Tag)
			if !c.flushing[rx.Tag] {
				c.freeTags = append(c.freeTags, rx.Tag)
			}
		}
		c.mu.Unlock()
		if !ok {
			c.fail(c.errorf("protocol error", fmt.Errorf("%s to tag %d, which has no request waiting", typeName(rx.Type), rx.Tag)))
			return
		}
		if err := fits(k.tx, rx); err != nil {
			c.fail(c.errorf("protocol error", err))
			return
		}
		if k.after != nil {
			k.after()
		}
		if k.ch != nil {
			k.ch <- rx
		}
	}
}

// send registers each ks[i] under a new tag for txs[i] and writes the
// requests at once, so that they travel together. A nil ks[i] leaves the
// tag of txs[i] alone (Tversion's NOTAG). A request that cannot be encoded
// fails alone; a failed write fails the connection.
func (c *Client) send(txs []*plan9.Fcall, ks []*call) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	var tags []uint16
	for i, tx := range txs {
		if ks[i] == nil {
			continue
		}
		var tag uint16
		if n := len(c.freeTags); n > 0 {
			tag = c.freeTags[n-1]
			c.freeTags = c.freeTags[:n-1]
		} else if c.nextTag < plan9.NOTAG {
			tag = c.nextTag
			c.nextTag++
		} else {
			c.unsend(tags)
			c.mu.Unlock()
			return errors.New("out of tags")
		}
		tx.Tag = tag
		ks[i].tx = tx
		c.calls[tag] = ks[i]
		tags = append(tags, tag)
	}
	msize := c.msize
	c.mu.Unlock()
	var b []byte
	for _, tx := range txs {
		m, err := tx.Bytes()
		if err == nil && len(m) > int(msize) {
			err = fmt.Errorf("message of %d bytes exceeds msize %d", len(m), msize)
		}
		if err != nil {
			c.mu.Lock()
			c.unsend(tags)
			c.mu.Unlock()
			return err
		}
		b = append(b, m...)
	}
	if err := c.write(b, len(txs)); err != nil {
		err = c.errorf("write", err)
		c.fail(err)
		return err
	}
	return nil
}

// unsend releases the tags of requests that were not sent; c.mu is held.
func (c *Client) unsend(tags []uint16) {
	for _, t := range tags {
		delete(c.calls, t)
		c.freeTags = append(c.freeTags, t)
	}
}

var errCanceled = errors.New("request canceled")

// rpc sends tx and waits for its reply. If cancel is closed first, the
// request is flushed and rpc returns errCanceled; settled, if not nil,
// then runs once the server is done with tx (at its Rflush), so that its
// fid can be clunked.
func (c *Client) rpc(tx *plan9.Fcall, cancel <-chan struct{}, settled func()) (*plan9.Fcall, error) {
	k := &call{ch: make(chan *plan9.Fcall, 1)}
	if err := c.send([]*plan9.Fcall{tx}, []*call{k}); err != nil {
		return nil, err
	}
	return c.wait(tx, k, cancel, settled)
}

// wait waits for the reply to tx, sent with k: the reader has checked
// that it fits tx (see fits), and an Rerror is a ServerError.
func (c *Client) wait(tx *plan9.Fcall, k *call, cancel <-chan struct{}, settled func()) (*plan9.Fcall, error) {
	var rx *plan9.Fcall
	select {
	case rx = <-k.ch:
	case <-c.done:
		return nil, c.err
	case <-cancel:
		c.flush(tx.Tag, k, settled)
		return nil, errCanceled
	}
	if rx.Type == plan9.Rerror {
		return nil, serverError(rx.Ename)
	}
	return rx, nil
}

// fits reports how rx, a well-formed message, fails to answer tx: of
// another type, or with more than tx asked for. Whatever does not fit is
// a protocol error, which ends the connection: a server that answers
// nonsense to one request cannot be trusted with the next.
func fits(tx, rx *plan9.Fcall) error {
	switch {
	case rx.Type == plan9.Rerror && tx.Type != plan9.Tflush: // flush(5): a Tflush cannot fail
		return nil
	case rx.Type != tx.Type+1:
		return fmt.Errorf("%s to a %s", typeName(rx.Type), typeName(tx.Type))
	}
	switch rx.Type {
	case plan9.Rwalk:
		// The kernel's mntwalk refuses the same; fewer qids than names
		// (none included) is a walk that stopped short.
		if len(rx.Wqid) > len(tx.Wname) {
			return fmt.Errorf("Rwalk of %d qids to a Twalk of %d names", len(rx.Wqid), len(tx.Wname))
		}
	case plan9.Rread:
		if len(rx.Data) > int(tx.Count) {
			return fmt.Errorf("Rread of %d bytes to a Tread of %d", len(rx.Data), tx.Count)
		}
	case plan9.Rwrite:
		if rx.Count > uint32(len(tx.Data)) {
			return fmt.Errorf("Rwrite of %d bytes to a Twrite of %d", rx.Count, len(tx.Data))
		}
	case plan9.Rstat:
		if _, err := unmarshalDir(rx.Stat); err != nil {
			return fmt.Errorf("Rstat: %v", err)
		}
	}
	return nil
}

var typeNames = map[uint8]string{
	plan9.Tversion: "Tversion", plan9.Rversion: "Rversion", plan9.Tauth: "Tauth", plan9.Rauth: "Rauth",
	plan9.Tattach: "Tattach", plan9.Rattach: "Rattach", plan9.Rerror: "Rerror",
	plan9.Tflush: "Tflush", plan9.Rflush: "Rflush", plan9.Twalk: "Twalk", plan9.Rwalk: "Rwalk",
	plan9.Topen: "Topen", plan9.Ropen: "Ropen", plan9.Tcreate: "Tcreate", plan9.Rcreate: "Rcreate",
	plan9.Tread: "Tread", plan9.Rread: "Rread", plan9.Twrite: "Twrite", plan9.Rwrite: "Rwrite",
	plan9.Tclunk: "Tclunk", plan9.Rclunk: "Rclunk", plan9.Tremove: "Tremove", plan9.Rremove: "Rremove",
	plan9.Tstat: "Tstat", plan9.Rstat: "Rstat", plan9.Twstat: "Twstat", plan9.Rwstat: "Rwstat",
}

func typeName(t uint8) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("message of type %d", t)
}

// exchange sends txs together and waits for every reply, even after a
// failure: until a request is answered, the server may still act on its
// fid. rxs[i] is the reply to txs[i] if it succeeded (a Twalk only if it
// walked every name); err is the first failure, in request order, which
// is the cause of those after it.
func (c *Client) exchange(txs ...*plan9.Fcall) (rxs []*plan9.Fcall, err error) {
	ks := make([]*call, len(txs))
	for i := range ks {
		ks[i] = &call{ch: make(chan *plan9.Fcall, 1)}
	}
	if err := c.send(txs, ks); err != nil {
		return make([]*plan9.Fcall, len(txs)), err
	}
	rxs = make([]*plan9.Fcall, len(txs))
	for i, tx := range txs {
		rx, e := c.wait(tx, ks[i], nil, nil)
		// fits has refused more qids than names.
		if e == nil && tx.Type == plan9.Twalk && len(rx.Wqid) < len(tx.Wname) {
			e = ServerError("'" + tx.Wname[len(rx.Wqid)] + "' file does not exist")
		}
		if e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		rxs[i] = rx
	}
	return rxs, err
}

// flush abandons the request under tag, unless its reply has come, and
// runs settled (if not nil) once the server is done with it. The tag is
// not reused until the server's Rflush says no reply will follow.
func (c *Client) flush(tag uint16, k *call, settled func()) {
	c.mu.Lock()
	pending := c.calls[tag] == k
	if pending {
		c.flushing[tag] = true
	}
	c.mu.Unlock()
	if !pending {
		if settled != nil {
			settled()
		}
		return
	}
	c.send([]*plan9.Fcall{{Type: plan9.Tflush, Oldtag: tag}}, []*call{{after: func() {
		c.mu.Lock()
		delete(c.calls, tag)
		delete(c.flushing, tag)
		c.freeTags = append(c.freeTags, tag)
		c.mu.Unlock()
		if settled != nil {
			// Not in the reader, which must not wait on a write.
			go settled()
		}
	}}})
}

func (c *Client) newFid() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.freeFids); n > 0 {
		f := c.freeFids[n-1]
		c.freeFids = c.freeFids[:n-1]
		return f
	}
	f := c.nextFid
	c.nextFid++
	return f
}

func (c *Client) putFid(f uint32) {
	c.mu.Lock()
	c.freeFids = append(c.freeFids, f)
	c.mu.Unlock()
}

// clunk releases fid without waiting for the reply: it costs no round
// trip, and the fid is reused only once the server has answered.
func (c *Client) clunk(fid uint32) {
	c.send([]*plan9.Fcall{{Type: plan9.Tclunk, Fid: fid}}, []*call{{after: func() { c.putFid(fid) }}})
}

// release gives up fid after a failed exchange: clunked if the walk that
// made it succeeded, else unused.
func (c *Client) release(fid uint32, made bool) {
	if made {
		c.clunk(fid)
	} else {
		c.putFid(fid)
	}
}

// fdWarning is the line a Plan 9 kernel writes on a process's standard
// error when the process first holds more than 100 (200, …) files open
// (port/sysfile.c: unlockfgrp, with pprint). 9legacy's listen and listen1
// (aux/listen.c, aux/listen1.c) make exportfs's connection its standard
// error, so the line arrives in the 9P stream, between two replies (a
// write of it is atomic), when one connection has that many files open at
// once, as when every /proc/N/status of a busy host is read together.
// 9front's listen1 keeps standard error apart.
//
// It is compiled when first needed: every command links this package,
// and most never read over 9P.
var fdWarning = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[!-~]{1,28} [0-9]+: warning: process exceeds [0-9]+ file descriptors\n$`)
})

const maxFdWarning = 100

// skipFdWarnings discards such lines before the next message and says
// how many there were. Nothing
// else is skipped: a 9P message cannot begin with printable text (its
// length word would exceed any msize), and other text is left for
// ReadMessage to refuse.
func skipFdWarnings(r *bufio.Reader, msize uint32) (skipped int) {
	for ; ; skipped++ {
		b, err := r.Peek(4)
		if err != nil || binary.LittleEndian.Uint32(b) <= msize || !printable(b) {
			return
		}
		n := 4
		for b[n-1] != '\n' {
			if n++; n > maxFdWarning {
				return
			}
			if b, err = r.Peek(n); err != nil {
				return
			}
		}
		if !fdWarning().Match(b) {
			return
		}
		r.Discard(n)
	}
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// ServerError is an error string a 9P server returned (Rerror). It matches
// fs.ErrNotExist and fs.ErrPermission by the usual Plan 9 wording.
type ServerError string

// serverError keeps a server's error text to one line of printable
// characters, at most maxError bytes: it ends up in logs and in a check's
// one-line message.
func serverError(s string) error {
	if len(s) > maxError {
		s = strings.ToValidUTF8(s[:maxError], "") + "…"
	}
	return ServerError(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s))
}

// maxError is twice Plan 9's ERRMAX.
const maxError = 256

func (e ServerError) Error() string { return string(e) }

func (e ServerError) Is(target error) bool {
	s := strings.ToLower(string(e))
	switch target {
	case fs.ErrNotExist:
		return strings.Contains(s, "does not exist") || strings.Contains(s, "not found") ||
			strings.Contains(s, "no such file") || strings.Contains(s, "file not exist") ||
			strings.Contains(s, "process exited")
	case fs.ErrPermission:
		return strings.Contains(s, "permission denied")
	}
	return false
}

// walks returns the Twalks from the root to name for the new fid: the
// first makes it, any more (for over MAXWELEM names) walk it in place.
func (c *Client) walks(op, name string, fid uint32) ([]*plan9.Fcall, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	var elems []string
	if name != "." {
		elems = strings.Split(name, "/")
	}
	from := c.root
	var txs []*plan9.Fcall
	for first := true; first || len(elems) > 0; first = false {
		n := min(len(elems), plan9.MAXWELEM)
		txs = append(txs, &plan9.Fcall{Type: plan9.Twalk, Fid: from, Newfid: fid, Wname: elems[:n]})
		elems = elems[n:]
		from = fid
	}
	return txs, nil
}

// open walks to name and opens it with mode, in one round trip, returning
// the fid and the largest read or write the server allows on it.
func (c *Client) open(op, name string, mode uint8) (uint32, uint32, error) {
	fid := c.newFid()
	txs, err := c.walks(op, name, fid)
	if err != nil {
		c.putFid(fid)
		return 0, 0, err
	}
	txs = append(txs, &plan9.Fcall{Type: plan9.Topen, Fid: fid, Mode: mode})
	rxs, err := c.exchange(txs...)
	if err != nil {
		c.release(fid, rxs[0] != nil)
		return 0, 0, &fs.PathError{Op: op, Path: name, Err: err}
	}
	iounit := c.msize - plan9.IOHDRSZ
	if rx := rxs[len(rxs)-1]; rx.Iounit != 0 && rx.Iounit < iounit {
		iounit = rx.Iounit
	}
	return fid, iounit, nil
}

// read reads at off into p; cancel and settled are as for rpc.
func (c *Client) read(fid uint32, off uint64, p []byte, cancel <-chan struct{}, settled func()) (int, error) {
	d, err := c.readReply(fid, off, uint32(len(p)), cancel, settled)
	return copy(p, d), err
}

// readData reads up to count bytes at off and returns the reply's own
// bytes: nothing is allocated before the reply arrives.
func (c *Client) readData(fid uint32, off uint64, count uint32) ([]byte, error) {
	return c.readReply(fid, off, count, nil, nil)
}

func (c *Client) readReply(fid uint32, off uint64, count uint32, cancel <-chan struct{}, settled func()) ([]byte, error) {
	rx, err := c.rpc(&plan9.Fcall{Type: plan9.Tread, Fid: fid, Offset: off, Count: count}, cancel, settled)
	if err != nil {
		return nil, err
	}
	if len(rx.Data) == 0 {
		return nil, io.EOF
	}
	return rx.Data, nil
}
