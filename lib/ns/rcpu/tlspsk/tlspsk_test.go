package tlspsk

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/internal/kat"
)

// The PRF's and the PSK master secret's known answers were printed by
// 9front's tlshand.c in a guest (testdata/kat/README.md).
func TestKnownAnswersPRF(t *testing.T) {
	s := kat.Load(t)["prf"]
	seed := make([]byte, 64)
	for i := range seed {
		seed[i] = 0x80 + byte(i)
	}
	psk := make([]byte, 256)
	for i := range psk {
		psk[i] = 0x10 + byte(i)
	}
	got := make([]byte, 100)
	prf(got, psk[:48], "key expansion", seed)
	if want := s.Bytes(t, "prf"); !bytes.Equal(got, want) {
		t.Fatalf("tls12PRF:\n got %x\nwant %x", got, want)
	}
	if got, want := masterSecret(psk, seed[:32], seed[32:]), s.Bytes(t, "master"); !bytes.Equal(got, want) {
		t.Fatalf("setMasterSecret:\n got %x\nwant %x", got, want)
	}
}

func pair(t *testing.T, ccfg, scfg *Config) (*Conn, *Conn, error, error) {
	t.Helper()
	a, b := tcpPair(t)
	dl := time.Now().Add(10 * time.Second)
	a.SetDeadline(dl)
	b.SetDeadline(dl)
	var s *Conn
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s, serr = Server(b, scfg)
		if serr != nil {
			b.Close()
		}
	}()
	c, cerr := Client(a, ccfg)
	if cerr != nil {
		a.Close()
	}
	wg.Wait()
	return c, s, cerr, serr
}

// tcpPair returns the two ends of a loopback TCP connection, which,
// unlike net.Pipe, buffers as the real peers' connections do.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func psk(b byte) []byte { return bytes.Repeat([]byte{b}, 256) }

func TestEverySuite(t *testing.T) {
	for _, suite := range Suites {
		t.Run(SuiteName(suite), func(t *testing.T) {
			c, s, cerr, serr := pair(t,
				&Config{Identity: "p9secret", PSK: psk(7), Suites: []uint16{suite}},
				&Config{Identity: "p9secret", PSK: psk(7)})
			if cerr != nil || serr != nil {
				t.Fatalf("handshake: client %v, server %v", cerr, serr)
			}
			if c.Suite() != suite || s.Suite() != suite {
				t.Fatalf("suites %#x %#x, want %#x", c.Suite(), s.Suite(), suite)
			}
			// More than a record each way, at once.
			big := bytes.Repeat([]byte("0123456789abcdef"), 3000)
			go func() {
				c.Write(big)
				c.Write([]byte("end"))
			}()
			got := make([]byte, len(big)+3)
			if _, err := io.ReadFull(s, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[:len(big)], big) || string(got[len(big):]) != "end" {
				t.Fatal("server read other bytes than the client wrote")
			}
			go s.Write([]byte("reply"))
			r := make([]byte, 5)
			if _, err := io.ReadFull(c, r); err != nil || string(r) != "reply" {
				t.Fatalf("client read %q, %v", r, err)
			}
			go c.Close()
			if _, err := s.Read(r); err != io.EOF {
				t.Fatalf("after close_notify: %v, want EOF", err)
			}
		})
	}
}

// The server chooses by its preference, as tlshand.c does.
func TestServerPreference(t *testing.T) {
	c, _, cerr, serr := pair(t,
		&Config{Identity: "p9secret", PSK: psk(1), Suites: []uint16{PSKWithAES128CBCSHA, PSKWithChaCha20Poly1305}},
		&Config{Identity: "p9secret", PSK: psk(1)})
	if cerr != nil || serr != nil {
		t.Fatal(cerr, serr)
	}
	if c.Suite() != PSKWithChaCha20Poly1305 {
		t.Fatalf("suite %s", SuiteName(c.Suite()))
	}
}

func TestWrongKey(t *testing.T) {
	_, _, cerr, serr := pair(t,
		&Config{Identity: "p9secret", PSK: psk(1)},
		&Config{Identity: "p9secret", PSK: psk(2)})
	if serr == nil || !strings.Contains(serr.Error(), "does not authenticate") {
		t.Fatalf("server: %v", serr)
	}
	if cerr == nil {
		t.Fatal("client finished a handshake with another key")
	}
}

func TestWrongIdentity(t *testing.T) {
	_, _, cerr, serr := pair(t,
		&Config{Identity: "someone", PSK: psk(1)},
		&Config{Identity: "p9secret", PSK: psk(1)})
	var ae *AlertError
	if serr == nil || !errors.As(cerr, &ae) || ae.Desc != 115 {
		t.Fatalf("server %v, client %v; want the unknown PSK identity alert", serr, cerr)
	}
}

func TestNoCommonSuite(t *testing.T) {
	_, _, cerr, serr := pair(t,
		&Config{Identity: "p9secret", PSK: psk(1), Suites: []uint16{0x1301}},
		&Config{Identity: "p9secret", PSK: psk(1)})
	var ae *AlertError
	if serr == nil || !errors.As(cerr, &ae) || ae.Desc != 40 {
		t.Fatalf("server %v, client %v; want a handshake failure alert", serr, cerr)
	}
}

// flipper changes one byte of what passes through it, at offset at.
type flipper struct {
	net.Conn
	mu sync.Mutex
	n  int
	at int
}

func (f *flipper) Write(p []byte) (int, error) {
	f.mu.Lock()
	q := bytes.Clone(p)
	if f.at >= f.n && f.at < f.n+len(q) {
		q[f.at-f.n] ^= 0x20
	}
	f.n += len(q)
	f.mu.Unlock()
	return f.Conn.Write(q)
}

// Any changed byte of the handshake or of a record ends the connection
// with an error, never with altered data.
func TestTamperedByte(t *testing.T) {
	for _, suite := range Suites {
		// Handshake up to Finished is about 200 bytes; then one
		// application record.
		for at := 0; at < 420; at += 7 {
			// A changed length leaves both sides waiting for bytes
			// that never come: the deadline ends those sessions.
			a, b := tcpPair(t)
			dl := time.Now().Add(time.Second)
			a.SetDeadline(dl)
			b.SetDeadline(dl)
			f := &flipper{Conn: a, at: at}
			var s *Conn
			var serr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				if s, serr = Server(b, &Config{Identity: "p9secret", PSK: psk(3)}); serr != nil {
					b.Close()
					return
				}
				buf := make([]byte, 64)
				n, err := io.ReadFull(s, buf)
				if err == nil && string(buf[:n]) != strings.Repeat("x", 64) {
					serr = errors.New("server read altered data")
				} else if err != nil {
					serr = err
				}
				b.Close()
			}()
			c, cerr := Client(f, &Config{Identity: "p9secret", PSK: psk(3), Suites: []uint16{suite}})
			if cerr == nil {
				c.Write(bytes.Repeat([]byte("x"), 64))
			}
			<-done
			a.Close()
			if f.at < f.n && serr == nil && cerr == nil {
				t.Fatalf("%s: byte %d of %d changed and both sides went on", SuiteName(suite), at, f.n)
			}
			if serr != nil && strings.Contains(serr.Error(), "altered data") {
				t.Fatalf("%s: byte %d: %v", SuiteName(suite), at, serr)
			}
		}
	}
}

// A program's complaint where the handshake should be is shown.
func TestTextInsteadOfRecord(t *testing.T) {
	a, b := tcpPair(t)
	go func() {
		b.Write([]byte("auth_chuid: newns: bind: /usr/mon/tmp: does not exist\n"))
		b.Close()
	}()
	_, err := Client(a, &Config{Identity: "p9secret", PSK: psk(1)})
	if err == nil || !strings.Contains(err.Error(), `sent text instead of a record: "auth_chuid: newns: bind: /usr/mon/tmp: does not exist"`) {
		t.Fatalf("err %v", err)
	}
}
