package ninep

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"9fans.net/go/plan9"
)

// TestLiveExportfs checks every order this client sends requests in
// against a real exportfs, at the dial string in $NINEP_LIVE (for
// instance one that /work/vm/exportfs.sh serves from a guest): what the
// client reads must match what a reader sending one request at a time
// reads. $NINEP_LIVE_DEEP may name a file more than 16 names deep (more
// than one Twalk), and $NINEP_LIVE_DEEP_WANT its contents;
// $NINEP_LIVE_BLOCKER a file whose reads wait. Without $NINEP_LIVE the
// test is skipped.
func TestLiveExportfs(t *testing.T) {
	addr := os.Getenv("NINEP_LIVE")
	if addr == "" {
		t.Skip("NINEP_LIVE is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Dial(ctx, addr, "glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := dialSerial(t, addr)
	t.Logf("msize %d", c.msize)

	// Walk+open, then read: files that do not change.
	for _, name := range []string{"dev/cputype", "dev/drivers", "lib/namespace", "rc/lib/rcmain", "dev/sysname"} {
		want, werr := s.readFile(name)
		got, err := c.ReadFile(name)
		if werr != nil || err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes %v, one at a time %d bytes %v", name, len(got), err, len(want), werr)
		}
	}
	// Several reads: a binary larger than the iounit.
	for _, name := range []string{"amd64/bin/rc", "386/bin/rc"} {
		want, werr := s.readFile(name)
		if werr != nil {
			continue
		}
		got, err := c.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) || len(got) <= int(c.msize) {
			t.Errorf("%s: %d bytes %v, one at a time %d bytes", name, len(got), err, len(want))
		}
		t.Logf("%s: %d bytes in %d reads", name, len(got), len(got)/int(c.msize-plan9.IOHDRSZ)+1)
	}
	// Files that change between readings keep their layout.
	for _, name := range []string{"dev/swap", "dev/sysstat", "net/tcp/stats", "proc/1/status"} {
		want, werr := s.readFile(name)
		got, err := c.ReadFile(name)
		if werr != nil || err != nil || len(strings.Fields(string(got))) != len(strings.Fields(string(want))) {
			t.Errorf("%s: %q %v, one at a time %q %v", name, got, err, want, werr)
		}
	}
	// Walk+open, then reads to the end: /net is a union, /dev too.
	for _, name := range []string{"dev", "net", "net/ipifc", "proc"} {
		want, werr := s.readDir(name)
		ds, err := c.ReadDir(name)
		var got []string
		for _, d := range ds {
			got = append(got, d.Name())
		}
		if name == "proc" {
			// exportfs's own slave processes come and go.
			if werr != nil || err != nil || !contains(got, "1") || len(got) < len(want)-8 || len(got) > len(want)+8 {
				t.Errorf("%s: %v %v, one at a time %v %v", name, got, err, want, werr)
			}
			continue
		}
		if werr != nil || err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %v %v, one at a time %v %v", name, got, err, want, werr)
		}
		t.Logf("%s: %d entries", name, len(got))
	}
	// Walk+stat+clunk.
	for _, name := range []string{"dev/sysstat", "net", "lib/namespace"} {
		want, werr := s.stat(name)
		fi, err := c.Stat(name)
		if werr != nil || err != nil || fi.Name() != want.Name || fi.Mode() != (fileInfo{want}).Mode() || fi.ModTime().Unix() != int64(want.Mtime) {
			t.Errorf("stat %s: %v %v, one at a time %v %v", name, fi, err, want, werr)
		}
	}
	// A walk that fails, and what was sent with it.
	for _, name := range []string{"dev/nonexistent", "nonexistent/a/b", "dev/sysstat/a"} {
		_, werr := s.readFile(name)
		_, err := c.ReadFile(name)
		_, serr := c.Stat(name)
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(serr, fs.ErrNotExist) || werr == nil {
			t.Errorf("%s: read %v, stat %v, one at a time %v", name, err, serr, werr)
		}
	}
	// Two Twalks, the second in place: a success, and a failure in the
	// second, which exportfs leaves half done.
	if deep := os.Getenv("NINEP_LIVE_DEEP"); deep != "" {
		b, err := c.ReadFile(deep)
		if err != nil || string(b) != os.Getenv("NINEP_LIVE_DEEP_WANT") {
			t.Errorf("%s: %q %v", deep, b, err)
		}
		parts := strings.Split(deep, "/")
		short := strings.Join(parts[:len(parts)-1], "/") + "/none"
		_, err = c.ReadFile(short)
		_, serr := c.Stat(short)
		ds, derr := c.ReadDir(short)
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(serr, fs.ErrNotExist) || !errors.Is(derr, fs.ErrNotExist) {
			t.Errorf("%s: read %v, stat %v, readdir %v %v", short, err, serr, ds, derr)
		}
	}
	// Every process's status at once, as p9stats reads them.
	pids, _ := c.ReadDir("proc")
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for _, d := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "proc/" + d.Name() + "/status"
			got, err := c.ReadFile(name)
			want, werr := s.readFile(name)
			if err != nil && errors.Is(err, fs.ErrNotExist) {
				return // gone meanwhile
			}
			if err != nil || werr == nil && firstField(got) != firstField(want) {
				mu.Lock()
				bad++
				t.Errorf("%s: %q %v, one at a time %q %v", name, got, err, want, werr)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d processes read at once, %d requests in all, %d kernel warnings skipped", len(pids), c.Requests(), c.warnings.Load())

	// A read that waits, flushed: the fid is clunked once the flush is
	// answered. $NINEP_LIVE_BLOCKER names a file whose reads wait, such
	// as a pipe end posted in /srv. (Not /dev/cons: in exportfs's name
	// space under listen1 it reads the 9P connection itself.)
	if name := os.Getenv("NINEP_LIVE_BLOCKER"); name != "" {
		k, err := c.OpenConsole(name)
		if err != nil {
			// -R refuses ORDWR; a read-only open does as well here.
			fid, iounit, err := c.open("open", name, plan9.OREAD)
			if err != nil {
				t.Fatal(err)
			}
			k = &console{use: fidUse{c: c, fid: fid}, iounit: iounit, closed: make(chan struct{})}
		}
		done := make(chan error)
		go func() {
			_, err := k.Read(make([]byte, 100))
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		k.Close()
		if err := <-done; !errors.Is(err, fs.ErrClosed) {
			t.Errorf("flushed read: %v", err)
		}
	}

	// What each operation takes, the best of five, against one request
	// at a time: through a link with latency, the round trips show.
	best := func(f func()) time.Duration {
		d := time.Hour
		for range 5 {
			start := time.Now()
			f()
			d = min(d, time.Since(start))
		}
		return d.Round(time.Millisecond)
	}
	t.Logf("dial %v; ReadFile %v, one at a time %v; Stat %v, one at a time %v; ReadDir(net) %v, one at a time %v",
		best(func() {
			if c, err := Dial(ctx, addr, "glenda", ""); err == nil {
				c.Close()
			}
		}),
		best(func() { c.ReadFile("dev/sysstat") }), best(func() { s.readFile("dev/sysstat") }),
		best(func() { c.Stat("dev/sysstat") }), best(func() { s.stat("dev/sysstat") }),
		best(func() { c.ReadDir("net") }), best(func() { s.readDir("net") }))

	// The connection still works, and every fid but the root's is free.
	if _, err := c.ReadFile("dev/sysstat"); err != nil {
		t.Error(err)
	}
	time.Sleep(time.Second)
	c.mu.Lock()
	inUse := int(c.nextFid) - 1 - len(c.freeFids)
	c.mu.Unlock()
	if inUse != 0 {
		t.Errorf("%d fids still in use", inUse)
	}
}

func firstField(b []byte) string {
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// serial is a 9P connection that sends one request and waits for its
// reply before the next: the reading the pipelined client must match.
type serial struct {
	op    sync.Mutex // one operation at a time
	mu    sync.Mutex // one request at a time
	c     net.Conn
	r     *bufio.Reader
	msize uint32
	fmu   sync.Mutex
	fids  map[uint32]bool
}

func dialSerial(t *testing.T, addr string) *serial {
	hp, err := ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", hp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(2 * time.Minute))
	s := &serial{c: nc, r: bufio.NewReader(nc), msize: MaxMessageSize, fids: map[uint32]bool{}}
	rx, err := s.rpc(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: s.msize, Version: plan9.VERSION9P})
	if err != nil {
		t.Fatal(err)
	}
	s.msize = rx.Msize
	if _, err := s.rpc(&plan9.Fcall{Type: plan9.Tattach, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *serial) rpc(tx *plan9.Fcall) (*plan9.Fcall, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := tx.Bytes()
	if err != nil {
		return nil, err
	}
	if _, err := s.c.Write(b); err != nil {
		return nil, err
	}
	skipFdWarnings(s.r, s.msize)
	rx, err := ReadMessage(s.r, s.msize)
	if err != nil {
		return nil, err
	}
	if rx.Tag != tx.Tag {
		return nil, fmt.Errorf("reply tag %d for %d", rx.Tag, tx.Tag)
	}
	if rx.Type == plan9.Rerror {
		return nil, ServerError(rx.Ename)
	}
	return rx, nil
}

// walk walks a new fid to name, one Twalk at a time.
func (s *serial) walk(name string) (uint32, error) {
	s.fmu.Lock()
	fid := uint32(1)
	for s.fids[fid] {
		fid++
	}
	s.fids[fid] = true
	s.fmu.Unlock()
	elems := strings.Split(name, "/")
	from := uint32(0)
	for first := true; first || len(elems) > 0; first = false {
		n := min(len(elems), plan9.MAXWELEM)
		rx, err := s.rpc(&plan9.Fcall{Type: plan9.Twalk, Fid: from, Newfid: fid, Wname: elems[:n]})
		if err == nil && len(rx.Wqid) != n {
			err = ServerError("file does not exist")
		}
		if err != nil {
			if !first {
				s.rpc(&plan9.Fcall{Type: plan9.Tclunk, Fid: fid})
			}
			s.free(fid)
			return 0, err
		}
		elems, from = elems[n:], fid
	}
	return fid, nil
}

func (s *serial) free(fid uint32) {
	s.fmu.Lock()
	delete(s.fids, fid)
	s.fmu.Unlock()
}

func (s *serial) clunk(fid uint32) {
	s.rpc(&plan9.Fcall{Type: plan9.Tclunk, Fid: fid})
	s.free(fid)
}

func (s *serial) open(name string) (uint32, uint32, error) {
	fid, err := s.walk(name)
	if err != nil {
		return 0, 0, err
	}
	rx, err := s.rpc(&plan9.Fcall{Type: plan9.Topen, Fid: fid, Mode: plan9.OREAD})
	if err != nil {
		s.clunk(fid)
		return 0, 0, err
	}
	iounit := s.msize - plan9.IOHDRSZ
	if rx.Iounit != 0 && rx.Iounit < iounit {
		iounit = rx.Iounit
	}
	return fid, iounit, nil
}

// readFile reads name by the one-large-read rule.
func (s *serial) readFile(name string) ([]byte, error) {
	s.op.Lock()
	defer s.op.Unlock()
	fid, iounit, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer s.clunk(fid)
	var out []byte
	for {
		rx, err := s.rpc(&plan9.Fcall{Type: plan9.Tread, Fid: fid, Offset: uint64(len(out)), Count: iounit})
		if err != nil {
			return out, err
		}
		out = append(out, rx.Data...)
		if len(rx.Data) < int(iounit) {
			return out, nil
		}
	}
}

func (s *serial) readDir(name string) ([]string, error) {
	s.op.Lock()
	defer s.op.Unlock()
	fid, iounit, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer s.clunk(fid)
	var names []string
	var off uint64
	for {
		rx, err := s.rpc(&plan9.Fcall{Type: plan9.Tread, Fid: fid, Offset: off, Count: iounit})
		if err != nil {
			return names, err
		}
		if len(rx.Data) == 0 {
			sort.Strings(names)
			return names, nil
		}
		off += uint64(len(rx.Data))
		for b := rx.Data; len(b) > 2; {
			m := int(b[0]) | int(b[1])<<8 + 2
			d, err := plan9.UnmarshalDir(b[:m])
			if err != nil {
				return names, err
			}
			names = append(names, d.Name)
			b = b[m:]
		}
	}
}

func (s *serial) stat(name string) (*plan9.Dir, error) {
	s.op.Lock()
	defer s.op.Unlock()
	fid, err := s.walk(name)
	if err != nil {
		return nil, err
	}
	defer s.clunk(fid)
	rx, err := s.rpc(&plan9.Fcall{Type: plan9.Tstat, Fid: fid})
	if err != nil {
		return nil, err
	}
	return plan9.UnmarshalDir(rx.Stat)
}
