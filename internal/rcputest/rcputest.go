// Package rcputest stands in for a 9front domain in tests: an auth server
// (authsrv's AuthPAK and ticket requests) and a host's rcpu service
// (tlssrv -a: p9any, dp9ik's server side, TLS-PSK, the script). Both are
// built from packages dp9ik and tlspsk, whose known-answer tests anchor
// them to 9front's own code, and listen on the loopback interface only.
package rcputest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/tlspsk"
)

// listen serves each connection to a new loopback listener with fn until
// the test ends.
func listen(t testing.TB, fn func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); fn(c) }()
		}
	}()
	return ln.Addr().String()
}

// AuthServer is a domain's auth server.
type AuthServer struct {
	Users map[string]string // user: password
	// Conns counts the connections it took.
	Conns atomic.Int64
}

// StartAuth starts a and returns its address.
func StartAuth(t testing.TB, a *AuthServer) string {
	return listen(t, a.serve)
}

func (a *AuthServer) key(user string) dp9ik.Authkey {
	pw, ok := a.Users[user]
	if !ok {
		// authsrv makes one up, so that nobody learns who exists.
		var k dp9ik.Authkey
		rand.Read(k.AES[:])
		k.Hash(user)
		return k
	}
	return dp9ik.NewAuthkey(user, pw)
}

// serve answers AuthPAK and then AuthTreq requests, as authsrv.c does.
func (a *AuthServer) serve(c net.Conn) {
	a.Conns.Add(1)
	var akey, hkey dp9ik.Authkey
	var aid, hid string
	for {
		b := make([]byte, dp9ik.TicketReqLen)
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		tr, _ := dp9ik.UnmarshalTicketReq(b)
		switch tr.Type {
		case dp9ik.AuthPAK:
			c.Write([]byte{dp9ik.AuthOK})
			aid, hid = tr.AuthID, tr.HostID
			akey, hkey = a.key(aid), a.key(hid)
			for _, k := range []*dp9ik.Authkey{&akey, &hkey} {
				p, y := dp9ik.NewPAK(k, false)
				c.Write(y[:])
				yy := make([]byte, dp9ik.PAKYLen)
				if _, err := io.ReadFull(c, yy); err != nil {
					return
				}
				if p.Finish(k, yy) != nil {
					return
				}
			}
		case dp9ik.AuthTreq:
			if aid != tr.AuthID || hid != tr.HostID || tr.UID == "" {
				return // authsrv wants DES keys then, and refuses
			}
			t := dp9ik.Ticket{Chal: tr.Chal, CUID: tr.UID, SUID: tr.UID}
			rand.Read(t.Key[:])
			if tr.UID != tr.HostID {
				t.SUID, t.CUID = "", "" // no speaks-for here
			}
			out := []byte{dp9ik.AuthOK}
			t.Num = dp9ik.AuthTc
			out = append(out, t.Seal(&hkey.PakKey)...)
			t.Num = dp9ik.AuthTs
			out = append(out, t.Seal(&akey.PakKey)...)
			c.Write(out)
			aid, hid = "", ""
		default:
			return
		}
	}
}

// Host is a 9front host's rcpu service.
type Host struct {
	User, Dom, Password string // the host owner's key (factotum's)
	// Offer is the p9any offer; empty means "dp9ik@Dom".
	Offer string
	// Suites are the TLS suites accepted; nil means all.
	Suites []uint16
	// Serve gets the TLS stream after the script: what the script runs.
	Serve func(net.Conn)

	mu      sync.Mutex
	scripts []string
	errs    []error
}

// StartHost starts h and returns its address.
func StartHost(t testing.TB, h *Host) string {
	return listen(t, func(c net.Conn) {
		if err := h.serve(c); err != nil {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
		}
	})
}

// Scripts returns the scripts clients sent.
func (h *Host) Scripts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.scripts...)
}

// Errors returns why sessions failed on the host's side.
func (h *Host) Errors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

func (h *Host) serve(c net.Conn) error {
	secret, err := h.auth(c)
	if err != nil {
		return err
	}
	t, err := tlspsk.Server(c, &tlspsk.Config{Identity: "p9secret", PSK: secret, Suites: h.Suites})
	if err != nil {
		return err
	}
	// As rc/bin/service/tcp17019: a line with the length, then the script.
	line := make([]byte, 0, 16)
	one := make([]byte, 1)
	for len(line) < 16 {
		if _, err := io.ReadFull(t, one); err != nil {
			return err
		}
		if one[0] == '\n' {
			break
		}
		line = append(line, one[0])
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil || n <= 0 || n > 4096 {
		return fmt.Errorf("script length %q", line)
	}
	script := make([]byte, n)
	if _, err := io.ReadFull(t, script); err != nil {
		return err
	}
	h.mu.Lock()
	h.scripts = append(h.scripts, string(script))
	h.mu.Unlock()
	if h.Serve != nil {
		h.Serve(t)
	}
	return nil
}

// auth is p9any and dp9ik's server side (factotum's p9any.c and
// p9sk1.c); it returns the session secret.
func (h *Host) auth(c net.Conn) ([]byte, error) {
	offer := h.Offer
	if offer == "" {
		offer = "dp9ik@" + h.Dom
	}
	if _, err := c.Write(append([]byte(offer), 0)); err != nil {
		return nil, err
	}
	var choice []byte
	one := make([]byte, 1)
	for {
		if _, err := io.ReadFull(c, one); err != nil {
			return nil, err
		}
		if one[0] == 0 {
			break
		}
		if choice = append(choice, one[0]); len(choice) > 100 {
			return nil, errors.New("p9any choice too long")
		}
	}
	if string(choice) != "dp9ik "+h.Dom {
		return nil, fmt.Errorf("p9any choice %q", choice)
	}
	var cchal [dp9ik.ChalLen]byte
	if _, err := io.ReadFull(c, cchal[:]); err != nil {
		return nil, err
	}
	k := dp9ik.NewAuthkey(h.User, h.Password)
	tr := dp9ik.TicketReq{Type: dp9ik.AuthPAK, AuthID: h.User, AuthDom: h.Dom}
	rand.Read(tr.Chal[:])
	pak, ys := dp9ik.NewPAK(&k, true)
	if _, err := c.Write(append(tr.Marshal(), ys[:]...)); err != nil {
		return nil, err
	}
	b := make([]byte, dp9ik.PAKYLen+dp9ik.TicketLen+dp9ik.AuthentLen)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	if err := pak.Finish(&k, b[:dp9ik.PAKYLen]); err != nil {
		return nil, err
	}
	b = b[dp9ik.PAKYLen:]
	t, err := dp9ik.OpenTicket(b[:dp9ik.TicketLen], &k.PakKey)
	if err != nil || t.Num != dp9ik.AuthTs || subtle.ConstantTimeCompare(t.Chal[:], tr.Chal[:]) != 1 {
		return nil, fmt.Errorf("bad ticket (%v)", err)
	}
	ac, err := dp9ik.OpenAuthenticator(b[dp9ik.TicketLen:], &t.Key)
	if err != nil || ac.Num != dp9ik.AuthAc || subtle.ConstantTimeCompare(ac.Chal[:], tr.Chal[:]) != 1 {
		return nil, fmt.Errorf("bad authenticator (%v)", err)
	}
	as := dp9ik.Authenticator{Num: dp9ik.AuthAs, Chal: cchal}
	rand.Read(as.Rand[:])
	if _, err := c.Write(as.Seal(&t.Key)); err != nil {
		return nil, err
	}
	return dp9ik.SessionSecret(&t.Key, &ac.Rand, &as.Rand), nil
}

// Flipper forwards one connection to a server, changing one byte of one
// direction on the way.
type Flipper struct {
	Addr string // where to connect instead of the server
	mu   sync.Mutex
	did  bool
}

// Flipped reports whether the byte went through, changed.
func (f *Flipper) Flipped() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.did }

// StartFlipper forwards the first connection to its Addr to addr,
// changing the byte at offset at of what goes to the server (toServer)
// or comes from it.
func StartFlipper(t testing.TB, addr string, toServer bool, at int) *Flipper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &Flipper{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", addr)
		if err != nil {
			c.Close()
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); f.pipe(s, c, toServer, at) }()
		f.pipe(c, s, !toServer, at)
	}()
	return f
}

func (f *Flipper) pipe(dst, src net.Conn, flip bool, at int) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 1024)
	for n := 0; ; {
		m, err := src.Read(buf)
		if flip && at >= n && at < n+m {
			buf[at-n] ^= 0x80
			f.mu.Lock()
			f.did = true
			f.mu.Unlock()
		}
		n += m
		if m > 0 {
			if _, err := dst.Write(buf[:m]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
