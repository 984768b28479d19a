package p9stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// 9front's /lib/namespace binds only #c, #¤ and #¶ on /dev and the first
// ether and #I on /net; files of other devices are reached by kernel name.
func TestKernelNameFallback(t *testing.T) {
	src := testkit.Capture(testkit.Front11879amd64)
	files := map[string]string{
		"#c/sysstat":        "dev/sysstat",
		"#¶/swap":           "dev/swap",
		"#P/cputype":        "dev/cputype",
		"#c/time":           "dev/time",
		"#l0/ether0/stats":  "net/ether0/stats",
		"#I/tcp/stats":      "net/tcp/stats",
		"#p/1/status":       "proc/1/status",
		"#S/sdctl":          "dev/sdctl",
		"#S/sdD0/ctl":       "dev/sdD0/ctl",
		"#I/ipifc/0/status": "net/ipifc/0/status",
		"#c/drivers":        "dev/drivers",
		"#ec/bootfile":      "",
		"dev/cons":          "",
	}
	m := fstest.MapFS{}
	for dst, from := range files {
		var b []byte
		if from != "" {
			var err error
			if b, err = os.ReadFile(filepath.Join(src, from)); err != nil {
				t.Fatal(err)
			}
		}
		m[dst] = &fstest.MapFile{Data: b}
	}
	m["#ec/bootfile"].Data = []byte("9pc64")
	p := NewFS(m)
	if cpus, err := p.SysStat(); err != nil || cpus[0].ContextSwitches != 8810 {
		t.Errorf("sysstat %v %v", cpus, err)
	}
	if s, err := p.Swap(); err != nil || s.MemoryBytes != 1067155456 {
		t.Errorf("swap %v", err)
	}
	if c, err := p.CPUType(); err != nil || c.MHz != 2596 {
		t.Errorf("cputype %v", err)
	}
	if n, err := p.EtherNames(); err != nil || len(n) != 1 || n[0] != "ether0" {
		t.Errorf("ether names %v %v", n, err)
	}
	if e, err := p.EtherStats("ether0"); err != nil || e.InPackets != 3686 {
		t.Errorf("ether %v", err)
	}
	if tcp, err := p.TCPStats(); err != nil || tcp.InSegs != 4044 {
		t.Errorf("tcp %v", err)
	}
	if procs, err := p.Procs(); err != nil || len(procs) != 1 || procs[0].Name != "bootrc" {
		t.Errorf("procs %v %v", procs, err)
	}
	if d, err := p.Disks(); err != nil || len(d) != 1 || d[0].Model != "QEMU DVD-ROM" {
		t.Errorf("disks %v %v", d, err)
	}
	if ifs, err := p.IPInterfaces(); err != nil || len(ifs) != 1 {
		t.Errorf("ipifc %v %v", ifs, err)
	}
	if f, why, _ := p.Flavour(); f != Flavour9front {
		t.Errorf("flavour %v %s", f, why)
	}
	if b, err := p.Env("bootfile"); b != "9pc64" || err != nil {
		t.Errorf("bootfile %q %v", b, err)
	}
}

// A malformed file found by its kernel name is named that way.
func TestKernelNameInErrors(t *testing.T) {
	_, err := mapFS(map[string]string{"#c/sysstat": "0 1 2\n"}).SysStat()
	if err == nil || !strings.HasPrefix(err.Error(), "p9stats: #c/sysstat: line 1:") {
		t.Errorf("%v", err)
	}
}

func TestMissingIsNotExist(t *testing.T) {
	p := mapFS(map[string]string{"dev/null": ""})
	for name, f := range map[string]func() error{
		"swap":    func() error { _, err := p.Swap(); return err },
		"sysstat": func() error { _, err := p.SysStat(); return err },
		"time":    func() error { _, err := p.Time(); return err },
		"procs":   func() error { _, err := p.Procs(); return err },
		"tcp":     func() error { _, err := p.TCPStats(); return err },
		"disks":   func() error { _, err := p.Disks(); return err },
		"battery": func() error { _, err := p.Battery(); return err },
	} {
		if err := f(); !IsNotExist(err) {
			t.Errorf("%s: got %v, want a not-exist error", name, err)
		}
	}
}

// regenFS imitates a kernel device: every Read call generates the file
// anew, one byte longer each time, as /net/ether0/ifstats may grow.
type regenFS struct{ reads atomic.Int32 }

func (r *regenFS) Open(name string) (fs.File, error) {
	if name != "dev/sysstat" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &regenFile{fs: r}, nil
}

type regenFile struct {
	fs  *regenFS
	off int
}

func (f *regenFile) Stat() (fs.FileInfo, error) { return nil, errors.New("no stat") }
func (f *regenFile) Close() error               { return nil }
func (f *regenFile) Read(b []byte) (int, error) {
	n := int(f.fs.reads.Add(1))
	content := fmt.Sprintf("%11d %11d %11d %11d %11d %11d %11d %11d %11d %11d \n", 0, n, n, n, n, 0, 0, 1000, 99, 0)
	content += strings.Repeat(" ", n-1)
	if f.off >= len(content) {
		return 0, io.EOF
	}
	m := copy(b, content[f.off:])
	f.off += m
	return m, nil
}

// A file is read in one read call; reading on would splice in a second,
// different, generation of the file.
func TestOneLargeRead(t *testing.T) {
	r := &regenFS{}
	cpus, err := NewFS(r).SysStat()
	if err != nil {
		t.Fatal(err)
	}
	if n := r.reads.Load(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
	if cpus[0].ContextSwitches != 1 {
		t.Errorf("%+v", cpus)
	}
}

func TestSnapshot(t *testing.T) {
	for _, c := range testkit.Captures {
		s := captureFS(c).Snapshot(context.Background(), SourceAll)
		for src, err := range s.Errors {
			// Absent files are normal; nothing may be malformed.
			if !IsNotExist(err) {
				t.Errorf("%s: %v: %v", c, src, err)
			}
		}
		if s.Swap == nil || len(s.CPUs) != 1 || s.Time == nil || len(s.Procs) == 0 || len(s.Ethers) != 1 ||
			s.IP == nil || s.TCP == nil || s.UDP == nil || s.ICMP == nil || len(s.IPInterfaces) == 0 ||
			s.CPUType == nil || s.SysName != "gnot" || s.KernelBuild.IsZero() || s.Config == nil ||
			s.Flavour == FlavourUnknown || s.FlavourWhy == "" || s.EtherAddrs["ether0"] != "52:54:00:12:34:56" {
			t.Errorf("%s: incomplete snapshot %+v", c, s)
		}
		if (s.IL != nil) != strings.Contains(c, "9front") {
			t.Errorf("%s: IL %v", c, s.IL)
		}
	}
}

// slowFS blocks every read until the test ends.
type slowFS struct {
	fstest.MapFS
	release chan struct{}
}

func (s slowFS) ReadFile(name string) ([]byte, error) {
	if name == "dev/sysstat" {
		<-s.release
	}
	return s.MapFS.ReadFile(name)
}

func TestSnapshotDeadline(t *testing.T) {
	sw := testkit.ReadCapture(t, testkit.Front11879amd64, "dev/swap")
	st := testkit.ReadCapture(t, testkit.Front11879amd64, "dev/sysstat")
	s := slowFS{fstest.MapFS{"dev/swap": {Data: sw}, "dev/sysstat": {Data: st}}, make(chan struct{})}
	defer close(s.release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	snap := NewFS(s).Snapshot(ctx, SourceSwap|SourceSysStat)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if snap.Swap == nil || snap.CPUs != nil {
		t.Errorf("swap %v cpus %v", snap.Swap, snap.CPUs)
	}
	if err := snap.Errors[SourceSysStat]; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("sysstat error %v", err)
	}
}

func TestSourceString(t *testing.T) {
	if s := (SourceSwap | SourceTCP).String(); s != "swap|tcp" {
		t.Error(s)
	}
	// Every source is declared once, in the order of its bit.
	seen := map[string]bool{}
	for i, d := range sources {
		if d.src != 1<<i || d.name == "" || d.files == "" || d.read == nil || seen[d.name] {
			t.Errorf("sources[%d] = %v %q %q", i, d.src, d.name, d.files)
		}
		seen[d.name] = true
	}
	if SourceAll != 1<<len(sources)-1 {
		t.Errorf("SourceAll %b, %d sources", SourceAll, len(sources))
	}
}
