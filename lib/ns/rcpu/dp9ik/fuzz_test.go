package dp9ik

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// script is a peer that answers with fixed bytes and swallows writes.
type script struct {
	r io.Reader
	n int // bytes written to it
}

func (s *script) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *script) Write(p []byte) (int, error) { s.n += len(p); return len(p), nil }

// scriptConn is script as a net.Conn, for the auth server.
type scriptConn struct {
	net.Conn // nil: only the methods below are used
	*script
}

func (c scriptConn) Read(p []byte) (int, error)  { return c.script.Read(p) }
func (c scriptConn) Write(p []byte) (int, error) { return c.script.Write(p) }
func (scriptConn) Close() error                  { return nil }
func (scriptConn) SetDeadline(time.Time) error   { return nil }

// FuzzClient feeds a hostile server's and auth server's bytes to the
// client: p9any's offer and OK, the ticket request, the auth server's
// replies and tickets, the server's authenticator. It must fail cleanly,
// reading no more than the protocol's sizes.
func FuzzClient(f *testing.F) {
	k := NewKey("mon", "vm9", "pw")
	tr := (&TicketReq{Type: AuthPAK, AuthID: "glenda", AuthDom: "vm9"}).Marshal()
	y := bytes.Repeat([]byte{1}, PAKYLen)
	f.Add([]byte("dp9ik@vm9\x00"), []byte{AuthOK})
	f.Add(append(append([]byte("v.2 p9sk1@vm9 dp9ik@vm9\x00OK\x00"), tr...), y...), append([]byte{AuthOK}, make([]byte, 2*PAKYLen)...))
	f.Add(append(append([]byte("dp9ik@vm9\x00"), tr...), y...), append([]byte{AuthErr}, []byte("no such user")...))
	f.Add(append(append([]byte("dp9ik@vm9\x00"), tr...), make([]byte, PAKYLen)...), append([]byte{AuthOK}, bytes.Repeat([]byte{0}, 2*PAKYLen+1+2*TicketLen)...))
	f.Fuzz(func(t *testing.T, server, auth []byte) {
		srv := &script{r: bytes.NewReader(server)}
		as := &script{r: bytes.NewReader(auth)}
		cfg := Config{Key: k, DialAuth: func(context.Context) (net.Conn, error) { return scriptConn{script: as}, nil }}
		info, err := Client(context.Background(), srv, cfg)
		if err == nil {
			t.Fatalf("a scripted server authenticated: %+v", info)
		}
		if srv.n > 2*maxOffer || as.n > 4*TicketReqLen {
			t.Fatalf("wrote %d and %d bytes", srv.n, as.n)
		}
	})
}

// FuzzMessages covers the parsers of the fixed-size messages and of
// AuthPAK's public keys.
func FuzzMessages(f *testing.F) {
	var key [32]byte
	f.Add((&Ticket{Num: AuthTc, CUID: "mon"}).Seal(&key))
	f.Add((&Authenticator{Num: AuthAs}).Seal(&key))
	f.Add((&TicketReq{Type: AuthPAK, AuthID: "glenda", AuthDom: "vm9"}).Marshal())
	f.Add(bytes.Repeat([]byte{0x7f}, PAKYLen))
	k := NewAuthkey("mon", "pw")
	f.Fuzz(func(t *testing.T, b []byte) {
		if tk, err := OpenTicket(b, &key); err == nil && len(b) != TicketLen {
			t.Fatalf("opened a ticket of %d bytes: %+v", len(b), tk)
		}
		OpenAuthenticator(b, &key)
		if tr, err := UnmarshalTicketReq(b); err == nil {
			if again := tr.Marshal(); len(again) != TicketReqLen {
				t.Fatalf("ticket request of %d bytes", len(again))
			}
		}
		if len(b) == PAKYLen {
			kk := k
			p, _ := NewPAK(&kk, true)
			p.Finish(&kk, b)
		}
	})
}
