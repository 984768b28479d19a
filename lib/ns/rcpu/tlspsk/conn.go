// Package tlspsk speaks TLS 1.2 with a pre-shared key and no
// certificates (RFC 4279's plain PSK key exchange), with the three suites
// 9front's tlshand.c offers: TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
// TLS_PSK_WITH_AES_128_CBC_SHA256 and TLS_PSK_WITH_AES_128_CBC_SHA.
// Go's crypto/tls has no PSK suites. rcpu and tlssrv -a key it with the
// dp9ik session secret under the identity "p9secret".
//
// The server side exists for this module's tests, which stand in for a
// 9front host; the client is what commands use.
package tlspsk

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

const (
	version = 0x0303 // TLS 1.2, the only version spoken

	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23

	maxPlain  = 1 << 14         // RFC 5246: a record's plaintext
	maxCipher = maxPlain + 2048 // and its protected form
)

// Config is one side's configuration.
type Config struct {
	Identity string // the PSK identity; rcpu's is "p9secret"
	PSK      []byte
	// Suites are the suites a client offers or a server accepts, in
	// order of preference; nil means Suites.
	Suites []uint16
}

func (c *Config) suites() []uint16 {
	if c.Suites == nil {
		return Suites
	}
	return c.Suites
}

// Conn is a TLS connection over a net.Conn, which it owns.
type Conn struct {
	net.Conn
	suite uint16
	// helloVersion lets the ClientHello's records carry any TLS version.
	helloVersion bool

	rmu   sync.Mutex
	in    half
	plain []byte // unread application data
	rerr  error  // sticky read error

	wmu  sync.Mutex
	out  half
	werr error
}

// half is one direction's record state.
type half struct {
	c   recordCipher // nil until ChangeCipherSpec
	seq uint64
}

// Suite returns the negotiated cipher suite.
func (c *Conn) Suite() uint16 { return c.suite }

// AlertError is an alert the peer sent.
type AlertError struct {
	Level, Desc byte
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("TLS: peer sent alert %d (%s)", e.Desc, alertName(e.Desc))
}

func alertName(d byte) string {
	switch d {
	case 0:
		return "close notify"
	case 10:
		return "unexpected message"
	case 20:
		return "bad record MAC"
	case 40:
		return "handshake failure"
	case 47:
		return "illegal parameter"
	case 50:
		return "decode error"
	case 70:
		return "protocol version"
	case 80:
		return "internal error"
	case 115:
		return "unknown PSK identity"
	}
	return "unknown"
}

// readRecord reads one record and returns its type and plaintext.
func (c *Conn) readRecord() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.Conn, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = errors.New("TLS: connection closed inside a record")
		}
		return 0, nil, err
	}
	typ, ver, n := hdr[0], binary.BigEndian.Uint16(hdr[1:]), int(binary.BigEndian.Uint16(hdr[3:]))
	if typ < recChangeCipherSpec || typ > recApplicationData {
		if text(hdr[:]) {
			return 0, nil, c.textError(hdr[:])
		}
		return 0, nil, fmt.Errorf("TLS: record of type %d (not TLS, or out of step)", typ)
	}
	// A ClientHello's record may carry an older version; every other
	// carries the one spoken.
	if ver != version && !(c.helloVersion && ver>>8 == 3) {
		return 0, nil, fmt.Errorf("TLS: record of version %#x", ver)
	}
	if n > maxCipher {
		return 0, nil, fmt.Errorf("TLS: record of %d bytes", n)
	}
	frag := make([]byte, n)
	if _, err := io.ReadFull(c.Conn, frag); err != nil {
		return 0, nil, errors.New("TLS: connection closed inside a record")
	}
	if c.in.c != nil {
		p, err := c.in.c.open(c.in.seq, typ, frag)
		if err != nil {
			return 0, nil, fmt.Errorf("TLS: %w", err)
		}
		frag = p
		c.in.seq++
	}
	if len(frag) > maxPlain {
		return 0, nil, fmt.Errorf("TLS: record of %d bytes of plaintext", len(frag))
	}
	if typ == recAlert {
		if len(frag) != 2 {
			return 0, nil, errors.New("TLS: malformed alert")
		}
		if frag[1] == 0 {
			return 0, nil, io.EOF
		}
		return 0, nil, &AlertError{frag[0], frag[1]}
	}
	return typ, frag, nil
}

// maxText bounds the text shown from a peer that is not speaking TLS.
const maxText = 200

// textError reads the rest of a line of text that began with b, where a
// record should be: a program's complaint on a connection that is its
// standard error too.
func (c *Conn) textError(b []byte) error {
	var one [1]byte
	for len(b) < maxText && b[len(b)-1] != '\n' {
		if _, err := c.Conn.Read(one[:]); err != nil {
			break
		}
		b = append(b, one[0])
	}
	return fmt.Errorf("TLS: the peer sent text instead of a record: %q", bytes.TrimSpace(b))
}

func text(b []byte) bool {
	for _, c := range b {
		if (c < ' ' || c > '~') && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// writeRecord protects and writes records of type typ holding b.
func (c *Conn) writeRecord(typ byte, b []byte) error {
	for first := true; first || len(b) > 0; first = false {
		n := min(len(b), maxPlain)
		frag := b[:n]
		b = b[n:]
		if c.out.c != nil {
			frag = c.out.c.seal(c.out.seq, typ, frag)
			c.out.seq++
		}
		rec := make([]byte, 5, 5+len(frag))
		rec[0] = typ
		binary.BigEndian.PutUint16(rec[1:], version)
		binary.BigEndian.PutUint16(rec[3:], uint16(len(frag)))
		if _, err := c.Conn.Write(append(rec, frag...)); err != nil {
			return err
		}
	}
	return nil
}

// Read returns application data.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.plain) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		typ, b, err := c.readRecord()
		switch {
		case err != nil:
			c.rerr = err
		case typ != recApplicationData:
			c.rerr = fmt.Errorf("TLS: record of type %d after the handshake", typ)
		default:
			c.plain = b
		}
		if c.rerr != nil && c.rerr != io.EOF {
			c.alert(alertFor(c.rerr))
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

// Write sends application data.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if err := c.writeRecord(recApplicationData, p); err != nil {
		c.werr = err
		return 0, err
	}
	return len(p), nil
}

// alert sends a fatal alert, if it can.
func (c *Conn) alert(desc byte) {
	if c.wmu.TryLock() {
		defer c.wmu.Unlock()
		if c.werr == nil {
			c.writeRecord(recAlert, []byte{2, desc})
			c.werr = errors.New("TLS: connection failed")
		}
	}
}

func alertFor(err error) byte {
	if errors.Is(err, errBadRecord) {
		return 20
	}
	return 10
}

// Close sends close_notify and closes the connection.
func (c *Conn) Close() error {
	if c.wmu.TryLock() {
		if c.werr == nil && c.out.c != nil {
			c.writeRecord(recAlert, []byte{1, 0})
		}
		c.werr = net.ErrClosed
		c.wmu.Unlock()
	}
	return c.Conn.Close()
}

// prf is TLS 1.2's PRF with SHA-256, P_SHA256 (RFC 5246 section 5).
func prf(dst, secret []byte, label string, seed []byte) {
	ls := append([]byte(label), seed...)
	mac := hmac.New(sha256.New, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	for len(dst) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		n := copy(dst, mac.Sum(nil))
		dst = dst[n:]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
}

// masterSecret is the PSK key exchange's: the premaster secret is the
// PSK's length, as many zeros, the length again and the PSK (RFC 4279
// section 2, tlshand.c's setMasterSecret).
func masterSecret(psk, crandom, srandom []byte) []byte {
	n := len(psk)
	pm := make([]byte, 0, 4+2*n)
	pm = binary.BigEndian.AppendUint16(pm, uint16(n))
	pm = append(pm, make([]byte, n)...)
	pm = binary.BigEndian.AppendUint16(pm, uint16(n))
	pm = append(pm, psk...)
	ms := make([]byte, 48)
	prf(ms, pm, "master secret", append(append([]byte(nil), crandom...), srandom...))
	clear(pm)
	return ms
}
