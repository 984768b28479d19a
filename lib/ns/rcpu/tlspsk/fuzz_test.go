package tlspsk

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// replay is a connection whose peer's bytes are fixed; what is written to
// it is counted and dropped.
type replay struct {
	r io.Reader
	n int
}

func (c *replay) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *replay) Write(p []byte) (int, error)      { c.n += len(p); return len(p), nil }
func (c *replay) Close() error                     { return nil }
func (c *replay) LocalAddr() net.Addr              { return nil }
func (c *replay) RemoteAddr() net.Addr             { return nil }
func (c *replay) SetDeadline(time.Time) error      { return nil }
func (c *replay) SetReadDeadline(time.Time) error  { return nil }
func (c *replay) SetWriteDeadline(time.Time) error { return nil }

func record(typ byte, b []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(b) >> 8), byte(len(b))}, b...)
}

func hs(typ byte, body []byte) []byte {
	return append([]byte{typ, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// FuzzClientHandshake gives the client a hostile server's records.
func FuzzClientHandshake(f *testing.F) {
	hello := append([]byte{3, 3}, make([]byte, 32)...)
	hello = append(hello, 0, 0xCC, 0xAB, 0)
	f.Add(record(22, append(hs(2, hello), hs(14, nil)...)))
	f.Add(append(record(22, hs(2, hello)), record(22, hs(14, nil))...))
	f.Add(append(record(22, append(hs(2, hello), hs(14, nil)...)), append(record(20, []byte{1}), record(22, make([]byte, 40))...)...))
	f.Add(record(21, []byte{2, 40}))
	f.Add(append(record(22, hs(2, hello)), record(22, hs(12, []byte{0, 2, 'h', 'i'}))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &replay{r: bytes.NewReader(b)}
		if _, err := Client(c, &Config{Identity: "p9secret", PSK: psk(1)}); err == nil {
			t.Fatal("handshake finished against replayed bytes")
		}
		if c.n > 1024 {
			t.Fatalf("wrote %d bytes", c.n)
		}
	})
}

// FuzzRecords reads application data from records, clear and under each
// suite's cipher, without a handshake.
func FuzzRecords(f *testing.F) {
	f.Add(byte(0), record(23, []byte("hello")))
	f.Add(byte(1), record(23, make([]byte, 40)))
	f.Add(byte(2), record(23, make([]byte, 64)))
	f.Add(byte(3), append(record(23, make([]byte, 48)), record(21, []byte{1, 0})...))
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		c := &Conn{Conn: &replay{r: bytes.NewReader(b)}}
		if n := int(which) % 4; n > 0 {
			id := Suites[n-1]
			ml, kl, il, _ := keyLens(id)
			c.in.c = newCipher(id, make([]byte, ml), make([]byte, kl), make([]byte, il))
		}
		buf := make([]byte, 4096)
		total := 0
		for i := 0; i < 100; i++ {
			n, err := c.Read(buf)
			total += n
			if err != nil {
				break
			}
		}
		if total > len(b) {
			t.Fatalf("read %d bytes of data from %d bytes", total, len(b))
		}
	})
}
