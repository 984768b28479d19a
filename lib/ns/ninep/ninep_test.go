package ninep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

var capture = testkit.Capture(testkit.Front11879amd64)

func dial(t *testing.T, addr string, timeout time.Duration) *ninep.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	c, err := ninep.Dial(ctx, addr, "glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The client passes the standard library's file-system conformance test
// over a real 9P connection, and reads the same bytes as a local reader.
func TestCaptureOver9P(t *testing.T) {
	addr := p9test.Start(t, &p9test.Server{Root: capture})
	c := dial(t, addr, 30*time.Second)
	local := ns.Dir(capture)
	var files []string
	fs.WalkDir(local, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) < 100 {
		t.Fatalf("only %d files in the capture", len(files))
	}
	if err := fstest.TestFS(c, files...); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, _ := local.ReadFile(f)
		got, err := c.ReadFile(f)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes %v, want %d bytes", f, len(got), err, len(want))
		}
	}
	fi, err := c.Stat("dev/sysstat")
	lfi, _ := local.Stat("dev/sysstat")
	if err != nil || !fi.ModTime().Equal(lfi.ModTime().Truncate(time.Second)) || fi.Size() != 121 {
		t.Errorf("stat %v %v", fi, err)
	}
	if _, err := c.ReadFile("dev/nonexistent"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := c.ReadFile("#c/sysstat"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("kernel name over 9P: %v", err)
	}
}

// A file larger than the iounit takes several reads; a directory with more
// entries than one read holds is listed whole.
func TestLargeFileAndDirectory(t *testing.T) {
	root := t.TempDir()
	big := bytes.Repeat([]byte("0123456789"), 20000)
	os.WriteFile(filepath.Join(root, "big"), big, 0o644)
	os.Mkdir(filepath.Join(root, "proc"), 0o755)
	for i := 0; i < 2000; i++ {
		os.WriteFile(filepath.Join(root, "proc", fmt.Sprintf("status-with-a-long-name-%04d", i)), nil, 0o644)
	}
	c := dial(t, p9test.Start(t, &p9test.Server{Root: root}), 30*time.Second)
	if b, err := c.ReadFile("big"); err != nil || !bytes.Equal(b, big) {
		t.Errorf("big: %d bytes %v", len(b), err)
	}
	ds, err := c.ReadDir("proc")
	if err != nil || len(ds) != 2000 || ds[1999].Name() != "status-with-a-long-name-1999" {
		t.Errorf("%d entries %v", len(ds), err)
	}
}

// Many concurrent requests share the connection.
func TestConcurrent(t *testing.T) {
	srv := &p9test.Server{Root: capture}
	c := dial(t, p9test.Start(t, srv), 30*time.Second)
	want, _ := os.ReadFile(filepath.Join(capture, "dev/swap"))
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.ReadFile("dev/swap")
			if err == nil && !bytes.Equal(b, want) {
				err = errors.New("wrong bytes")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestConsole(t *testing.T) {
	srv := &p9test.Server{Root: t.TempDir(), Consoles: map[string]func(string) string{
		"srv/test.cmd": func(cmd string) string { return "you said " + cmd + "\n" },
	}}
	c := dial(t, p9test.Start(t, srv), 10*time.Second)
	k, err := c.OpenConsole("srv/test.cmd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Write([]byte("statw\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	n, err := k.Read(b)
	if err != nil || string(b[:n]) != "you said statw\n" {
		t.Errorf("%q %v", b[:n], err)
	}
	// A read with nothing to come is abandoned by Close, with a flush.
	done := make(chan error)
	go func() { _, err := k.Read(b); done <- err }()
	time.Sleep(50 * time.Millisecond)
	k.Close()
	select {
	case err := <-done:
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the read")
	}
	// The connection still works after the flush.
	if _, err := c.Stat("srv"); err != nil {
		t.Error(err)
	}
	// Nothing else can be opened for writing.
	os.WriteFile(filepath.Join(srv.Root, "f"), nil, 0o644)
	if _, err := c.OpenConsole("f"); err == nil {
		t.Error("opened a plain file for writing")
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"tcp!gnot!17564":    "gnot:17564",
		"net!gnot!9fs":      "gnot:564",
		"gnot!exportfs":     "gnot:17007",
		"gnot":              "gnot:564",
		"10.0.2.15:564":     "10.0.2.15:564",
		"[fe80::1]:17564":   "[fe80::1]:17564",
		"tcp!fe80::1!17564": "[fe80::1]:17564",
		"localhost":         "localhost:564",
	} {
		if got, err := ninep.ParseAddr(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "udp!gnot!564", "tcp!gnot!nosuch", "a!b!c!d", "gnot:port"} {
		if got, err := ninep.ParseAddr(in); err == nil {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}

// Each fault ends the request within the deadline with a clear error and
// leaves no goroutine behind.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault p9test.Fault
		on    uint8 // request type that triggers it
		want  string
	}{
		{"server stops answering", p9test.Silence, plan9.Tread, "no reply before the deadline"},
		{"server hangs up", p9test.Hangup, plan9.Tread, "connection closed by the server"},
		{"server refuses", p9test.Refuse, plan9.Topen, "injected fault"},
		{"server sends garbage", p9test.Garbage, plan9.Tread, "malformed message"},
		{"attach never answered", p9test.Silence, plan9.Tattach, "no reply before the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srv := &p9test.Server{Root: capture, Fault: func(f *plan9.Fcall, _ string) p9test.Fault {
				if f.Type == tt.on {
					return tt.fault
				}
				return p9test.Answer
			}}
			addr := p9test.Start(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			var err error
			c, err := ninep.Dial(ctx, addr, "glenda", "")
			if err == nil {
				_, err = c.ReadFile("dev/swap")
				// Requests after a failure fail at once.
				if _, err2 := c.ReadFile("dev/time"); err2 == nil && tt.fault != p9test.Refuse {
					t.Error("the connection still worked")
				}
				c.Close()
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
			srv.Close()
			p9test.Settle(t, base)
		})
	}
}

// A server that accepts the connection but never answers Tversion.
func TestSilentServer(t *testing.T) {
	base := runtime.NumGoroutine()
	ln, err := silentServer(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = ninep.Dial(ctx, ln, "glenda", "")
	if err == nil || !strings.Contains(err.Error(), "no reply before the deadline") || time.Since(start) > 2*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
	p9test.Settle(t, base+1) // the test's own listener goroutine
}

// A server that answers with a length word of 4 GiB must not make the
// client allocate it.
func TestHugeLength(t *testing.T) {
	addr := rawServer(t, []byte{0xff, 0xff, 0xff, 0xff, 0})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := ninep.Dial(ctx, addr, "glenda", "")
	if err == nil || !strings.Contains(err.Error(), "bad message length") {
		t.Errorf("%v", err)
	}
}

var _ io.Closer = (*ninep.Client)(nil)

// A 9legacy exportfs, whose standard error is its connection, carries the
// kernel's warning when it first holds more than 100 files open: the
// client reads on past it, and still refuses any other text.
func TestKernelWarningInStream(t *testing.T) {
	opens := 0
	srv := &p9test.Server{Root: capture, Fault: func(f *plan9.Fcall, _ string) p9test.Fault {
		if f.Type == plan9.Topen {
			if opens++; opens%3 == 0 {
				return p9test.Warn
			}
		}
		return p9test.Answer
	}}
	c := dial(t, p9test.Start(t, srv), 10*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.ReadFile("dev/swap"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, junk := range []string{"HTTP/1.1 400 Bad Request\r\n", "exportfs 603: warning: process exceeds 100 file\n", "exportfs: convM2S format error\n"} {
		addr := rawServer(t, append(versionReply(), junk...))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := ninep.Dial(ctx, addr, "glenda", "")
		cancel()
		if err == nil || !strings.Contains(err.Error(), "bad message length") {
			t.Errorf("%q: %v", junk, err)
		}
	}
}

func versionReply() []byte {
	b, _ := (&plan9.Fcall{Type: plan9.Rversion, Tag: plan9.NOTAG, Msize: 8192, Version: plan9.VERSION9P}).Bytes()
	return b
}
