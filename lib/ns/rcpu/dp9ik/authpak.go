// Package dp9ik speaks the client side of 9front's p9any negotiation and
// its dp9ik protocol, authsrv(6): AuthPAK (SPAKE2-EE on Ed448) with the
// authentication server, the ticket exchange, and mutual authentication
// with the server, ending in the 256-byte session secret rcpu and tlssrv
// use as the TLS pre-shared key.
//
// It is written from 9front's specification (authsrv(6)) and its source
// (libauthsrv's authpak.c, passtokey.c, form1.c and conv*.c, factotum's
// p9any.c and p9sk1.c), read, not copied; the known-answer tests hold
// values the real programs produced. The crypto is golang.org/x/crypto's
// and circl's constant-time fp448; no secret passes through math/big.
package dp9ik

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"io"

	"golang.org/x/crypto/hkdf"
	"golang.org/x/crypto/pbkdf2"
)

// Sizes from authsrv.h.
const (
	AESKeyLen = 16
	PAKKeyLen = 32
	PAKSLen   = 56 // an Ed448 scalar or field element
	PAKYLen   = PAKSLen
	PAKPLen   = 4 * PAKSLen
)

// Authkey holds what a password gives (passtokey, authpak_hash) and the
// key an AuthPAK exchange establishes.
type Authkey struct {
	AES     [AESKeyLen]byte
	PakHash [2 * PAKPLen]byte // PM, PN: X, Y, Z, T each, big-endian
	PakKey  [PAKKeyLen]byte
}

// PassToKey derives the AES key from a password (passtoaeskey): PBKDF2
// with HMAC-SHA1, 9001 rounds. dp9ik needs no DES key.
func PassToKey(password string) Authkey {
	var k Authkey
	copy(k.AES[:], pbkdf2.Key([]byte(password), []byte("Plan 9 key derivation"), 9001, AESKeyLen, sha1.New))
	return k
}

// NewAuthkey is PassToKey and Hash for user.
func NewAuthkey(user, password string) Authkey {
	k := PassToKey(password)
	k.Hash(user)
	return k
}

// Hash sets the points PM and PN from the AES key and the user name
// (authpak_hash).
func (k *Authkey) Hash(user string) {
	salt := sha256.Sum256([]byte(user))
	var h [2 * PAKSLen]byte
	hkdfSHA256(h[:], k.AES[:], salt[:], "Plan 9 AuthPAK hash")
	for i := 0; i < 2; i++ {
		r := fromBE(h[i*PAKSLen : (i+1)*PAKSLen])
		p := elligator(&r)
		putPoint(k.PakHash[i*PAKPLen:], &p)
	}
}

func putPoint(b []byte, p *point) {
	toBE(b[0*PAKSLen:], &p.X)
	toBE(b[1*PAKSLen:], &p.Y)
	toBE(b[2*PAKSLen:], &p.Z)
	toBE(b[3*PAKSLen:], &p.T)
}

func getPoint(b []byte) point {
	return point{
		X: fromBE(b[0*PAKSLen : 1*PAKSLen]),
		Y: fromBE(b[1*PAKSLen : 2*PAKSLen]),
		Z: fromBE(b[2*PAKSLen : 3*PAKSLen]),
		T: fromBE(b[3*PAKSLen : 4*PAKSLen]),
	}
}

// hkdfSHA256 fills dst with HKDF-SHA256 (libsec's hkdf_x).
func hkdfSHA256(dst, secret, salt []byte, info string) {
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(info)), dst); err != nil {
		panic("dp9ik: hkdf: " + err.Error()) // only past 255 blocks
	}
}

// PAK is one side of an AuthPAK exchange (PAKpriv). The client and the
// server of dp9ik both play its client side with the auth server.
type PAK struct {
	client bool
	x      [PAKSLen]byte
	y      [PAKYLen]byte
}

// NewPAK starts an exchange with a random secret from rand.Reader and
// returns this side's public key (authpak_new).
func NewPAK(k *Authkey, client bool) (*PAK, [PAKYLen]byte) {
	var x [PAKSLen]byte
	if _, err := rand.Read(x[:]); err != nil {
		panic("dp9ik: " + err.Error()) // crypto/rand does not fail
	}
	return newPAK(k, client, x)
}

// newPAK is NewPAK with the secret x given, for known-answer tests.
func newPAK(k *Authkey, client bool, x [PAKSLen]byte) (*PAK, [PAKYLen]byte) {
	p := &PAK{client: client, x: x}
	// The client adds PM, the auth server PN: Y = x·G + P.
	off := 0
	if !client {
		off = PAKPLen
	}
	pm := getPoint(k.PakHash[off : off+PAKPLen])
	g := base()
	var q point
	scale(&q, p.x[:], &g)
	add(&q, &q, &pm)
	encode(p.y[:], &q)
	return p, p.y
}

// ErrPAK is the other side's AuthPAK public key naming no point.
var ErrPAK = errors.New("AuthPAK: bad public key")

// Finish completes the exchange with the other side's public key y,
// setting k.PakKey (authpak_finish). The PAK is spent.
func (p *PAK) Finish(k *Authkey, y []byte) error {
	defer clear(p.x[:])
	yp, ok := decode(y)
	if !ok {
		return ErrPAK
	}
	// Z = x·(Y' - P'), P' the other side's point.
	off := PAKPLen
	if !p.client {
		off = 0
	}
	pn := getPoint(k.PakHash[off : off+PAKPLen])
	npn := pn.neg()
	var q point
	add(&q, &yp, &npn)
	scale(&q, p.x[:], &q)
	var z [PAKSLen]byte
	encode(z[:], &q)
	defer clear(z[:])
	h := sha256.New()
	if p.client {
		h.Write(p.y[:])
		h.Write(y)
	} else {
		h.Write(y)
		h.Write(p.y[:])
	}
	hkdfSHA256(k.PakKey[:], z[:], h.Sum(nil), "Plan 9 AuthPAK key")
	return nil
}
