// Package testkit is what the tests of this module share: the captures of
// real kernels and file-server consoles in testdata, edited copies of
// them, the commands built once for a test binary, a name space whose
// consoles answer as a test says, and the README's tables.
//
// It is imported by tests only, and imports nothing of this module but
// package ns, so that the tests of every package above ns may use it.
package testkit

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Root is the module's top directory.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testkit: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path is a file of the module, by its slash-separated path from the top.
func Path(name string) string { return filepath.Join(Root(), filepath.FromSlash(name)) }

// The captures in testdata were read from real kernels booted under QEMU
// (testdata/README.md); the names say which kernel. dev/sysstat.2 is a
// second read of dev/sysstat about 5 s after the first.
const (
	Front11879amd64 = "qemu-9front-11879-amd64-9pc64"
	Front11879x386  = "qemu-9front-11879-386-9pc"
	Front2016amd64  = "qemu-9front-2016-9emul-amd64-9pc64"
	Front2016x386   = "qemu-9front-2016-9emul-386-9pcf"
	Legacy386       = "qemu-rsc-plan9-9legacy-386-9pc"
	Legacy9k        = "qemu-rsc-plan9-9legacy-amd64-9k10"
)

// Captures lists every capture.
var Captures = []string{Front11879amd64, Front11879x386, Front2016amd64, Front2016x386, Legacy386, Legacy9k}

// Capture is the directory of a capture: its name space's root.
func Capture(name string) string { return Path("testdata/" + name) }

// ReadCapture reads a file of a capture.
func ReadCapture(t testing.TB, capture, file string) []byte {
	t.Helper()
	return readFile(t, filepath.Join(Capture(capture), filepath.FromSlash(file)))
}

// CaptureFiles reads the files of every capture that match pattern
// (path.Match syntax, "proc/*/status"), as fuzz seeds.
func CaptureFiles(t testing.TB, pattern string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range Captures {
		matches, err := filepath.Glob(filepath.Join(Capture(c), filepath.FromSlash(pattern)))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			out = append(out, readFile(t, m))
		}
	}
	return out
}

// ConsoleReply is a real file server's reply to its space command, as
// testdata/fsconsole holds them: cwfs64x-statw.txt, gefs-df.txt,
// fossil-df.txt, hjfs-kmesg.txt.
func ConsoleReply(t testing.TB, name string) []byte {
	t.Helper()
	return readFile(t, Path("testdata/fsconsole/"+name))
}

// Lufia is the directory of lufia/plan9stats's captures (a 2-CPU 9legacy
// machine with an Intel e1000 NIC and fossil disks): third-party data that
// may be read from the shared test data beside the repository but not
// copied into it. The test is skipped where it is not there.
func Lufia(t testing.TB) string {
	t.Helper()
	const rel = "shared/testdata/real/lufia-plan9stats/testdata"
	for dir := Root(); ; {
		p := filepath.Join(dir, rel)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("third-party captures not available: no " + rel + " above " + Root())
			return ""
		}
		dir = up
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Host is an edited copy of a capture, which a test changes as a kernel
// would between two readings.
type Host struct {
	t   testing.TB
	Dir string
}

// CopyCapture copies a capture into a temporary directory: only what the
// kernel serves, not the notes in _capture.
func CopyCapture(t testing.TB, capture string) *Host {
	t.Helper()
	dir := t.TempDir()
	src := Capture(capture)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.Name() == "_capture":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Host{t, dir}
}

// Path is a file of the host.
func (h *Host) Path(name string) string { return filepath.Join(h.Dir, filepath.FromSlash(name)) }

// Read reads a file of the host.
func (h *Host) Read(name string) string {
	h.t.Helper()
	return string(readFile(h.t, h.Path(name)))
}

// Write replaces a file; "-" removes it, or a directory with its content.
func (h *Host) Write(name, content string) {
	h.t.Helper()
	p := h.Path(name)
	if content == "-" {
		if err := os.RemoveAll(p); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// Append adds to the end of a file, as the kernel's message ring grows.
func (h *Host) Append(name, content string) {
	h.t.Helper()
	f, err := os.OpenFile(h.Path(name), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err == nil {
		_, err = f.WriteString(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		h.t.Error(err)
	}
}

// LinuxRoot makes a directory that looks like a Linux machine's /: a
// /proc with n processes in Linux's format, and no Plan 9 kernel files.
func LinuxRoot(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	for pid := 1; pid <= n; pid++ {
		p := filepath.Join(dir, "proc", strconv.Itoa(pid))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		status := "Name:\tkworker/" + strconv.Itoa(pid) + "\nUmask:\t0000\nState:\tI (idle)\nTgid:\t" + strconv.Itoa(pid) +
			"\nNgid:\t0\nPid:\t" + strconv.Itoa(pid) + "\nPPid:\t2\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n"
		if err := os.WriteFile(filepath.Join(p, "status"), []byte(status), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"dev", "net", "etc"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "dev", "null"), nil, 0o666)
	os.WriteFile(filepath.Join(dir, "etc", "hostname"), []byte("box\n"), 0o644)
	return dir
}
