package ninep

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"9fans.net/go/plan9"
)

func seedMessages() [][]byte {
	var out [][]byte
	for _, f := range []*plan9.Fcall{
		{Type: plan9.Rversion, Tag: plan9.NOTAG, Msize: 8192, Version: "9P2000"},
		{Type: plan9.Rattach, Tag: 1, Qid: plan9.Qid{Type: plan9.QTDIR}},
		{Type: plan9.Rerror, Tag: 2, Ename: "file does not exist"},
		{Type: plan9.Rwalk, Tag: 3, Wqid: []plan9.Qid{{Path: 1}, {Path: 2}}},
		{Type: plan9.Ropen, Tag: 4, Iounit: 8168},
		{Type: plan9.Rread, Tag: 5, Data: []byte("1067155456 memory\n")},
		{Type: plan9.Rstat, Tag: 6, Stat: func() []byte { b, _ := (&plan9.Dir{Name: "swap"}).Bytes(); return b }()},
		{Type: plan9.Rclunk, Tag: 7},
		{Type: plan9.Twalk, Tag: 8, Fid: 0, Newfid: 1, Wname: []string{"dev", "swap"}},
		{Type: plan9.Twrite, Tag: 9, Fid: 1, Data: []byte("statw\n")},
	} {
		b, _ := f.Bytes()
		out = append(out, b)
	}
	return out
}

func TestReadMessage(t *testing.T) {
	for _, b := range seedMessages() {
		f, err := ReadMessage(bytes.NewReader(b), MaxMessageSize)
		if err != nil {
			t.Errorf("%x: %v", b, err)
			continue
		}
		if again, _ := f.Bytes(); !bytes.Equal(again, b) {
			t.Errorf("%v does not round-trip", f)
		}
		// Every truncation or extension of a valid message is refused.
		for i := 7; i < len(b); i++ {
			c := append([]byte(nil), b[:i]...)
			c[0], c[1], c[2], c[3] = byte(i), 0, 0, 0
			if _, err := ReadMessage(bytes.NewReader(c), MaxMessageSize); err == nil {
				t.Errorf("%v cut to %d bytes accepted", f, i)
			}
		}
	}
}

// FuzzReadMessage: no input may panic, allocate beyond msize, or write to
// standard error; what is accepted re-encodes to the same bytes.
func FuzzReadMessage(f *testing.F) {
	for _, b := range seedMessages() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadMessage(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		again, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("%x re-encodes as %x", b[:n], again)
		}
	})
}

// FuzzSkipFdWarnings: whatever comes, only whole kernel warning lines are
// skipped, and a stream that begins with a plausible message is left
// alone.
func FuzzSkipFdWarnings(f *testing.F) {
	f.Add([]byte("exportfs 603: warning: process exceeds 100 file descriptors\n"))
	f.Add([]byte("exportfs 603: warning: process exceeds 100 file descriptors\nexportfs 603: warning: process exceeds 200 file descriptors\n\x07\x00\x00\x00"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n"))
	for _, b := range seedMessages() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		n := skipFdWarnings(r, MaxMessageSize)
		rest, _ := io.ReadAll(r)
		skipped := b[:len(b)-len(rest)]
		var lines [][]byte
		for len(skipped) > 0 {
			i := bytes.IndexByte(skipped, '\n') + 1
			if i == 0 {
				t.Fatalf("skipped %q, not whole lines", skipped)
			}
			lines, skipped = append(lines, skipped[:i]), skipped[i:]
		}
		if len(lines) != n {
			t.Fatalf("%d skipped, %q", n, lines)
		}
		for _, l := range lines {
			if !fdWarning().Match(l) {
				t.Fatalf("skipped %q", l)
			}
		}
		if len(b) >= 4 && binary.LittleEndian.Uint32(b) <= MaxMessageSize && n != 0 {
			t.Fatalf("skipped the start of a message: %x", b)
		}
	})
}
