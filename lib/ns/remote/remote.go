// Package remote opens a Plan 9 host's name space from an address, for
// every command and the agent alike: tcp!host!port or host:port is a
// plain 9P export (exportfs on a listener, unauthenticated), and
// rcpu!host[!port] the host's rcpu service, authenticated with dp9ik and
// encrypted with TLS as rimport(1) does (package rcpu).
package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu"
)

// Options are what an address may need besides itself.
type Options struct {
	User  string // the 9P user to attach as (plain 9P; rcpu attaches as the key's user)
	Aname string // the tree to attach
	// KeyFile holds the dp9ik key for rcpu addresses (rcpu.ReadKeyFile).
	KeyFile string
	// AuthServer is the auth server for rcpu addresses; empty means
	// p9auth.DOMAIN.
	AuthServer string
	// Timeout, if set, bounds dialling, authentication and attaching,
	// besides ctx.
	Timeout time.Duration
}

// IsRcpu reports whether addr names an rcpu service.
func IsRcpu(addr string) bool { return strings.HasPrefix(addr, "rcpu!") }

// OptionError is an address, or an option it needs, that cannot work.
type OptionError struct {
	Option string // "address", "key file" or "auth server"
	Err    error
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Check reports what is wrong with addr and o before anything is dialled.
func Check(addr string, o Options) error {
	if !IsRcpu(addr) {
		if _, err := ninep.ParseAddr(addr); err != nil {
			return &OptionError{"address", err}
		}
		return nil
	}
	if _, err := rcpu.ParseAddr(addr); err != nil {
		return &OptionError{"address", err}
	}
	if o.KeyFile == "" {
		return &OptionError{"key file", errors.New("an rcpu address needs one (key proto=dp9ik dom=… user=… !password=…)")}
	}
	if o.AuthServer != "" {
		if _, err := rcpu.AuthAddr(o.AuthServer, ""); err != nil {
			return &OptionError{"auth server", err}
		}
	}
	return nil
}

// Dial opens the name space at addr. Dialling, authenticating and
// attaching end by ctx's deadline and o.Timeout; the name space lasts
// until ctx ends.
func Dial(ctx context.Context, addr string, o Options) (*ninep.Client, error) {
	if err := Check(addr, o); err != nil {
		return nil, err
	}
	dctx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	user := o.User
	var conn net.Conn
	if IsRcpu(addr) {
		hostport, _ := rcpu.ParseAddr(addr)
		key, err := rcpu.ReadKeyFile(o.KeyFile)
		if err != nil {
			return nil, err
		}
		user = key.User
		if conn, err = rcpu.Dial(dctx, hostport, rcpu.Config{Key: key, AuthServer: o.AuthServer}); err != nil {
			return nil, fmt.Errorf("%s: %w", addr, err)
		}
	} else {
		hostport, _ := ninep.ParseAddr(addr)
		var d net.Dialer
		var err error
		if conn, err = d.DialContext(dctx, "tcp", hostport); err != nil {
			return nil, fmt.Errorf("9P %s: %w", addr, err)
		}
	}
	dl, _ := dctx.Deadline()
	conn.SetDeadline(dl)
	c, err := ninep.NewClient(ctx, conn, addr, user, o.Aname)
	if err != nil {
		return nil, err
	}
	dl, _ = ctx.Deadline()
	conn.SetDeadline(dl)
	return c, nil
}
