package rcpu

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/rcputest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/tlspsk"
)

func TestParseKey(t *testing.T) {
	k, err := ParseKey("key proto=dp9ik dom=example.org user=mon !password='it''s a secret'\n")
	if err != nil {
		t.Fatal(err)
	}
	if k.User != "mon" || k.Dom != "example.org" || k.AES != dp9ik.PassToKey("it's a secret").AES {
		t.Fatalf("key %s@%s with another password", k.User, k.Dom)
	}
	for _, c := range []struct{ line, want string }{
		{"key proto=p9sk1 dom=d user=u !password=pw", "proto=p9sk1, not proto=dp9ik"},
		{"key proto=dp9ik dom=d !password=pw", "no user="},
		{"key proto=dp9ik user=u !password=pw", "no dom="},
		{"key proto=dp9ik dom=d user=u", "no !password="},
		{"key proto=dp9ik dom=d user=u !password='pw", "a quote is not closed"},
		{"key proto=dp9ik dom=d user=u user=v !password=pw", "user given twice"},
		{"key proto=dp9ik dom=d user=u !password=pw\nkey proto=dp9ik dom=e user=u !password=pw", "more than one line"},
		{"key proto=dp9ik dom=d user=" + strings.Repeat("u", 28) + " !password=pw", "longer than 27 bytes"},
	} {
		_, err := ParseKey(c.line)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseKey(%q) = %v, want %q", c.line, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("ParseKey(%q): the error %q shows the password", c.line, err)
		}
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "key")
	os.WriteFile(f, []byte("key proto=dp9ik dom=d user=u !password=secret\n"), 0o600)
	if _, err := ReadKeyFile(f); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f, 0o640)
	_, err := ReadKeyFile(f)
	if err == nil || !strings.Contains(err.Error(), "readable by others (mode 0640)") || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable key file: %v", err)
	}
	os.Chmod(f, 0o600)
	os.WriteFile(f, bytes.Repeat([]byte("x"), maxKeyFile+1), 0o600)
	if _, err := ReadKeyFile(f); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("huge key file: %v", err)
	}
	if _, err := ReadKeyFile(dir); err == nil {
		t.Fatal("a directory as key file")
	}
}

func TestAddrs(t *testing.T) {
	for in, want := range map[string]string{
		"rcpu!gnot": "gnot:17019", "rcpu!gnot!18000": "gnot:18000", "rcpu!gnot!rcpu": "gnot:17019",
		"rcpu!tcp!gnot!17019": "gnot:17019", "rcpu!10.0.0.5:17019": "10.0.0.5:17019",
	} {
		if got, err := ParseAddr(in); got != want || err != nil {
			t.Errorf("ParseAddr(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"gnot", "rcpu!", "rcpu!gnot!0", "rcpu!gnot!x", "rcpu!a!b!c!d"} {
		if got, err := ParseAddr(in); err == nil {
			t.Errorf("ParseAddr(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{"": "p9auth.example.org:567", "auth": "auth:567", "tcp!auth!ticket": "auth:567", "auth:5670": "auth:5670"} {
		if got, err := AuthAddr(in, "example.org"); got != want || err != nil {
			t.Errorf("AuthAddr(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

// domain serves a fake 9front domain: an auth server with glenda and mon,
// and a host whose script runs serve.
func domain(t *testing.T, h *rcputest.Host) (hostport string, cfg Config, as *rcputest.AuthServer) {
	as = &rcputest.AuthServer{Users: map[string]string{"glenda": "hostpw", "mon": "monpw"}}
	authAddr := rcputest.StartAuth(t, as)
	h.User, h.Dom, h.Password = "glenda", "vm9", "hostpw"
	return rcputest.StartHost(t, h), Config{Key: dp9ik.NewKey("mon", "vm9", "monpw"), AuthServer: authAddr}, as
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestDialEverySuite(t *testing.T) {
	for _, s := range tlspsk.Suites {
		h := &rcputest.Host{Suites: []uint16{s}, Serve: func(c net.Conn) {
			c.Write([]byte{5, 0, 0, 0})
			c.Write([]byte("9P!"))
		}}
		hp, cfg, _ := domain(t, h)
		c, err := Dial(ctx(t), hp, cfg)
		if err != nil {
			t.Fatalf("%s: %v", tlspsk.SuiteName(s), err)
		}
		b := make([]byte, 7)
		if _, err := c.Read(b[:2]); err != nil || !bytes.Equal(b[:2], []byte{5, 0}) {
			t.Fatalf("%s: first read %x, %v", tlspsk.SuiteName(s), b[:2], err)
		}
		c.Read(b[2:])
		c.Close()
		if got := h.Scripts(); len(got) != 1 || got[0] != Script {
			t.Fatalf("%s: the host got %q", tlspsk.SuiteName(s), got)
		}
	}
}

// What the host's rc or exportfs prints where 9P should begin (its
// standard error is the connection) becomes the error.
func TestHostComplains(t *testing.T) {
	hp, cfg, _ := domain(t, &rcputest.Host{Serve: func(c net.Conn) {
		c.Write([]byte("exportfs: usage: exportfs [-dsR] [-m msize] [-r root] [-P patternfile] [-S srvfile]\n"))
	}})
	c, err := Dial(ctx(t), hp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Read(make([]byte, 100))
	if err == nil || !strings.Contains(err.Error(), `the host said "exportfs: usage: exportfs [-dsR]`) {
		t.Fatalf("err %v", err)
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		offer  string
		suites []uint16
		cfg    func(*Config)
		want   string
	}{
		{"p9sk1 only", "p9sk1@vm9", nil, nil, `p9any offers "p9sk1@vm9", not dp9ik@vm9`},
		{"another domain", "dp9ik@other", nil, nil, "not dp9ik@vm9"},
		{"wrong password", "", nil, func(c *Config) { c.Key = dp9ik.NewKey("mon", "vm9", "guess") }, "refused user mon in domain vm9: wrong password"},
		{"unknown user", "", nil, func(c *Config) { c.Key = dp9ik.NewKey("eve", "vm9", "x") }, "refused user eve in domain vm9"},
		{"no auth server", "", nil, func(c *Config) { c.AuthServer = "127.0.0.1:1" }, "auth server"},
		{"no common suite", "", []uint16{tlspsk.PSKWithAES128CBCSHA}, func(c *Config) { c.Suites = []uint16{tlspsk.PSKWithChaCha20Poly1305} }, "handshake failure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hp, cfg, as := domain(t, &rcputest.Host{Offer: c.offer, Suites: c.suites})
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			_, err := Dial(ctx(t), hp, cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if n := as.Conns.Load(); n > 1 {
				t.Fatalf("%d connections to the auth server", n)
			}
		})
	}
}

// A byte changed anywhere in either direction ends the session with an
// error, never with altered data. The exceptions are bytes of the host's
// ticket request that mean nothing: those after the NUL that ends its
// authid and authdom, and its hostid and uid, which the client fills in
// itself (factotum does the same).
func ignored(at int) bool {
	const off = 10 // the offer, "dp9ik@vm9\x00"
	const authid, authdom, hostid = off + 1, off + 1 + 28, off + 1 + 28 + 48 + 8
	return at > authid+len("glenda") && at < authdom ||
		at > authdom+len("vm9") && at < authdom+48 ||
		at >= hostid && at < hostid+2*28
}

func TestTamperedByte(t *testing.T) {
	want := make([]byte, 512) // binary, as 9P is
	for i := range want {
		want[i] = byte(i * 7)
	}
	h := &rcputest.Host{Serve: func(c net.Conn) { c.Write(want); c.Read(make([]byte, 1)) }}
	hp, cfg, _ := domain(t, h)
	for _, toHost := range []bool{true, false} {
		for at := 0; at < 1100; at += 11 {
			p := rcputest.StartFlipper(t, hp, toHost, at)
			// A changed length leaves both ends waiting for bytes
			// that never come: the deadline ends those sessions. A
			// change that means nothing must not cost the session.
			ignored := !toHost && ignored(at)
			limit := time.Second
			if ignored {
				limit = 20 * time.Second
			}
			dctx, cancel := context.WithTimeout(context.Background(), limit)
			c, err := Dial(dctx, p.Addr, cfg)
			cancel()
			got := make([]byte, len(want))
			// Whether the byte was changed before the data was read:
			// the close_notify that Close sends may carry it too,
			// after the session, where it can cost nothing.
			flipped := false
			if err == nil {
				c.SetDeadline(time.Now().Add(limit))
				_, err = readFull(c, got)
				flipped = p.Flipped()
				c.Close()
			}
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("to host %v, byte %d: altered data read without an error", toHost, at)
			}
			if err == nil && flipped && !ignored {
				t.Fatalf("to host %v, byte %d changed and the session went on", toHost, at)
			}
			if err != nil && ignored {
				t.Fatalf("from host, byte %d, which means nothing, changed: %v", at, err)
			}
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// BenchmarkDial is a whole connection over loopback, the fake auth server's
// and host's work included: both ends' AuthPAK, the tickets, TLS.
func BenchmarkDial(b *testing.B) {
	as := &rcputest.AuthServer{Users: map[string]string{"glenda": "hostpw", "mon": "monpw"}}
	h := &rcputest.Host{User: "glenda", Dom: "vm9", Password: "hostpw"}
	hp := rcputest.StartHost(b, h)
	cfg := Config{Key: dp9ik.NewKey("mon", "vm9", "monpw"), AuthServer: rcputest.StartAuth(b, as)}
	for b.Loop() {
		c, err := Dial(context.Background(), hp, cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
