package fsspace

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"cwfs:/srv/cwfs.cmd":       {"cwfs", "srv/cwfs.cmd", ""},
		"fossil:/srv/fscons:other": {"fossil", "srv/fscons", "other"},
		"hjfs:srv/hjfs.cmd":        {"hjfs", "srv/hjfs.cmd", ""},
	} {
		if got, err := ParseSpec(in); err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"cwfs", "cwfs:", "zfs:/srv/x", ":/srv/x"} {
		if _, err := ParseSpec(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if s := (Spec{"fossil", "srv/fscons", "main"}).segment("main"); s != "fscons_main" {
		t.Error(s)
	}
	if s := (Spec{"cwfs", "srv/my fs.cmd", ""}).segment(""); s != "my_fs" {
		t.Error(s)
	}
}

// The kernel message ring keeps its last 16 KiB: what came after an
// earlier reading is found by its tail, also when the front slid off.
func TestNewPart(t *testing.T) {
	before := []byte(strings.Repeat("x", 300) + "old line\n")
	if got := newPart(before, append(append([]byte{}, before...), "new\n"...)); string(got) != "new\n" {
		t.Errorf("%q", got)
	}
	slid := append(append([]byte{}, before[100:]...), "new\n"...)
	if got := newPart(before, slid); string(got) != "new\n" {
		t.Errorf("slid: %q", got)
	}
	if got := newPart(before, []byte("all new\n")); string(got) != "all new\n" {
		t.Errorf("unrelated: %q", got)
	}
	if got := newPart(nil, []byte("first\n")); string(got) != "first\n" {
		t.Errorf("empty before: %q", got)
	}
}

func TestRead(t *testing.T) {
	h := testkit.CopyCapture(t, testkit.Front11879amd64)
	h.Write("dev/kmesg", "\nPlan 9\nhjfs: (blocks) free 1, used 1, total 2\n")
	c := testkit.Consoles{FS: ns.Dir(h.Dir), Consoles: map[string]testkit.Console{
		"srv/cwfs.cmd": testkit.Replying("cwstats main\n\t\tfsize  =  1208420\n\t\twsize  =  5626362\n"),
		"srv/hjfs.cmd": {Reply: func(cmd string) string {
			h.Append("dev/kmesg", "hjfs: (blocks) free 10, used 6, total 16\n")
			return ""
		}},
		"srv/gefs.cmd": testkit.Replying("gefs# "), // never the df reply
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sp, err := Read(ctx, c, Spec{"cwfs", "srv/cwfs.cmd", ""})
	if err != nil || len(sp) != 1 || sp[0].Segment != "cwfs" || sp[0].Used != 1208420*16384 {
		t.Errorf("cwfs %+v %v", sp, err)
	}
	// Only the df reply written after the command counts, not the old one.
	sp, err = Read(ctx, c, Spec{"hjfs", "srv/hjfs.cmd", ""})
	if err != nil || len(sp) != 1 || sp[0].Size != 16*4096 || sp[0].Free != 10*4096 {
		t.Errorf("hjfs %+v %v", sp, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	_, err = Read(short, c, Spec{"gefs", "srv/gefs.cmd", ""})
	if err == nil || !strings.Contains(err.Error(), `gefs:/srv/gefs.cmd: no usable reply to "df" before the deadline`) {
		t.Errorf("gefs: %v", err)
	}
	if _, err := Read(ctx, c, Spec{"cwfs", "srv/none.cmd", ""}); !errors.Is(err, fs.ErrNotExist) && !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing console: %v", err)
	}
}

// A console that never stops talking costs at most MaxReply bytes of
// reading, each line parsed once, and an error that says so, long before
// the deadline; one that gives its answer first and chatters on is
// answered.
func TestEndlessConsole(t *testing.T) {
	c := testkit.Consoles{FS: ns.Dir(t.TempDir()), Consoles: map[string]testkit.Console{
		"srv/chatty.cmd":  {Reply: func(string) string { return "" }, Endless: "fsize = 1\n"},
		"srv/talker.cmd":  {Reply: func(string) string { return "cwstats main\n\t\tfsize = 6\n" }, Endless: "\t\twsize = 16384\n"},
		"srv/oneline.cmd": {Reply: func(string) string { return "" }, Endless: "x"},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{"chatty", "oneline"} {
		_, err := Read(ctx, c, Spec{"cwfs", "srv/" + name + ".cmd", ""})
		if err == nil || !strings.Contains(err.Error(), `no usable reply to "statw" in its first 64 KiB`) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ctx.Err() != nil {
		t.Error("read until the deadline")
	}
	sp, err := Read(ctx, c, Spec{"cwfs", "srv/talker.cmd", ""})
	if err != nil || len(sp) != 1 || sp[0].Size != 16384*16384 {
		t.Errorf("%+v %v", sp, err)
	}
}

// ReadAll returns by the deadline, even while a console's open hangs.
func TestReadAllDeadline(t *testing.T) {
	hung := make(chan struct{})
	defer close(hung)
	c := testkit.Consoles{FS: ns.Dir(t.TempDir()), Consoles: map[string]testkit.Console{
		"srv/cwfs.cmd": testkit.RealConsole(t, "cwfs64x-statw.txt"),
		"srv/fscons":   {Unblock: hung},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rs := ReadAll(ctx, c, []Spec{{"cwfs", "srv/cwfs.cmd", ""}, {"fossil", "srv/fscons", ""}})
	if rs[0].Err != nil || len(rs[0].Spaces) != 1 || rs[0].Spaces[0].Used != 6*16384 {
		t.Errorf("cwfs: %+v", rs[0])
	}
	if err := rs[1].Err; !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "fossil:/srv/fscons: no answer before the deadline") {
		t.Errorf("fossil: %v", err)
	}
}

// BenchmarkEndlessConsole is the cost of a console that talks without the
// answer until MaxReply: linear in what it says.
func BenchmarkEndlessConsole(b *testing.B) {
	c := testkit.Consoles{FS: ns.Dir(b.TempDir()), Consoles: map[string]testkit.Console{
		"srv/chatty.cmd": {Reply: func(string) string { return "" }, Endless: "\t\tfsize = 1\n"},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(context.Background(), c, Spec{"cwfs", "srv/chatty.cmd", ""}); err == nil {
			b.Fatal("answered")
		}
	}
}
