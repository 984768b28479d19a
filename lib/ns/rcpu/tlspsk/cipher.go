package tlspsk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// The cipher suites 9front's tlshand.c offers with a pre-shared key, in
// its order of preference.
const (
	PSKWithChaCha20Poly1305 uint16 = 0xCCAB // RFC 7905
	PSKWithAES128CBCSHA256  uint16 = 0x00AE // RFC 5487
	PSKWithAES128CBCSHA     uint16 = 0x008C // RFC 4279
)

// Suites is every suite, 9front's order.
var Suites = []uint16{PSKWithChaCha20Poly1305, PSKWithAES128CBCSHA256, PSKWithAES128CBCSHA}

// SuiteName names a suite for messages.
func SuiteName(id uint16) string {
	switch id {
	case PSKWithChaCha20Poly1305:
		return "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"
	case PSKWithAES128CBCSHA256:
		return "TLS_PSK_WITH_AES_128_CBC_SHA256"
	case PSKWithAES128CBCSHA:
		return "TLS_PSK_WITH_AES_128_CBC_SHA"
	}
	return "unknown"
}

// keyLens gives a suite's MAC key, encryption key and IV lengths, the
// parts of the key block (tlshand.c's cipherAlgs).
func keyLens(id uint16) (mac, key, iv int, ok bool) {
	switch id {
	case PSKWithChaCha20Poly1305:
		return 0, 32, 12, true
	case PSKWithAES128CBCSHA256:
		return sha256.Size, 16, 16, true
	case PSKWithAES128CBCSHA:
		return sha1.Size, 16, 16, true
	}
	return 0, 0, 0, false
}

// recordCipher protects the records of one direction.
type recordCipher interface {
	// seal returns the protected fragment of a record of type typ
	// with sequence number seq.
	seal(seq uint64, typ byte, plain []byte) []byte
	// open returns the plaintext of a protected fragment.
	open(seq uint64, typ byte, frag []byte) ([]byte, error)
}

var errBadRecord = errors.New("record does not authenticate (altered or wrong key)")

func newCipher(id uint16, macKey, key, iv []byte) recordCipher {
	switch id {
	case PSKWithChaCha20Poly1305:
		aead, _ := chacha20poly1305.New(key) // a 32-byte key cannot fail
		return &aeadCipher{aead: aead, iv: iv}
	case PSKWithAES128CBCSHA256:
		b, _ := aes.NewCipher(key)
		return &cbcCipher{block: b, mac: hmac.New(sha256.New, macKey)}
	default:
		b, _ := aes.NewCipher(key)
		return &cbcCipher{block: b, mac: hmac.New(sha1.New, macKey)}
	}
}

// additional returns seq | type | version | length: the AEAD's additional
// data and the start of the CBC suites' MAC.
func additional(seq uint64, typ byte, n int) []byte {
	var b [13]byte
	binary.BigEndian.PutUint64(b[:], seq)
	b[8] = typ
	binary.BigEndian.PutUint16(b[9:], version)
	binary.BigEndian.PutUint16(b[11:], uint16(n))
	return b[:]
}

// aeadCipher is RFC 7905's ChaCha20-Poly1305: the nonce is the IV from the
// key block xor the sequence number.
type aeadCipher struct {
	aead cipher.AEAD
	iv   []byte
}

func (c *aeadCipher) nonce(seq uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], seq)
	subtle.XORBytes(n, n, c.iv)
	return n
}

func (c *aeadCipher) seal(seq uint64, typ byte, plain []byte) []byte {
	return c.aead.Seal(nil, c.nonce(seq), plain, additional(seq, typ, len(plain)))
}

func (c *aeadCipher) open(seq uint64, typ byte, frag []byte) ([]byte, error) {
	n := len(frag) - c.aead.Overhead()
	if n < 0 {
		return nil, errBadRecord
	}
	p, err := c.aead.Open(nil, c.nonce(seq), frag, additional(seq, typ, n))
	if err != nil {
		return nil, errBadRecord
	}
	return p, nil
}

// cbcCipher is TLS 1.2's MAC-then-encrypt with AES-CBC and an explicit
// IV in every record.
type cbcCipher struct {
	block cipher.Block
	mac   hash.Hash
}

func (c *cbcCipher) sum(seq uint64, typ byte, plain []byte) []byte {
	c.mac.Reset()
	c.mac.Write(additional(seq, typ, len(plain)))
	c.mac.Write(plain)
	return c.mac.Sum(nil)
}

func (c *cbcCipher) seal(seq uint64, typ byte, plain []byte) []byte {
	bs := c.block.BlockSize()
	body := append(append([]byte(nil), plain...), c.sum(seq, typ, plain)...)
	pad := bs - len(body)%bs
	for i := 0; i < pad; i++ {
		body = append(body, byte(pad-1))
	}
	out := make([]byte, bs+len(body))
	rand.Read(out[:bs])
	cipher.NewCBCEncrypter(c.block, out[:bs]).CryptBlocks(out[bs:], body)
	return out
}

// open checks the padding and the MAC without a branch on either, so that
// a bad padding and a bad MAC give one error. The MAC's time still
// depends on the padding's length (Lucky Thirteen); 9front, and this
// client, prefer ChaCha20-Poly1305.
func (c *cbcCipher) open(seq uint64, typ byte, frag []byte) ([]byte, error) {
	bs, ms := c.block.BlockSize(), c.mac.Size()
	if len(frag) < bs+bs || len(frag)%bs != 0 || len(frag)-bs < ms+1 {
		return nil, errBadRecord
	}
	body := make([]byte, len(frag)-bs)
	cipher.NewCBCDecrypter(c.block, frag[:bs]).CryptBlocks(body, frag[bs:])
	pad := int(body[len(body)-1])
	// good is 1 when pad+1 bytes of value pad fit after a MAC.
	good := subtle.ConstantTimeLessOrEq(pad+1+ms, len(body))
	for i := 1; i <= 256 && i <= len(body); i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad+1)
		eq := subtle.ConstantTimeByteEq(body[len(body)-i], byte(pad))
		good &= eq | (1 - inPad)
	}
	// On a bad padding, check the MAC as if there were none.
	n := len(body) - ms - 1 - subtle.ConstantTimeSelect(good, pad, 0)
	if n < 0 {
		n = 0
	}
	want := c.sum(seq, typ, body[:n])
	ok := subtle.ConstantTimeCompare(want, body[n:n+ms]) & good
	if ok != 1 {
		return nil, errBadRecord
	}
	return body[:n], nil
}
