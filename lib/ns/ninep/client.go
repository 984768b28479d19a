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
// Files are only ever opened for reading, except by OpenConsole, which
// the caller uses for a file server's console that a user named.
package ninep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

	wmu sync.Mutex // serialises writes

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
}

type call struct {
	ch    chan *plan9.Fcall // nil when nobody waits (clunks, flushes)
	after func()            // run when the reply arrives
}

// Dial connects to addr, negotiates 9P2000 and attaches to aname as user.
// addr is a Plan 9 dial string ("tcp!gnot!17564", "gnot!9fs") or
// host:port. Every request, the dial included, ends by ctx's deadline;
// when ctx ends the connection is closed.
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
	tx := &plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: c.msize, Version: plan9.VERSION9P}
	if err := c.write(tx); err != nil {
		return nil, c.failed(c.errorf("version", err))
	}
	rx, err := ReadMessage(r, c.msize)
	switch {
	case err != nil:
	case rx.Type == plan9.Rerror:
		err = errors.New(rx.Ename)
	case rx.Type != plan9.Rversion || rx.Tag != plan9.NOTAG:
		err = fmt.Errorf("reply of type %d to Tversion", rx.Type)
	case rx.Version != plan9.VERSION9P:
		err = fmt.Errorf("server speaks %q, not 9P2000", rx.Version)
	case rx.Msize < 256 || rx.Msize > c.msize:
		err = fmt.Errorf("bad msize %d", rx.Msize)
	}
	if err != nil {
		return nil, c.failed(c.errorf("version", err))
	}
	c.msize = rx.Msize
	go c.reader(r)
	if _, err := c.rpc(&plan9.Fcall{Type: plan9.Tattach, Fid: c.root, Afid: plan9.NOFID, Uname: user, Aname: aname}, nil); err != nil {
		err = c.failed(c.errorf("attach", err))
		c.Close()
		return nil, err
	}
	return c, nil
}

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

func (c *Client) write(f *plan9.Fcall) error {
	b, err := f.Bytes()
	if err != nil {
		return err
	}
	if len(b) > int(c.msize) {
		return fmt.Errorf("message of %d bytes exceeds msize %d", len(b), c.msize)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.requests.Add(1)
	_, err = c.conn.Write(b)
	return err
}

func (c *Client) reader(r io.Reader) {
	defer close(c.closed)
	for {
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
			c.fail(c.errorf("read", fmt.Errorf("reply for unknown tag %d", rx.Tag)))
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

// send registers k under a new tag and writes tx.
func (c *Client) send(tx *plan9.Fcall, k *call) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	if n := len(c.freeTags); n > 0 {
		tx.Tag = c.freeTags[n-1]
		c.freeTags = c.freeTags[:n-1]
	} else if c.nextTag < plan9.NOTAG {
		tx.Tag = c.nextTag
		c.nextTag++
	} else {
		c.mu.Unlock()
		return errors.New("out of tags")
	}
	c.calls[tx.Tag] = k
	c.mu.Unlock()
	if err := c.write(tx); err != nil {
		err = c.errorf("write", err)
		c.fail(err)
		return err
	}
	return nil
}

var errCanceled = errors.New("request canceled")

// rpc sends tx and waits for its reply. If cancel is closed first, the
// request is flushed and rpc returns errCanceled.
func (c *Client) rpc(tx *plan9.Fcall, cancel <-chan struct{}) (*plan9.Fcall, error) {
	k := &call{ch: make(chan *plan9.Fcall, 1)}
	if err := c.send(tx, k); err != nil {
		return nil, err
	}
	var rx *plan9.Fcall
	select {
	case rx = <-k.ch:
	case <-c.done:
		return nil, c.err
	case <-cancel:
		c.flush(tx.Tag, k)
		return nil, errCanceled
	}
	switch {
	case rx.Type == plan9.Rerror:
		return nil, serverError(rx.Ename)
	case rx.Type != tx.Type+1:
		err := c.errorf("read", fmt.Errorf("reply of type %d to a request of type %d", rx.Type, tx.Type))
		c.fail(err)
		return nil, err
	}
	return rx, nil
}

// flush abandons the request under tag, unless its reply has come. The
// tag is not reused until the server's Rflush says no reply will follow.
func (c *Client) flush(tag uint16, k *call) {
	c.mu.Lock()
	pending := c.calls[tag] == k
	if pending {
		c.flushing[tag] = true
	}
	c.mu.Unlock()
	if !pending {
		return
	}
	c.send(&plan9.Fcall{Type: plan9.Tflush, Oldtag: tag}, &call{after: func() {
		c.mu.Lock()
		delete(c.calls, tag)
		delete(c.flushing, tag)
		c.freeTags = append(c.freeTags, tag)
		c.mu.Unlock()
	}})
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
	c.send(&plan9.Fcall{Type: plan9.Tclunk, Fid: fid}, &call{after: func() { c.putFid(fid) }})
}

// ServerError is an error string a 9P server returned (Rerror). It matches
// fs.ErrNotExist and fs.ErrPermission by the usual Plan 9 wording.
type ServerError string

func serverError(s string) error { return ServerError(s) }

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

// walk returns a new fid for name.
func (c *Client) walk(op, name string) (uint32, plan9.Qid, error) {
	if !fs.ValidPath(name) {
		return 0, plan9.Qid{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	var elems []string
	if name != "." {
		elems = strings.Split(name, "/")
	}
	fid := c.newFid()
	from := c.root
	qid := plan9.Qid{Type: plan9.QTDIR}
	for first := true; first || len(elems) > 0; first = false {
		n := min(len(elems), plan9.MAXWELEM)
		rx, err := c.rpc(&plan9.Fcall{Type: plan9.Twalk, Fid: from, Newfid: fid, Wname: elems[:n]}, nil)
		if err == nil && len(rx.Wqid) != n {
			err = ServerError("'" + elems[len(rx.Wqid)] + "' file does not exist")
		}
		if err != nil {
			if first {
				c.putFid(fid) // a failed walk leaves newfid unused
			} else {
				c.clunk(fid)
			}
			return 0, qid, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if n > 0 {
			qid = rx.Wqid[n-1]
		}
		elems = elems[n:]
		from = fid
	}
	return fid, qid, nil
}

// open walks to name and opens it with mode, returning the fid and the
// largest read or write the server allows on it.
func (c *Client) open(op, name string, mode uint8) (uint32, uint32, error) {
	fid, _, err := c.walk(op, name)
	if err != nil {
		return 0, 0, err
	}
	rx, err := c.rpc(&plan9.Fcall{Type: plan9.Topen, Fid: fid, Mode: mode}, nil)
	if err != nil {
		c.clunk(fid)
		return 0, 0, &fs.PathError{Op: op, Path: name, Err: err}
	}
	iounit := c.msize - plan9.IOHDRSZ
	if rx.Iounit != 0 && rx.Iounit < iounit {
		iounit = rx.Iounit
	}
	return fid, iounit, nil
}

func (c *Client) read(fid uint32, off uint64, p []byte, cancel <-chan struct{}) (int, error) {
	rx, err := c.rpc(&plan9.Fcall{Type: plan9.Tread, Fid: fid, Offset: off, Count: uint32(len(p))}, cancel)
	if err != nil {
		return 0, err
	}
	if len(rx.Data) > len(p) {
		err := c.errorf("read", fmt.Errorf("Rread of %d bytes for %d asked", len(rx.Data), len(p)))
		c.fail(err)
		return 0, err
	}
	if len(rx.Data) == 0 {
		return 0, io.EOF
	}
	return copy(p, rx.Data), nil
}
