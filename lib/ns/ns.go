// Package ns gives the rest of this module access to a Plan 9 name space:
// the host's own when running on Plan 9, a name space mounted or captured in
// a directory elsewhere (Linux v9fs, plan9port's 9pfuse, a copy made with
// cp -r), or, through package ns/ninep, a name space exported over 9P.
//
// Names follow io/fs: slash-separated and unrooted, so /dev/swap is
// "dev/swap" and the kernel device name #c/sysstat is "#c/sysstat".
//
// Plan 9 kernels generate a device file anew on every read(2) and slice the
// result at the file offset. A reader that issues several small reads, as
// os.ReadFile does for a file whose stat length is 0, can splice two
// different snapshots together. Every FS here therefore implements ReadFile
// as open, one large read, close; it reads on only when the first read
// filled its whole buffer.
package ns

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"sync"
)

// FS is a Plan 9 name space: files can be read, listed and stat'ed.
// ReadFile must follow the one-large-read rule described in the package
// documentation, and ReadDir must stop at MaxDirEntries. A missing file yields an error for which
// errors.Is(err, fs.ErrNotExist) is true.
type FS interface {
	fs.ReadFileFS
	fs.ReadDirFS
	fs.StatFS
}

// ConsoleFS is a name space in which a file can also be opened for writing
// and reading: a file server's command console such as /srv/cwfs.cmd.
// It and ControlFS are the only ways anything in this module writes to a
// name space.
type ConsoleFS interface {
	OpenConsole(name string) (io.ReadWriteCloser, error)
}

// ControlFS is a name space in which a control file can be written: the
// file opened for writing only, msg written in one write, as a kernel
// device takes a message (/proc/N/notepg a note).
type ControlFS interface {
	WriteControl(name string, msg []byte) error
}

// ReadSize is the size of the single read ReadFile issues. It is larger than
// every kernel statistics file (sdctl and the IP statistics stay well under
// 32 KiB); /dev/kmesg and /dev/config may need a second read.
const ReadSize = 64 * 1024

// MaxFileSize bounds what ReadFile returns, so that a misbehaving server or
// a huge file cannot exhaust memory.
const MaxFileSize = 4 << 20

// MaxDirEntries and MaxDirBytes bound a directory listing: ReadDir of
// every FS here fails with ErrDirTooLarge past either, so that a server
// whose directory never ends (or a listing of millions of entries) costs
// a bounded amount of memory. A Plan 9 kernel has at most a few thousand
// processes (9front: conf.nproc, at most 2000); /proc is the largest
// directory read.
const (
	MaxDirEntries = 65536
	MaxDirBytes   = 16 << 20 // of stat entries over 9P
)

// ErrDirTooLarge is the error of a listing past MaxDirEntries or
// MaxDirBytes.
var ErrDirTooLarge = errors.New("directory listing stopped at " + strconv.Itoa(MaxDirEntries) + " entries or " +
	strconv.Itoa(MaxDirBytes>>20) + " MiB: more than any Plan 9 kernel serves")

// ReadAll reads r following the one-large-read rule: a first read of
// ReadSize bytes, and further reads only while each read fills its buffer
// (as a 9P server does up to its iounit). It is exported for FS
// implementations; n, the size of a full read, is ReadSize for local files
// and the iounit over 9P.
func ReadAll(r io.Reader, n int) ([]byte, error) {
	if n <= 0 || n > ReadSize {
		n = ReadSize
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := (*bp)[:0]
	for {
		if len(buf)+n > cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf)+n)
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf) : len(buf)+n])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return bytes.Clone(buf), nil
		}
		if err != nil {
			return bytes.Clone(buf), err
		}
		if m < n {
			// A short read is the whole file: reading again would make
			// the kernel generate it anew.
			return bytes.Clone(buf), nil
		}
		if len(buf) > MaxFileSize {
			return bytes.Clone(buf[:MaxFileSize]), nil
		}
	}
}

// bufPool holds the buffers of the first, large read, so that reading
// many small files allocates only what they hold.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, ReadSize)
	return &b
}}
