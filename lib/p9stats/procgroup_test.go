package p9stats

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// rio's processes 66 and 67 on the 9front capture: one note group, and one
// end of a pipe held by both.
func TestFdsOfCapture(t *testing.T) {
	p := captureFS(testkit.Front11879amd64)
	a, err := p.Fds(66)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Fds(67)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cwd != "/" || len(a.Files) != 13 || len(b.Files) != 13 {
		t.Fatalf("%+v\n%+v", a, b)
	}
	// " 10 rw |    0 (0000000000000362 0 00) 65536    22158 #|/data1"
	want := Fd{FD: 10, Mode: "rw", Type: '|', Qid: Qid{Path: 0x362}, IOUnit: 65536, Offset: 22158, Name: "#|/data1"}
	if a.Files[10] != want {
		t.Errorf("%+v", a.Files[10])
	}
	if a.Files[10].File() != b.Files[10].File() || a.Files[10].File() == a.Files[9].File() {
		t.Error("the shared pipe is not one file")
	}
	// "  9 w  p    0 (000000000000024c 66 00)     0        0 /proc/66/notepg"
	if f := a.Files[9]; f.Qid != (Qid{Path: 0x24c, Vers: 66}) || f.Name != "/proc/66/notepg" || f.Mode != "w" {
		t.Errorf("%+v", f)
	}
	for _, pid := range []int{66, 67} {
		if id, err := p.NoteID(pid); err != nil || id != 66 {
			t.Errorf("noteid of %d: %d %v", pid, id, err)
		}
	}
	// 9legacy prints the qid version in 10 columns.
	l, err := captureFS(testkit.Legacy386).Fds(107)
	if err != nil || len(l.Files) == 0 || l.Files[0].Name != "/dev/cons" {
		t.Errorf("9legacy: %+v %v", l, err)
	}
	if !p.ProcExists(66) || p.ProcExists(99999) {
		t.Error("ProcExists")
	}
	if _, err := p.Fds(99999); !IsNotExist(err) {
		t.Errorf("a process that is gone: %v", err)
	}
}

func TestParseFd(t *testing.T) {
	in := "/usr/glenda\n" +
		"  0 r  M    8 (0000000000000001      0 00)  8192        0 /dev/null\n" +
		"  1 w  |    0 (0000000000000142 0 00) 65536        0 #|/data1\n" +
		"  2 rw |    0 (0000000000000162 0 00) 65536       12 #|/data1\n" +
		"  3 r  M   21 (00000000009a3cad 1795355999 00)  8192      980 /usr/glenda/a file with blanks\n"
	got, err := ParseFd([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	ids := []FileID{{'M', 8, 1}, {'|', 0, 0x142}, {'|', 0, 0x162}, {'M', 21, 0x9a3cad}}
	for i, f := range got.Files {
		if f.FD != i || f.File() != ids[i] {
			t.Errorf("fd %d: %+v", i, f)
		}
	}
	if got.Files[3].Name != "/usr/glenda/a file with blanks" || got.Files[3].Qid.Vers != 1795355999 {
		t.Errorf("%+v", got.Files[3])
	}
	// A malformed line is named, and costs only itself.
	got, err = ParseFd([]byte(in + "  4 x  M 1 (1 0 0) 0 0 /odd\nname with a newline\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 6 || len(got.Files) != 4 {
		t.Errorf("%v, %d files", err, len(got.Files))
	}
	if _, err := ParseFd(nil); err == nil {
		t.Error("empty file accepted")
	}
}

func TestParseNoteID(t *testing.T) {
	if n, err := ParseNoteID([]byte("         17 ")); n != 17 || err != nil {
		t.Errorf("%d %v", n, err)
	}
	for _, bad := range []string{"", "x", "-3", "0"} {
		if _, err := ParseNoteID([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Notes and kill messages go to the process's control files, in one
// write each; a name space that cannot take them says so.
func TestProcControl(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"note", "notepg", "ctl"} {
		os.MkdirAll(filepath.Join(dir, "proc", "12"), 0o755)
		os.WriteFile(filepath.Join(dir, "proc", "12", f), nil, 0o644)
	}
	p := NewDefaultFS(dir)
	if err := p.PostNote(12, "interrupt"); err != nil {
		t.Fatal(err)
	}
	if err := p.PostNoteGroup(12, "hangup"); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(12); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"note": "interrupt", "notepg": "hangup", "ctl": "kill"} {
		if b, _ := os.ReadFile(filepath.Join(dir, "proc", "12", f)); string(b) != want {
			t.Errorf("%s: %q", f, b)
		}
	}
	if err := p.Kill(13); !IsNotExist(err) {
		t.Errorf("no such process: %v", err)
	}
	if err := NewFS(fstest.MapFS{}).PostNoteGroup(12, "kill"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("read-only name space: %v", err)
	}
	var _ ns.ControlFS = ns.Dir(dir).(ns.ControlFS)
}

// 9front names a new note group after its first process; the others
// count note groups apart from pids, so a gone leader's group has no
// name there.
func TestLeaderNoteID(t *testing.T) {
	for c, named := range map[string]bool{
		testkit.Front11879amd64: true, testkit.Front2016amd64: true, testkit.Front2016x386: true,
		testkit.Legacy386: false, testkit.Legacy9k: false,
	} {
		id, ok := captureFS(c).LeaderNoteID(805)
		if ok != named || (ok && id != 805) || (!ok && id != 0) {
			t.Errorf("%s: %d %v, want named %v", c, id, ok, named)
		}
	}
	if id, ok := lufiaFS(t).LeaderNoteID(805); ok || id != 0 {
		t.Errorf("Bell Labs Plan 9: %d %v", id, ok)
	}
	if id, ok := NewFS(fstest.MapFS{}).LeaderNoteID(805); ok || id != 0 {
		t.Errorf("nothing to go by: %d %v", id, ok)
	}
}
