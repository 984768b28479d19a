// Package rcpu opens an authenticated, encrypted 9P stream to a 9front
// host the way rimport(1) does: it dials the host's rcpu service (TCP
// 17019, where tlssrv -a waits), authenticates both ends with dp9ik
// through the domain's auth server, speaks TLS keyed by the session
// secret, and sends the rc script that the service runs as the
// authenticated user: here a read-only exportfs of /dev, /net and /proc
// only. The stream it returns carries 9P for package ninep.
package rcpu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/tlspsk"
)

// Ports of the rcpu and auth (ticket) services.
const (
	DefaultPort = "17019"
	AuthPort    = "567"
)

// Script is what the host runs once authenticated: exportfs serving
// its root read-only (-R) with only /dev, /net and /proc let through (-P;
// exportfs ANDs every + pattern, matched against /-rooted paths).
const Script = `exec /bin/exportfs -R -r / -P <{echo '+ ^/(dev|net|proc)(/.*)?$'}` + "\n"

// Config says how to reach and authenticate to a host.
type Config struct {
	Key *dp9ik.Key
	// AuthServer is the auth server's address (tcp!host!567, host:port
	// or a host name); empty means p9auth.DOMAIN, as 9front's authdial
	// falls back to without /lib/ndb.
	AuthServer string
	// Suites limits the TLS suites offered; nil offers all three.
	Suites []uint16
}

// Dial connects to the rcpu service at hostport and returns the stream
// on which the host's exportfs speaks 9P. Everything ends by ctx's
// deadline.
func Dial(ctx context.Context, hostport string, cfg Config) (net.Conn, error) {
	if cfg.Key == nil {
		return nil, errors.New("rcpu: no key")
	}
	authAddr, err := AuthAddr(cfg.AuthServer, cfg.Key.Dom)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("rcpu: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	fail := func(err error) (net.Conn, error) {
		c.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	info, err := dp9ik.Client(ctx, c, dp9ik.Config{
		Key: cfg.Key,
		DialAuth: func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", authAddr)
		},
	})
	if err != nil {
		return fail(err)
	}
	t, err := tlspsk.Client(c, &tlspsk.Config{Identity: "p9secret", PSK: info.Secret, Suites: cfg.Suites})
	clear(info.Secret)
	if err != nil {
		return fail(fmt.Errorf("rcpu: %w", err))
	}
	// The service reads a line with the script's length, then the
	// script (rc/bin/service/tcp17019).
	if _, err := io.WriteString(t, strconv.Itoa(len(Script))+"\n"+Script); err != nil {
		return fail(fmt.Errorf("rcpu: sending the script: %w", err))
	}
	return &scriptConn{Conn: t}, nil
}

// AuthAddr turns an auth server address into host:port.
func AuthAddr(addr, dom string) (string, error) {
	if addr == "" {
		addr = "p9auth." + dom
	}
	hp, err := ns.DialAddr(addr, AuthPort, map[string]string{"ticket": AuthPort})
	if err != nil {
		return "", fmt.Errorf("%q: %v", addr, err)
	}
	return hp, nil
}

// ParseAddr turns rcpu!host[!port] into host:port.
func ParseAddr(addr string) (string, error) {
	rest, ok := strings.CutPrefix(addr, "rcpu!")
	if !ok || rest == "" {
		return "", fmt.Errorf("%q is not rcpu!host or rcpu!host!port", addr)
	}
	hp, err := ns.DialAddr(rest, DefaultPort, map[string]string{"rcpu": DefaultPort})
	if err != nil {
		return "", fmt.Errorf("%q: %v", addr, err)
	}
	return hp, nil
}

// scriptConn turns text where 9P should begin into an error: the script
// or the host's rc complaining (its standard error is the connection),
// as a 9P message cannot begin with printable text.
type scriptConn struct {
	net.Conn
	checked bool
	pending []byte // the first bytes, once checked
}

// maxComplaint bounds the text shown.
const maxComplaint = 200

func (c *scriptConn) Read(p []byte) (int, error) {
	if !c.checked {
		c.checked = true
		b := make([]byte, 4)
		if _, err := io.ReadFull(c.Conn, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = errors.New("rcpu: the host closed the connection before exportfs answered (is /bin/exportfs there, and -R and -P known to it?)")
			}
			return 0, err
		}
		if printable(b) {
			return 0, c.complaint(b)
		}
		c.pending = b
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// complaint reads the rest of a line of text that began with b.
func (c *scriptConn) complaint(b []byte) error {
	var one [1]byte
	for len(b) < maxComplaint && b[len(b)-1] != '\n' {
		if _, err := c.Conn.Read(one[:]); err != nil {
			break
		}
		b = append(b, one[0])
	}
	return fmt.Errorf("rcpu: the host said %q instead of speaking 9P", strings.TrimSpace(string(b)))
}

func printable(b []byte) bool {
	for _, c := range b {
		if (c < ' ' || c > '~') && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}
