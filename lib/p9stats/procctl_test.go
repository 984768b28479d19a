package p9stats

import (
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// lineFS serves its files as 9front's /proc/N/fd is served: one line a
// read (and no ReadFile that would read them whole).
type lineFS struct{ m fstest.MapFS }

func (l lineFS) Open(name string) (fs.File, error) {
	f, err := l.m.Open(name)
	if err != nil {
		return nil, err
	}
	return &lineFile{File: f}, nil
}

type lineFile struct {
	fs.File
	rest []byte
	read bool
}

func (f *lineFile) Read(b []byte) (int, error) {
	if !f.read {
		f.rest, _ = io.ReadAll(f.File)
		f.read = true
	}
	if len(f.rest) == 0 {
		return 0, io.EOF
	}
	n := strings.IndexByte(string(f.rest), '\n') + 1
	if n == 0 {
		n = len(f.rest)
	}
	n = copy(b, f.rest[:n])
	f.rest = f.rest[n:]
	return n, nil
}

// Every open file arrives though the kernel gives one a read.
func TestFdsLineByLine(t *testing.T) {
	fd := "/usr/glenda\n" +
		"  0 r  c    0 (000000000000000a 0 00)     0        0 /dev/null\n" +
		"  1 rw |    0 (0000000000000c42 0 00) 65536        4 #|/data1\n" +
		"  2 w  c    0 (000000000000000a 0 00)     0       62 /dev/null\n"
	p := NewFS(lineFS{fstest.MapFS{"proc/225/fd": {Data: []byte(fd)}}})
	fds, err := p.Fds(225)
	if err != nil || fds.Cwd != "/usr/glenda" || len(fds.Files) != 3 {
		t.Fatalf("%+v %v", fds, err)
	}
	if f := fds.Files[1].File(); f != (FileID{Type: '|', Path: 0xc42}) {
		t.Errorf("%+v", f)
	}
}
