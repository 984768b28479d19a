package ns

// Local is implemented by name spaces that can tell whether reading one
// of their files costs a system call and no more: a directory on a local
// disk, or the kernel's own devices on Plan 9, as against files that a
// server across a network serves (a v9fs or 9pfuse mount, or 9P itself).
//
// Reading a local name space's files one after another is faster than
// reading them all at once, which pays for a goroutine, its stack and
// often a thread per file; across a network, reading them at once is what
// saves the round trips. A name space that does not implement Local is
// taken to be remote.
type Local interface {
	Local() bool
}

// Local reports whether the directory is on a local disk (or, on Plan 9,
// is the root with the kernel's devices), by the type of its file system.
// File systems it does not know are taken to be remote.
func (d dir) Local() bool { return d.kernel || localDisk(d.root) }
