package tlspsk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"slices"
	"time"
)

// Handshake message types.
const (
	hsClientHello       = 1
	hsServerHello       = 2
	hsServerKeyExchange = 12
	hsServerHelloDone   = 14
	hsClientKeyExchange = 16
	hsFinished          = 20

	maxHandshake = 1 << 14 // no message of this handshake comes near
	finishedLen  = 12
)

// handshake is the state of one side's handshake.
type handshake struct {
	c          *Conn
	cfg        *Config
	transcript hash.Hash
	buf        []byte // handshake bytes read but not yet parsed
	crandom    [32]byte
	srandom    [32]byte
	master     []byte
}

// Client runs the client's handshake over conn.
func Client(conn net.Conn, cfg *Config) (*Conn, error) {
	h := &handshake{c: &Conn{Conn: conn}, cfg: cfg, transcript: sha256.New()}
	if err := h.client(); err != nil {
		h.c.alert(alertFor(err))
		return nil, err
	}
	return h.c, nil
}

// Server runs the server's handshake over conn.
func Server(conn net.Conn, cfg *Config) (*Conn, error) {
	h := &handshake{c: &Conn{Conn: conn}, cfg: cfg, transcript: sha256.New()}
	if err := h.server(); err != nil {
		var r *refusal
		if errors.As(err, &r) {
			h.c.alert(r.desc)
		} else {
			h.c.alert(alertFor(err))
		}
		return nil, err
	}
	return h.c, nil
}

func (h *handshake) client() error {
	rand.Read(h.crandom[:])
	suites := h.cfg.suites()
	b := binary.BigEndian.AppendUint16(nil, version)
	b = append(b, h.crandom[:]...)
	b = append(b, 0) // no session id
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, s := range suites {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 1, 0) // null compression only
	if err := h.send(hsClientHello, b); err != nil {
		return err
	}

	body, err := h.read(hsServerHello)
	if err != nil {
		return err
	}
	p := parser{b: body}
	ver := p.u16()
	copy(h.srandom[:], p.bytes(32))
	p.bytes(int(p.u8())) // session id
	suite := p.u16()
	comp := p.u8()
	if p.rest() > 0 {
		p.bytes(int(p.u16())) // extensions: none were asked for
	}
	switch {
	case p.bad || p.rest() != 0:
		return errors.New("TLS: malformed ServerHello")
	case ver != version:
		return fmt.Errorf("TLS: server speaks version %#x, not TLS 1.2", ver)
	case !slices.Contains(suites, suite):
		return fmt.Errorf("TLS: server chose cipher suite %#04x, which was not offered", suite)
	case comp != 0:
		return errors.New("TLS: server chose compression")
	}
	h.c.suite = suite

	typ, body, err := h.readAny()
	if err == nil && typ == hsServerKeyExchange {
		// A PSK identity hint; 9front sends none, and it means nothing here.
		p = parser{b: body}
		p.bytes(int(p.u16()))
		if p.bad || p.rest() != 0 {
			return errors.New("TLS: malformed ServerKeyExchange")
		}
		typ, body, err = h.readAny()
	}
	if err != nil {
		return err
	}
	if typ != hsServerHelloDone || len(body) != 0 {
		return fmt.Errorf("TLS: handshake message %d instead of ServerHelloDone (a certificate-only server?)", typ)
	}

	id := []byte(h.cfg.Identity)
	b = binary.BigEndian.AppendUint16(nil, uint16(len(id)))
	if err := h.send(hsClientKeyExchange, append(b, id...)); err != nil {
		return h.refusedWrite(err)
	}
	h.master = masterSecret(h.cfg.PSK, h.crandom[:], h.srandom[:])
	cw, sw := h.keys()
	if err := h.changeCipher(cw); err != nil {
		return h.refusedWrite(err)
	}
	if err := h.send(hsFinished, h.finished("client finished")); err != nil {
		return h.refusedWrite(err)
	}
	if err := h.readChangeCipher(sw); err != nil {
		return err
	}
	return h.readFinished("server finished")
}

// alertWait bounds the look for the server's alert after a failed write.
const alertWait = time.Second

// refusedWrite returns the alert a server sent before it hung up, where
// writing the client's last flight failed (a server that refuses the
// identity at ClientKeyExchange alerts and closes while the rest is
// still being written): the alert says why, a broken pipe does not.
// Otherwise it returns err.
func (h *handshake) refusedWrite(err error) error {
	h.c.Conn.SetReadDeadline(time.Now().Add(alertWait))
	var ae *AlertError
	if _, _, rerr := h.c.readRecord(); errors.As(rerr, &ae) {
		return ae
	}
	return err
}

func (h *handshake) server() error {
	h.c.helloVersion = true
	body, err := h.read(hsClientHello)
	h.c.helloVersion = false
	if err != nil {
		return err
	}
	p := parser{b: body}
	ver := p.u16()
	copy(h.crandom[:], p.bytes(32))
	p.bytes(int(p.u8()))
	cs := p.bytes(int(p.u16()))
	comps := p.bytes(int(p.u8()))
	if p.rest() > 0 {
		p.bytes(int(p.u16()))
	}
	if p.bad || p.rest() != 0 || len(cs)%2 != 0 {
		return errors.New("TLS: malformed ClientHello")
	}
	if ver < version {
		return &refusal{70, "client offers an older version than TLS 1.2"}
	}
	suite, found := uint16(0), false
	for _, s := range h.cfg.suites() {
		for i := 0; i < len(cs); i += 2 {
			if binary.BigEndian.Uint16(cs[i:]) == s && !found {
				suite, found = s, true
			}
		}
	}
	if !found || !slices.Contains(comps, 0) {
		return &refusal{40, "no cipher suite in common"}
	}
	h.c.suite = suite
	rand.Read(h.srandom[:])
	b := binary.BigEndian.AppendUint16(nil, version)
	b = append(b, h.srandom[:]...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0)
	if err := h.send(hsServerHello, b); err != nil {
		return err
	}
	if err := h.send(hsServerHelloDone, nil); err != nil {
		return err
	}

	body, err = h.read(hsClientKeyExchange)
	if err != nil {
		return err
	}
	p = parser{b: body}
	id := p.bytes(int(p.u16()))
	if p.bad || p.rest() != 0 {
		return errors.New("TLS: malformed ClientKeyExchange")
	}
	if string(id) != h.cfg.Identity {
		return &refusal{115, fmt.Sprintf("unknown PSK identity %q", id)}
	}
	h.master = masterSecret(h.cfg.PSK, h.crandom[:], h.srandom[:])
	cw, sw := h.keys()
	if err := h.readChangeCipher(cw); err != nil {
		return err
	}
	if err := h.readFinished("client finished"); err != nil {
		return err
	}
	if err := h.changeCipher(sw); err != nil {
		return err
	}
	return h.send(hsFinished, h.finished("server finished"))
}

// keys expands the master secret into the client's and the server's
// write ciphers: MAC keys, encryption keys, IVs, client's first.
func (h *handshake) keys() (client, server recordCipher) {
	ml, kl, il, _ := keyLens(h.c.suite)
	kb := make([]byte, 2*(ml+kl+il))
	prf(kb, h.master, "key expansion", append(append([]byte(nil), h.srandom[:]...), h.crandom[:]...))
	cut := func(n int) []byte { b := kb[:n]; kb = kb[n:]; return b }
	cm, sm := cut(ml), cut(ml)
	ck, sk := cut(kl), cut(kl)
	ci, si := cut(il), cut(il)
	return newCipher(h.c.suite, cm, ck, ci), newCipher(h.c.suite, sm, sk, si)
}

func (h *handshake) finished(label string) []byte {
	v := make([]byte, finishedLen)
	prf(v, h.master, label, h.transcript.Sum(nil))
	return v
}

func (h *handshake) send(typ byte, body []byte) error {
	m := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	m = append(m, body...)
	h.transcript.Write(m)
	return h.c.writeRecord(recHandshake, m)
}

func (h *handshake) changeCipher(w recordCipher) error {
	if err := h.c.writeRecord(recChangeCipherSpec, []byte{1}); err != nil {
		return err
	}
	h.c.out = half{c: w}
	return nil
}

func (h *handshake) readChangeCipher(r recordCipher) error {
	if len(h.buf) != 0 {
		return errors.New("TLS: handshake data before ChangeCipherSpec")
	}
	typ, b, err := h.c.readRecord()
	if err != nil {
		return err
	}
	if typ != recChangeCipherSpec || len(b) != 1 || b[0] != 1 {
		return errors.New("TLS: expected ChangeCipherSpec")
	}
	h.c.in = half{c: r}
	return nil
}

func (h *handshake) readFinished(label string) error {
	want := h.finished(label)
	body, err := h.read(hsFinished)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(body, want) != 1 {
		return errors.New("TLS: Finished does not match: the peer holds another key")
	}
	if len(h.buf) != 0 {
		return errors.New("TLS: handshake data after Finished")
	}
	return nil
}

// read returns the body of the next handshake message, which must be of
// type want.
func (h *handshake) read(want byte) ([]byte, error) {
	typ, body, err := h.readAny()
	if err == nil && typ != want {
		err = fmt.Errorf("TLS: handshake message %d, expected %d", typ, want)
	}
	return body, err
}

func (h *handshake) readAny() (byte, []byte, error) {
	for {
		if len(h.buf) >= 4 {
			n := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
			if n > maxHandshake {
				return 0, nil, fmt.Errorf("TLS: handshake message of %d bytes", n)
			}
			if len(h.buf) >= 4+n {
				m := h.buf[:4+n]
				h.buf = h.buf[4+n:]
				h.transcript.Write(m)
				return m[0], m[4:], nil
			}
		}
		typ, b, err := h.c.readRecord()
		if err != nil {
			return 0, nil, err
		}
		if typ != recHandshake {
			return 0, nil, fmt.Errorf("TLS: record of type %d during the handshake", typ)
		}
		h.buf = append(h.buf, b...)
	}
}

// refusal is the server refusing the client's hello or key exchange,
// with the alert it sends.
type refusal struct {
	desc byte
	msg  string
}

func (r *refusal) Error() string { return "TLS: " + r.msg }

// parser reads big-endian fields, noting an overrun instead of failing.
type parser struct {
	b   []byte
	bad bool
}

func (p *parser) bytes(n int) []byte {
	if n > len(p.b) {
		p.bad = true
		n = len(p.b)
	}
	b := p.b[:n]
	p.b = p.b[n:]
	return b
}

func (p *parser) u8() byte {
	b := p.bytes(1)
	if len(b) < 1 {
		return 0
	}
	return b[0]
}

func (p *parser) u16() uint16 {
	b := p.bytes(2)
	if len(b) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (p *parser) rest() int { return len(p.b) }
