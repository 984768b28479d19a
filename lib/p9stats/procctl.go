package p9stats

import (
	"io"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// readToEnd reads name until a read returns nothing, for the kernel files
// that give one line a read: 9front's /proc/N/fd returns the working
// directory, then one open file a read (devproc.c, readfd1), so the
// one-large-read rule would stop after the working directory.
func (p FS) readToEnd(name string) ([]byte, error) {
	if !p.local {
		p.sem <- struct{}{}
		defer func() { <-p.sem }()
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, ns.MaxFileSize))
}
