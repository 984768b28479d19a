package dp9ik

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes and message numbers from authsrv.h.
const (
	ANameLen     = 28
	DomLen       = 48
	ChalLen      = 8
	NonceLen     = 32
	TicketReqLen = 3*ANameLen + ChalLen + DomLen + 1
	TicketLen    = 12 + ChalLen + 2*ANameLen + NonceLen + 16 // form 1
	AuthentLen   = 12 + ChalLen + NonceLen + 16              // form 1

	AuthTreq  = 1
	AuthOK    = 4
	AuthErr   = 5
	AuthOKvar = 9
	AuthPAK   = 19
	AuthTs    = 64
	AuthTc    = 65
	AuthAs    = 66
	AuthAc    = 67
)

// TicketReq is a ticket request (Ticketreq).
type TicketReq struct {
	Type    byte
	AuthID  string // the server's user
	AuthDom string
	Chal    [ChalLen]byte
	HostID  string // the client's user
	UID     string // the user the client asks to be on the server
}

// Marshal returns the request's TicketReqLen bytes (convTR2M).
func (r *TicketReq) Marshal() []byte {
	b := make([]byte, 0, TicketReqLen)
	b = append(b, r.Type)
	b = appendName(b, r.AuthID, ANameLen)
	b = appendName(b, r.AuthDom, DomLen)
	b = append(b, r.Chal[:]...)
	b = appendName(b, r.HostID, ANameLen)
	b = appendName(b, r.UID, ANameLen)
	return b
}

// UnmarshalTicketReq parses a request (convM2TR). Names are cut at their
// first NUL, as C reads them.
func UnmarshalTicketReq(b []byte) (TicketReq, error) {
	var r TicketReq
	if len(b) != TicketReqLen {
		return r, fmt.Errorf("ticket request of %d bytes, not %d", len(b), TicketReqLen)
	}
	r.Type = b[0]
	b = b[1:]
	r.AuthID, b = name(b, ANameLen)
	r.AuthDom, b = name(b, DomLen)
	copy(r.Chal[:], b)
	b = b[ChalLen:]
	r.HostID, b = name(b, ANameLen)
	r.UID, _ = name(b, ANameLen)
	return r, nil
}

// appendName appends s in a field of n bytes, NUL-padded and cut to n-1
// bytes as safecpy does.
func appendName(b []byte, s string, n int) []byte {
	if len(s) > n-1 {
		s = s[:n-1]
	}
	b = append(b, s...)
	return append(b, make([]byte, n-len(s))...)
}

func name(b []byte, n int) (string, []byte) {
	f := b[:n-1] // the last byte is always NUL to C
	if i := bytes.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	return string(f), b[n:]
}

// Ticket is a ticket (Ticket, form 1): the auth server's statement that
// whoever knows Key may act as SUID.
type Ticket struct {
	Num  byte
	Chal [ChalLen]byte
	CUID string
	SUID string
	Key  [NonceLen]byte
}

// Seal encrypts the ticket with key, the client's or server's PAK key
// (convT2M).
func (t *Ticket) Seal(key *[32]byte) []byte {
	b := make([]byte, 0, 1+ChalLen+2*ANameLen+NonceLen)
	b = append(b, t.Num)
	b = append(b, t.Chal[:]...)
	b = appendName(b, t.CUID, ANameLen)
	b = appendName(b, t.SUID, ANameLen)
	b = append(b, t.Key[:]...)
	return form1Seal(b, key)
}

// OpenTicket decrypts and authenticates a sealed ticket (convM2T). Only
// form 1 is accepted: dp9ik refuses DES tickets.
func OpenTicket(b []byte, key *[32]byte) (Ticket, error) {
	var t Ticket
	if len(b) != TicketLen {
		return t, fmt.Errorf("ticket of %d bytes, not %d", len(b), TicketLen)
	}
	p, err := form1Open(b, key)
	if err != nil {
		return t, err
	}
	t.Num = p[0]
	p = p[1:]
	copy(t.Chal[:], p)
	p = p[ChalLen:]
	t.CUID, p = name(p, ANameLen)
	t.SUID, p = name(p, ANameLen)
	copy(t.Key[:], p)
	return t, nil
}

// Authenticator proves knowledge of a ticket's key (Authenticator).
type Authenticator struct {
	Num  byte
	Chal [ChalLen]byte
	Rand [NonceLen]byte
}

// Seal encrypts the authenticator with the ticket's key (convA2M).
func (a *Authenticator) Seal(key *[32]byte) []byte {
	b := make([]byte, 0, 1+ChalLen+NonceLen)
	b = append(b, a.Num)
	b = append(b, a.Chal[:]...)
	b = append(b, a.Rand[:]...)
	return form1Seal(b, key)
}

// OpenAuthenticator decrypts and authenticates one (convM2A).
func OpenAuthenticator(b []byte, key *[32]byte) (Authenticator, error) {
	var a Authenticator
	if len(b) != AuthentLen {
		return a, fmt.Errorf("authenticator of %d bytes, not %d", len(b), AuthentLen)
	}
	p, err := form1Open(b, key)
	if err != nil {
		return a, err
	}
	a.Num = p[0]
	copy(a.Chal[:], p[1:])
	copy(a.Rand[:], p[1+ChalLen:])
	return a, nil
}

// form1 (form1.c): the message number becomes an 8-byte signature which,
// with a 4-byte little-endian counter, is the ChaCha20-Poly1305 nonce;
// the rest is sealed after it.
var form1Sigs = map[byte]string{
	AuthTs: "form1 Ts", AuthTc: "form1 Tc", AuthAs: "form1 As", AuthAc: "form1 Ac",
	3: "form1 PR", 68: "form1 Tp", 69: "form1 Hr",
}

var form1Counter atomic.Uint32

// ErrForm1 is a message that does not decrypt: the wrong key, or a byte
// changed on the way.
var ErrForm1 = errors.New("message does not authenticate (wrong key or altered)")

func form1Seal(plain []byte, key *[32]byte) []byte {
	return form1SealCount(plain, key, form1Counter.Add(1)-1)
}

func form1SealCount(plain []byte, key *[32]byte, count uint32) []byte {
	sig, ok := form1Sigs[plain[0]]
	if !ok {
		panic("dp9ik: no form1 signature for message number " + fmt.Sprint(plain[0]))
	}
	nonce := make([]byte, 12, 12+len(plain)-1+16)
	copy(nonce, sig)
	binary.LittleEndian.PutUint32(nonce[8:], count)
	aead, _ := chacha20poly1305.New(key[:]) // a 32-byte key cannot fail
	return aead.Seal(nonce, nonce, plain[1:], nil)
}

func form1Open(b []byte, key *[32]byte) ([]byte, error) {
	num := byte(0)
	for n, sig := range form1Sigs {
		if string(b[:8]) == sig {
			num = n
		}
	}
	if num == 0 {
		return nil, errors.New("not a form1 message")
	}
	aead, _ := chacha20poly1305.New(key[:])
	p, err := aead.Open(make([]byte, 1, len(b)-12-16+1), b[:12], b[12:], nil)
	if err != nil {
		return nil, ErrForm1
	}
	p[0] = num
	return p, nil
}
