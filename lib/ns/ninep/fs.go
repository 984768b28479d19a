package ninep

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

var (
	_ ns.FS        = (*Client)(nil)
	_ ns.ConsoleFS = (*Client)(nil)
)

// ReadFile walks to name and opens it for reading (one round trip), reads
// it with one read of up to the iounit (more only while reads come back
// full, the rule of ns.ReadAll) and clunks it without waiting. It holds no
// buffer while a read is on the wire: what it returns is the replies' own
// bytes, the first one's uncopied, so that the many reads a collection has
// in flight at once, over a slow link and for a whole fleet, cost only
// what the files hold (a 64 KiB buffer each cost 3 MB a host).
func (c *Client) ReadFile(name string) ([]byte, error) {
	fid, iounit, err := c.open("read", name, plan9.OREAD)
	if err != nil {
		return nil, err
	}
	defer c.clunk(fid)
	var b []byte
	for {
		d, err := c.readData(fid, uint64(len(b)), iounit)
		switch {
		case err == io.EOF && b == nil:
			return []byte{}, nil
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		case b == nil:
			b = d
		default:
			b = append(b, d...)
		}
		// A short read is the whole file: reading again would make the
		// kernel generate it anew.
		if len(d) < int(iounit) {
			return b, nil
		}
		if len(b) > ns.MaxFileSize {
			return b[:ns.MaxFileSize:ns.MaxFileSize], nil
		}
	}
}

// fidReader reads an open file from where it last stopped.
type fidReader struct {
	c   *Client
	fid uint32
	off uint64
}

func (r *fidReader) Read(p []byte) (int, error) {
	n, err := r.c.read(r.fid, r.off, p, nil, nil)
	r.off += uint64(n)
	return n, err
}

// ReadDir lists the directory name, sorted by file name.
func (c *Client) ReadDir(name string) ([]fs.DirEntry, error) {
	fid, iounit, err := c.open("readdir", name, plan9.OREAD)
	if err != nil {
		return nil, err
	}
	defer c.clunk(fid)
	ds, err := c.readDir(fid, iounit)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name() < ds[j].Name() })
	return ds, nil
}

// readDir reads directory entries until a read returns nothing: a server
// returns whole entries, and a short read is not the end (a union
// directory returns each of its parts in turn). Each read waits for the
// last: see Ordering. It stops with an error past ns.MaxDirEntries
// entries or ns.MaxDirBytes bytes, so that a server whose directory never
// ends costs a bounded amount of memory; an entry that is not one ends
// the connection.
func (c *Client) readDir(fid, iounit uint32) ([]fs.DirEntry, error) {
	var ds []fs.DirEntry
	var off uint64
	for {
		buf, err := c.readData(fid, off, iounit)
		if err == io.EOF {
			return ds, nil
		}
		if err != nil {
			return ds, err
		}
		off += uint64(len(buf))
		for b := buf; len(b) > 0; {
			m := len(b)
			if len(b) >= 2 {
				m = int(b[0]) | int(b[1])<<8 + 2
			}
			d, err := unmarshalDir(b[:min(m, len(b))])
			if err == nil {
				err = checkName(d.Name)
			}
			if err != nil {
				return ds, c.failed(c.errorf("protocol error", fmt.Errorf("directory entry at offset %d: %v", off-uint64(len(b)), err)))
			}
			if len(ds) == ns.MaxDirEntries || off > ns.MaxDirBytes {
				return ds, ns.ErrDirTooLarge
			}
			ds = append(ds, fileInfo{d})
			b = b[m:]
		}
	}
}

// unmarshalDir decodes a stat(5) entry that must fill b exactly.
func unmarshalDir(b []byte) (*plan9.Dir, error) {
	if len(b) < 2 || int(b[0])|int(b[1])<<8 != len(b)-2 {
		n := -1
		if len(b) >= 2 {
			n = int(b[0]) | int(b[1])<<8
		}
		return nil, fmt.Errorf("%d bytes of stat whose size field says %d", len(b), n+2)
	}
	d, err := plan9.UnmarshalDir(b)
	if err != nil {
		return nil, fmt.Errorf("malformed stat of %d bytes", len(b))
	}
	return d, nil
}

// checkName refuses a directory entry's name that no file can have, which
// joined to its directory's path would name another file.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("file name %q", name)
	}
	return nil
}

// Stat returns the directory entry of name: walk, stat and clunk, sent
// together, cost one round trip.
func (c *Client) Stat(name string) (fs.FileInfo, error) {
	fid := c.newFid()
	txs, err := c.walks("stat", name, fid)
	if err != nil {
		c.putFid(fid)
		return nil, err
	}
	txs = append(txs, &plan9.Fcall{Type: plan9.Tstat, Fid: fid}, &plan9.Fcall{Type: plan9.Tclunk, Fid: fid})
	rxs, err := c.exchange(txs...)
	// Whatever the walk did, the Tclunk has left the fid unused.
	c.putFid(fid)
	// A failed walk in place can leave the fid somewhere else, where the
	// Tstat succeeds: every step but the Tclunk must have.
	for _, rx := range rxs[:len(rxs)-1] {
		if rx == nil {
			return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
		}
	}
	return statInfo(rxs[len(rxs)-2], name)
}

func (c *Client) stat(fid uint32, name string) (fs.FileInfo, error) {
	rx, err := c.rpc(&plan9.Fcall{Type: plan9.Tstat, Fid: fid}, nil, nil)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return statInfo(rx, name)
}

func statInfo(rx *plan9.Fcall, name string) (fs.FileInfo, error) {
	d, err := plan9.UnmarshalDir(rx.Stat)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fileInfo{d}, nil
}

// fidUse counts the requests in flight on an open fid, so that closing it
// clunks the fid only once the server is done with them: exportfs would
// handle the Tclunk at once, under a slave still reading (see Ordering).
type fidUse struct {
	c      *Client
	fid    uint32
	mu     sync.Mutex
	n      int
	closed bool
}

// enter counts a request about to be sent; it is false once closed.
func (u *fidUse) enter() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.n++
	return true
}

// leave says the server is done with a request.
func (u *fidUse) leave() {
	u.mu.Lock()
	u.n--
	last := u.closed && u.n == 0
	u.mu.Unlock()
	if last {
		u.c.clunk(u.fid)
	}
}

// close clunks the fid once no request is in flight; it is false if the
// fid was closed already.
func (u *fidUse) close() bool {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return false
	}
	u.closed = true
	idle := u.n == 0
	u.mu.Unlock()
	if idle {
		u.c.clunk(u.fid)
	}
	return true
}

// Open opens name for reading.
func (c *Client) Open(name string) (fs.File, error) {
	fid, iounit, err := c.open("open", name, plan9.OREAD)
	if err != nil {
		return nil, err
	}
	return &file{use: fidUse{c: c, fid: fid}, name: name, iounit: iounit, r: fidReader{c: c, fid: fid}}, nil
}

type file struct {
	use    fidUse
	name   string
	iounit uint32
	r      fidReader
	once   sync.Once
	dirs   []fs.DirEntry
	dirErr error
	dirOff int
}

func (f *file) Stat() (fs.FileInfo, error) {
	if !f.use.enter() {
		return nil, fs.ErrClosed
	}
	defer f.use.leave()
	return f.use.c.stat(f.use.fid, f.name)
}

func (f *file) Read(p []byte) (int, error) {
	if !f.use.enter() {
		return 0, fs.ErrClosed
	}
	defer f.use.leave()
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > int(f.iounit) {
		p = p[:f.iounit]
	}
	return f.r.Read(p)
}

// ReadAt reads at an offset, as debug/plan9obj does with a kernel file.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if !f.use.enter() {
		return 0, fs.ErrClosed
	}
	defer f.use.leave()
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) {
		m, err := f.use.c.read(f.use.fid, uint64(off)+uint64(n), p[n:min(len(p), n+int(f.iounit))], nil, nil)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (f *file) ReadDir(n int) ([]fs.DirEntry, error) {
	if !f.use.enter() {
		return nil, fs.ErrClosed
	}
	defer f.use.leave()
	f.once.Do(func() { f.dirs, f.dirErr = f.use.c.readDir(f.use.fid, f.iounit) })
	if f.dirErr != nil {
		return nil, f.dirErr
	}
	rest := f.dirs[f.dirOff:]
	if n <= 0 {
		f.dirOff = len(f.dirs)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	f.dirOff += n
	return rest[:n], nil
}

func (f *file) Close() error {
	if !f.use.close() {
		return fs.ErrClosed
	}
	return nil
}

// OpenConsole opens name for reading and writing: the only way this
// package writes to a name space. Reads return whatever the server
// replies, as on a pipe. Close abandons a read still waiting, and clunks
// the console once the server has answered the flush.
func (c *Client) OpenConsole(name string) (io.ReadWriteCloser, error) {
	fid, iounit, err := c.open("open", name, plan9.ORDWR)
	if err != nil {
		return nil, err
	}
	return &console{use: fidUse{c: c, fid: fid}, iounit: iounit, closed: make(chan struct{})}, nil
}

type console struct {
	use    fidUse
	iounit uint32
	off    uint64
	once   sync.Once
	closed chan struct{}
}

func (k *console) Read(p []byte) (int, error) {
	if !k.use.enter() {
		return 0, fs.ErrClosed
	}
	if len(p) > int(k.iounit) {
		p = p[:k.iounit]
	}
	// A flushed read leaves when the flush is answered.
	n, err := k.use.c.read(k.use.fid, k.off, p, k.closed, k.use.leave)
	k.off += uint64(n)
	if err == errCanceled {
		return n, fs.ErrClosed
	}
	k.use.leave()
	return n, err
}

func (k *console) Write(p []byte) (int, error) {
	if len(p) > int(k.iounit) {
		return 0, fmt.Errorf("9P %s: console write of %d bytes exceeds the iounit, %d", k.use.c.addr, len(p), k.iounit)
	}
	if !k.use.enter() {
		return 0, fs.ErrClosed
	}
	rx, err := k.use.c.rpc(&plan9.Fcall{Type: plan9.Twrite, Fid: k.use.fid, Offset: k.off, Data: p}, k.closed, k.use.leave)
	if err == errCanceled {
		return 0, fs.ErrClosed
	}
	k.use.leave()
	if err != nil {
		return 0, err
	}
	return int(rx.Count), nil
}

func (k *console) Close() error {
	k.once.Do(func() {
		k.use.close()
		close(k.closed)
	})
	return nil
}

// fileInfo is a 9P directory entry as an fs.FileInfo and fs.DirEntry.
type fileInfo struct{ d *plan9.Dir }

func (f fileInfo) Name() string       { return f.d.Name }
func (f fileInfo) Size() int64        { return int64(f.d.Length) }
func (f fileInfo) ModTime() time.Time { return time.Unix(int64(f.d.Mtime), 0) }
func (f fileInfo) IsDir() bool        { return f.d.Mode&plan9.DMDIR != 0 }
func (f fileInfo) Sys() any           { return f.d }
func (f fileInfo) Type() fs.FileMode  { return f.Mode().Type() }
func (f fileInfo) Info() (fs.FileInfo, error) {
	return f, nil
}

func (f fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(f.d.Mode & 0o777)
	if f.d.Mode&plan9.DMDIR != 0 {
		m |= fs.ModeDir
	}
	if f.d.Mode&plan9.DMAPPEND != 0 {
		m |= fs.ModeAppend
	}
	if f.d.Mode&plan9.DMEXCL != 0 {
		m |= fs.ModeExclusive
	}
	if f.d.Mode&plan9.DMTMP != 0 {
		m |= fs.ModeTemporary
	}
	return m
}

// DefaultPort is the 9fs service port, used when a dial string has none.
const DefaultPort = "564"

var services = map[string]string{"9fs": "564", "exportfs": "17007", "rexexec": "17009"}

// ParseAddr turns a Plan 9 dial string ("tcp!gnot!17564", "net!gnot!9fs",
// "gnot!exportfs", "gnot") or a host:port into a host:port for net.Dial.
func ParseAddr(addr string) (string, error) {
	hp, err := ns.DialAddr(addr, DefaultPort, services)
	if err != nil {
		return "", fmt.Errorf("9P: %q: %v", addr, err)
	}
	return hp, nil
}
