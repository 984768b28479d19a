package ninep

import (
	"encoding/binary"
	"fmt"
	"io"

	"9fans.net/go/plan9"
)

// The message codec is 9fans.net/go/plan9's. Its ReadFcall trusts the
// length word (a peer that sends 0xFFFFFFFF makes it allocate 4 GiB) and
// its UnmarshalFcall prints to standard error before reporting a malformed
// message; ReadMessage bounds the length and checks the layout first.

// layouts gives each message type's fields after size[4] type[1] tag[2]:
// 1, 2, 4, 8 fixed-size integers; q a qid; s a string; S a stat (2-byte
// count and bytes); D a 4-byte count and data; W a count of strings; Q a
// count of qids.
var layouts = map[uint8]string{
	plan9.Tversion: "4s", plan9.Rversion: "4s",
	plan9.Tauth: "4ss", plan9.Rauth: "q",
	plan9.Tattach: "44ss", plan9.Rattach: "q",
	plan9.Rerror: "s",
	plan9.Tflush: "2", plan9.Rflush: "",
	plan9.Twalk: "44W", plan9.Rwalk: "Q",
	plan9.Topen: "41", plan9.Ropen: "q4",
	plan9.Tcreate: "4s41", plan9.Rcreate: "q4",
	plan9.Tread: "484", plan9.Rread: "D",
	plan9.Twrite: "48D", plan9.Rwrite: "4",
	plan9.Tclunk: "4", plan9.Rclunk: "",
	plan9.Tremove: "4", plan9.Rremove: "",
	plan9.Tstat: "4", plan9.Rstat: "S",
	plan9.Twstat: "4S", plan9.Rwstat: "",
}

// wellFormed reports whether b, a whole message, has its type's layout.
func wellFormed(b []byte) bool {
	if len(b) < 7 {
		return false
	}
	layout, ok := layouts[b[4]]
	if !ok {
		return false
	}
	p := b[7:]
	take := func(n int) bool {
		if n < 0 || len(p) < n {
			return false
		}
		p = p[n:]
		return true
	}
	u16 := func() int {
		if len(p) < 2 {
			return -1
		}
		return int(binary.LittleEndian.Uint16(p))
	}
	for _, c := range layout {
		var ok bool
		switch c {
		case '1', '2', '4', '8':
			ok = take(int(c - '0'))
		case 'q':
			ok = take(13)
		case 's', 'S':
			n := u16()
			ok = n >= 0 && take(2) && take(n)
		case 'D':
			if len(p) < 4 {
				return false
			}
			n := binary.LittleEndian.Uint32(p)
			ok = take(4) && uint64(n) <= uint64(len(p)) && take(int(n))
		case 'W', 'Q':
			n := u16()
			ok = n >= 0 && n <= plan9.MAXWELEM && take(2)
			for i := 0; ok && i < n; i++ {
				if c == 'Q' {
					ok = take(13)
				} else {
					m := u16()
					ok = m >= 0 && take(2) && take(m)
				}
			}
		}
		if !ok {
			return false
		}
	}
	return len(p) == 0
}

// ReadMessage reads one 9P message of at most msize bytes from r.
func ReadMessage(r io.Reader, msize uint32) (*plan9.Fcall, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n < 7 || n > msize {
		return nil, fmt.Errorf("9P: bad message length %d (limit %d)", n, msize)
	}
	b := make([]byte, n)
	copy(b, hdr[:])
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if !wellFormed(b) {
		return nil, fmt.Errorf("9P: malformed message of type %d, %d bytes", b[4], n)
	}
	return plan9.UnmarshalFcall(b)
}
