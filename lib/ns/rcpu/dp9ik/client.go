package dp9ik

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// Key is a dp9ik key as factotum holds it: key proto=dp9ik dom=Dom
// user=User !password=…
type Key struct {
	User, Dom string
	Authkey   // from the password: AES and PakHash; PakKey is per exchange
}

// NewKey derives a key from a password.
func NewKey(user, dom, password string) *Key {
	return &Key{User: user, Dom: dom, Authkey: NewAuthkey(user, password)}
}

// Config is what the client side needs.
type Config struct {
	Key *Key
	// DialAuth connects to the domain's auth server (authsrv on
	// tcp!…!567). The connection's deadline is ctx's.
	DialAuth func(ctx context.Context) (net.Conn, error)
}

// Info is an established session.
type Info struct {
	CUID, SUID string // as the ticket says
	Secret     []byte // 256 bytes: the TLS pre-shared key of rcpu
}

// SecretLen is the session secret's length.
const SecretLen = 256

// maxOffer bounds the server's p9any offer (factotum's toosmall(2048)).
const maxOffer = 2048

// BadKeyError is the auth server's ticket for the client not decrypting
// with the client's key: a wrong password, or a user the auth server does
// not know (it answers for those with a random key, so that nobody can
// probe it for names).
type BadKeyError struct{ User, Dom string }

func (e *BadKeyError) Error() string {
	return fmt.Sprintf("dp9ik: the auth server refused user %s in domain %s: wrong password, or no such user", e.User, e.Dom)
}

// ProtocolError is a peer breaking the protocol.
type ProtocolError struct {
	Peer string // "server" or "auth server"
	Msg  string
}

func (e *ProtocolError) Error() string { return "dp9ik: " + e.Peer + ": " + e.Msg }

func serverErr(format string, args ...any) error {
	return &ProtocolError{"server", fmt.Sprintf(format, args...)}
}

func asErr(format string, args ...any) error {
	return &ProtocolError{"auth server", fmt.Sprintf(format, args...)}
}

// Client runs p9any, choosing dp9ik in the key's domain, and dp9ik over
// rw, the connection to the server: the rcpu service's first bytes.
// rw's deadline is the caller's to set; reads are exact, so nothing past
// the authentication is consumed.
func Client(ctx context.Context, rw io.ReadWriter, cfg Config) (*Info, error) {
	k := cfg.Key
	if k == nil || k.User == "" || k.Dom == "" {
		return nil, errors.New("dp9ik: no key")
	}
	if err := negotiate(rw, k.Dom); err != nil {
		return nil, err
	}

	var cchal [ChalLen]byte
	rand.Read(cchal[:])
	if _, err := rw.Write(cchal[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, TicketReqLen+PAKYLen)
	if err := readFull(rw, buf, "server", "ticket request"); err != nil {
		return nil, err
	}
	tr, _ := UnmarshalTicketReq(buf[:TicketReqLen])
	ys := buf[TicketReqLen:]
	if tr.Type != AuthPAK {
		return nil, serverErr("ticket request of type %d, not AuthPAK", tr.Type)
	}
	if tr.AuthID == "" {
		return nil, serverErr("ticket request names no server user (authid)")
	}
	if tr.AuthDom != k.Dom {
		return nil, serverErr("asks for a ticket in domain %q, not %s", tr.AuthDom, k.Dom)
	}
	tr.HostID, tr.UID = k.User, k.User

	ybs, tickets, err := getTickets(ctx, cfg, &tr, ys)
	if err != nil {
		return nil, err
	}
	t, err := OpenTicket(tickets[:TicketLen], &k.PakKey)
	if errors.Is(err, ErrForm1) {
		return nil, &BadKeyError{k.User, k.Dom}
	}
	if err != nil {
		return nil, asErr("the client's ticket: %v", err)
	}
	if t.Num != AuthTc || subtle.ConstantTimeCompare(t.Chal[:], tr.Chal[:]) != 1 {
		return nil, asErr("the client's ticket is not for this request")
	}
	defer clear(t.Key[:])

	ac := Authenticator{Num: AuthAc, Chal: tr.Chal}
	rand.Read(ac.Rand[:])
	msg := append(append(ybs, tickets[TicketLen:]...), ac.Seal(&t.Key)...)
	if _, err := rw.Write(msg); err != nil {
		return nil, err
	}

	buf = buf[:AuthentLen]
	if err := readFull(rw, buf, "server", "authenticator (it did not accept the ticket)"); err != nil {
		return nil, err
	}
	as, err := OpenAuthenticator(buf, &t.Key)
	if err != nil {
		return nil, serverErr("authenticator: %v: the server does not share the auth server's key", err)
	}
	if as.Num != AuthAs || subtle.ConstantTimeCompare(as.Chal[:], cchal[:]) != 1 {
		return nil, serverErr("authenticator is not an answer to this challenge")
	}
	return &Info{CUID: t.CUID, SUID: t.SUID, Secret: SessionSecret(&t.Key, &ac.Rand, &as.Rand)}, nil
}

// SessionSecret derives the session secret from the ticket's key and the
// client's and server's random strings (factotum's establish).
func SessionSecret(key, rnc, rns *[NonceLen]byte) []byte {
	s := make([]byte, SecretLen)
	hkdfSHA256(s, key[:], append(rnc[:], rns[:]...), "Plan 9 session secret")
	return s
}

// negotiate is p9any's client side: choose dp9ik@dom from the server's
// offer.
func negotiate(rw io.ReadWriter, dom string) error {
	offer, err := readString(rw, maxOffer)
	if err != nil {
		return err
	}
	toks := strings.Fields(offer)
	v2 := false
	if len(toks) > 0 && strings.HasPrefix(toks[0], "v.") {
		if toks[0] != "v.2" {
			return serverErr("p9any version %q", toks[0])
		}
		v2, toks = true, toks[1:]
	}
	found := false
	for _, t := range toks {
		if t == "dp9ik@"+dom {
			found = true
		}
	}
	if !found {
		return serverErr("p9any offers %q, not dp9ik@%s", strings.Join(toks, " "), dom)
	}
	if _, err := rw.Write([]byte("dp9ik " + dom + "\x00")); err != nil {
		return err
	}
	if v2 {
		var ok [3]byte
		if err := readFull(rw, ok[:], "server", "p9any OK"); err != nil {
			return err
		}
		if string(ok[:]) != "OK\x00" {
			return serverErr("p9any: %q instead of OK", ok[:])
		}
	}
	return nil
}

// readString reads a NUL-terminated string of at most max bytes, one byte
// at a time so as to take nothing after it.
func readString(r io.Reader, max int) (string, error) {
	var b []byte
	var c [1]byte
	for len(b) < max {
		if err := readFull(r, c[:], "server", "p9any offer"); err != nil {
			return "", err
		}
		if c[0] == 0 {
			return string(b), nil
		}
		b = append(b, c[0])
	}
	return "", serverErr("p9any offer longer than %d bytes", max)
}

func readFull(r io.Reader, b []byte, peer, what string) error {
	_, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ProtocolError{peer, "hung up before its " + what}
	}
	if err != nil {
		return fmt.Errorf("dp9ik: %s: reading its %s: %w", peer, what, err)
	}
	return nil
}

// getTickets runs AuthPAK and the ticket request with the auth server
// (getastickets): it returns the server's AuthPAK answer YBs and the two
// tickets, the client's and the server's, and leaves the client's PAK key
// in cfg.Key.
func getTickets(ctx context.Context, cfg Config, tr *TicketReq, ys []byte) (ybs, tickets []byte, err error) {
	if cfg.DialAuth == nil {
		return nil, nil, errors.New("dp9ik: no auth server")
	}
	c, err := cfg.DialAuth(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("dp9ik: auth server: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	k := cfg.Key
	pak, yc := NewPAK(&k.Authkey, true)
	tr.Type = AuthPAK
	msg := append(append(tr.Marshal(), ys...), yc[:]...)
	if _, err := c.Write(msg); err != nil {
		return nil, nil, fmt.Errorf("dp9ik: auth server: %w", err)
	}
	yb := make([]byte, 2*PAKYLen)
	if err := readReply(c, yb); err != nil {
		return nil, nil, err
	}
	if err := pak.Finish(&k.Authkey, yb[PAKYLen:]); err != nil {
		return nil, nil, asErr("%v", err)
	}
	tr.Type = AuthTreq
	if _, err := c.Write(tr.Marshal()); err != nil {
		return nil, nil, fmt.Errorf("dp9ik: auth server: %w", err)
	}
	tickets = make([]byte, 2*TicketLen)
	if err := readReply(c, tickets); err != nil {
		return nil, nil, err
	}
	return yb[:PAKYLen], tickets, nil
}

// readReply reads an AuthOK and len(b) bytes, or turns an AuthErr into an
// error (_asrdresp).
func readReply(r io.Reader, b []byte) error {
	var t [1]byte
	if err := readFull(r, t[:], "auth server", "reply"); err != nil {
		return err
	}
	switch t[0] {
	case AuthOK:
		return readFull(r, b, "auth server", "reply")
	case AuthErr:
		var e [64]byte
		if err := readFull(r, e[:], "auth server", "error"); err != nil {
			return err
		}
		msg, _, _ := bytes.Cut(e[:], []byte{0})
		return asErr("%s", strconv.Quote(string(msg)))
	}
	return asErr("reply of type %d", t[0])
}
