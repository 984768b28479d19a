package p9stats

import (
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestProcStatusCaptures(t *testing.T) {
	tests := []struct {
		capture string
		pid     int
		size    int
		newline bool
		want    ProcStatus
	}{
		// 9front since 2020: 176 bytes ending in a newline.
		{testkit.Front11879amd64, 1, 176, true, ProcStatus{PID: 1, Name: "bootrc", User: "glenda", State: "Await", Class: StateSleeping,
			UserMillis: 40, SysMillis: 90, RealMillis: 7400, ChildUserMillis: 60, ChildSysMillis: 80, MemoryKiB: 344, BasePriority: 10, Priority: 10}},
		// Classic layout (and 9front before 2020): 176 bytes, trailing blank.
		{testkit.Legacy386, 1, 176, false, ProcStatus{PID: 1, Name: "init", User: "glenda", State: "Await", Class: StateSleeping,
			UserMillis: 30, SysMillis: 60, RealMillis: 7930, ChildUserMillis: 20, ChildSysMillis: 40, MemoryKiB: 112, BasePriority: 10, Priority: 10}},
		{testkit.Legacy386, 2, 176, false, ProcStatus{PID: 2, Name: "genrandom", User: "glenda", State: "Ready", Class: StateReady,
			UserMillis: 6620, RealMillis: 8400, BasePriority: 10, Priority: 4}},
		{testkit.Front2016amd64, 221, 176, false, ProcStatus{PID: 221, Name: "p9probe", User: "glenda", State: "Broken", Class: StateBroken}},
		{testkit.Legacy9k, 2, 176, false, ProcStatus{PID: 2, Name: "genrandom", User: "glenda", State: "Ready", Class: StateReady,
			UserMillis: 11520, RealMillis: 22330, BasePriority: 10, Priority: 10}},
	}
	for _, tt := range tests {
		b := testkit.ReadCapture(t, tt.capture, "proc/"+itoa(tt.pid)+"/status")
		if len(b) != tt.size || strings.HasSuffix(string(b), "\n") != tt.newline {
			t.Errorf("%s: %d bytes, newline %v", tt.capture, len(b), !tt.newline)
		}
		procs, err := captureFS(tt.capture).Procs()
		if err != nil {
			t.Fatal(err)
		}
		var got *ProcStatus
		for i := range procs {
			if procs[i].PID == tt.pid {
				got = &procs[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: pid %d not found", tt.capture, tt.pid)
		}
		w := tt.want
		if tt.pid == 221 { // only the identity and state of the broken process matter
			w.UserMillis, w.SysMillis, w.RealMillis = got.UserMillis, got.SysMillis, got.RealMillis
			w.MemoryKiB, w.BasePriority, w.Priority = got.MemoryKiB, got.BasePriority, got.Priority
		}
		if *got != w {
			t.Errorf("%s pid %d:\ngot  %+v\nwant %+v", tt.capture, tt.pid, *got, w)
		}
	}
}

// Every process of every capture parses, and the state counts match what
// ps -a printed during the same boot (the _capture/ps-a.txt notes).
func TestProcsAllCaptures(t *testing.T) {
	want := map[string]map[StateClass]int{
		testkit.Front11879amd64: {StateSleeping: 37},
		testkit.Front11879x386:  {StateSleeping: 38},
		testkit.Front2016amd64:  {StateSleeping: 34, StateBroken: 2},
		testkit.Front2016x386:   {StateSleeping: 35},
		testkit.Legacy386:       {StateSleeping: 25, StateReady: 1},
		testkit.Legacy9k:        {StateSleeping: 21, StateReady: 1},
	}
	for _, c := range testkit.Captures {
		procs, err := captureFS(c).Procs()
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		got := map[StateClass]int{}
		for _, p := range procs {
			got[p.Class]++
		}
		for class, n := range want[c] {
			if got[class] != n {
				t.Errorf("%s: %d %v, want %d (all: %v)", c, got[class], class, n, got)
			}
		}
		if len(procs) != sum(want[c]) {
			t.Errorf("%s: %d processes, want %d", c, len(procs), sum(want[c]))
		}
	}
}

func sum(m map[StateClass]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// 9front pads but does not truncate: long names and states with blanks
// shift the columns.
func TestProcStatus9frontOverflow(t *testing.T) {
	line := "a-program-with-a-very-long-name-indeed glenda                      no memory for allocb           0          10     3611230          20          40     3611000         560          10          10\n"
	p, err := ParseProcStatus([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "a-program-with-a-very-long-name-indeed" || p.State != "no memory for allocb" || p.Class != StateSleeping || p.MemoryKiB != 560 {
		t.Errorf("%+v", p)
	}
	// A classic fixed-width line whose name has a blank keeps it.
	fixed := pad("my prog", 27) + " " + pad("glenda", 27) + " " + pad("Stopped", 11) + " " + strings.Repeat(pad12("7"), 9)
	p, err = ParseProcStatus([]byte(fixed))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "my prog" || p.Class != StateStopped || p.Priority != 7 {
		t.Errorf("%+v", p)
	}
}

func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
func pad12(s string) string      { return strings.Repeat(" ", 11-len(s)) + s + " " }

func TestClassifyState(t *testing.T) {
	for state, class := range map[string]StateClass{
		"Running": StateRunning, "Ready": StateReady, "Scheding": StateReady,
		"Broken": StateBroken, "Stopped": StateStopped, "Stopwait": StateStopped,
		"Moribund": StateMoribund, "Dead": StateMoribund, "New": StateNew,
		"Pread": StateSleeping, "Wakeme": StateSleeping, "Queueing": StateSleeping,
		"Rendez": StateSleeping, "no memory for allocb": StateSleeping, "Semacquire": StateSleeping,
	} {
		if got := ClassifyState(state); got != class {
			t.Errorf("%q: %v, want %v", state, got, class)
		}
	}
	for _, c := range StateClasses {
		if p, ok := ParseStateClass(c.String()); !ok || p != c {
			t.Errorf("round trip of %v", c)
		}
	}
}

func TestProcStatusErrors(t *testing.T) {
	for _, in := range []string{"", "rc glenda Await 1 2 3\n", "rc glenda Await 1 2 3 4 5 6 7 8 x\n", "rc glenda Await 1 2 3 4 5 6 7 8 99999999999\n"} {
		if _, err := ParseProcStatus([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	// One malformed status costs only that process, and the error names it.
	p := mapFS(map[string]string{
		"proc/1/status": readFixed(t, testkit.Legacy386, 1),
		"proc/2/status": "garbage\n",
		"proc/trace":    "",
	})
	procs, err := p.Procs()
	if len(procs) != 1 || err == nil || !strings.Contains(err.Error(), "/proc/2/status") {
		t.Errorf("procs %d, err %v", len(procs), err)
	}
}

func readFixed(t *testing.T, capture string, pid int) string {
	return string(testkit.ReadCapture(t, capture, "proc/"+itoa(pid)+"/status"))
}

func TestProcsLufia(t *testing.T) {
	procs, err := lufiaFS(t).Procs()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, p := range procs {
		names[p.Name] = p.State
	}
	if names["init"] != "Await" || names["git-remote-https"] != "Semacquire" {
		t.Errorf("%v", names)
	}
}

// listedTwice is a remote name space whose /proc lists every process
// twice, once as "0N"; it counts the status reads and how many goroutines
// there were at most while they ran.
type listedTwice struct {
	fstest.MapFS
	mu          sync.Mutex
	reads       map[string]int
	maxRoutines int
}

func (l *listedTwice) ReadDir(name string) ([]fs.DirEntry, error) {
	ds, err := l.MapFS.ReadDir(name)
	if name != "proc" {
		return ds, err
	}
	out := append([]fs.DirEntry(nil), ds...)
	for _, d := range ds {
		out = append(out, fs.FileInfoToDirEntry(renamed{d, "0" + d.Name()}))
	}
	return out, err
}

type renamed struct {
	fs.DirEntry
	name string
}

func (r renamed) Name() string               { return r.name }
func (r renamed) Size() int64                { return 0 }
func (r renamed) Mode() fs.FileMode          { return fs.ModeDir }
func (r renamed) ModTime() (t time.Time)     { return t }
func (r renamed) Sys() any                   { return nil }
func (r renamed) Info() (fs.FileInfo, error) { return r, nil }

func (l *listedTwice) ReadFile(name string) ([]byte, error) {
	l.mu.Lock()
	l.reads[name]++
	l.maxRoutines = max(l.maxRoutines, runtime.NumGoroutine())
	l.mu.Unlock()
	time.Sleep(time.Millisecond) // so that the reads overlap
	return l.MapFS.ReadFile(name)
}

// Every process is read once, however often it is listed, and by a
// fixed pool of goroutines however many there are.
func TestProcsListedTwice(t *testing.T) {
	const n = 3000
	status := testkit.ReadCapture(t, testkit.Front11879amd64, "proc/1/status")
	l := &listedTwice{MapFS: fstest.MapFS{}, reads: map[string]int{}}
	for i := 1; i <= n; i++ {
		l.MapFS["proc/"+itoa(i)+"/status"] = &fstest.MapFile{Data: status}
	}
	base := runtime.NumGoroutine()
	procs, err := NewFS(l).Procs()
	if err != nil || len(procs) != n {
		t.Fatalf("%d processes, %v", len(procs), err)
	}
	for i, p := range procs {
		if p.PID != i+1 {
			t.Fatalf("process %d has pid %d", i, p.PID)
		}
	}
	for name, k := range l.reads {
		if k != 1 {
			t.Errorf("%s read %d times", name, k)
		}
	}
	if len(l.reads) != n {
		t.Errorf("%d files read", len(l.reads))
	}
	if extra := l.maxRoutines - base; extra > MaxConcurrentReads+2 || extra < 2 {
		t.Errorf("%d goroutines reading at most, want a pool of at most %d", extra, MaxConcurrentReads)
	}
}

// Every state of every capture is one KnownState knows; a state no
// kernel prints is not.
func TestKnownState(t *testing.T) {
	for _, c := range testkit.Captures {
		procs, err := captureFS(c).Procs()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if !KnownState(p.State) {
				t.Errorf("%s: pid %d: state %q", c, p.PID, p.State)
			}
		}
	}
	for s, want := range map[string]bool{"Pread": true, "QueueingW": true, "I/O": true, "no memory for allocb": true,
		"zombie": false, "pread": false, "Sleeping": false, "no": false, "": false} {
		if KnownState(s) != want {
			t.Errorf("%q: %v", s, !want)
		}
	}
}
