package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// ErrNotConnected is what a Session's reads return while it has no
// working connection.
var ErrNotConnected = errors.New("not connected")

// Session is one host's name space kept open across many reads: one 9P
// connection (plain or rcpu), dialled by Connect and dialled again after
// it fails or is Reset. It is an ns.FS and ns.ConsoleFS whose reads go to
// the connection of the moment. It is safe for concurrent use.
type Session struct {
	addr string
	opts Options

	mu     sync.Mutex
	c      *ninep.Client
	cancel context.CancelFunc
	dials  int
}

// NewSession returns a session with addr, not yet connected.
func NewSession(addr string, o Options) *Session { return &Session{addr: addr, opts: o} }

// Addr is the session's address.
func (s *Session) Addr() string { return s.addr }

// Connect dials unless the session has a working connection. ctx bounds
// the dial only; the connection lasts until Reset or Close.
func (s *Session) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil && s.c.Err() == nil {
		return nil
	}
	s.closeLocked()
	// The dial is bounded by ctx; the connection outlives it.
	life, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	c, err := Dial(life, s.addr, s.opts)
	if !stop() {
		// ctx ended while dialling: the connection went with it.
		if err == nil {
			c.Close()
		}
		cancel()
		if err == nil || ctx.Err() != nil {
			return fmt.Errorf("%s: no connection before the deadline", s.addr)
		}
		return err
	}
	if err != nil {
		cancel()
		return err
	}
	s.c, s.cancel = c, cancel
	s.dials++
	return nil
}

// Dials is how many connections the session made.
func (s *Session) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

// Reset drops the connection, failing the reads still waiting on it: a
// host that did not answer within its time. The next Connect dials.
func (s *Session) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

// Close is Reset, for good.
func (s *Session) Close() error {
	s.Reset()
	return nil
}

func (s *Session) closeLocked() {
	if s.c != nil {
		go s.c.Close() // it may wait a second for its reader
		s.cancel()
		s.c, s.cancel = nil, nil
	}
}

// Err is why the session has no working connection, nil when it has one.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return ErrNotConnected
	}
	return s.c.Err()
}

// Requests is how many 9P requests the current connection sent.
func (s *Session) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return 0
	}
	return s.c.Requests()
}

func (s *Session) client() (*ninep.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil, ErrNotConnected
	}
	return s.c, nil
}

func (s *Session) ReadFile(name string) ([]byte, error) {
	c, err := s.client()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return c.ReadFile(name)
}

func (s *Session) ReadDir(name string) ([]fs.DirEntry, error) {
	c, err := s.client()
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return c.ReadDir(name)
}

func (s *Session) Stat(name string) (fs.FileInfo, error) {
	c, err := s.client()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return c.Stat(name)
}

func (s *Session) Open(name string) (fs.File, error) {
	c, err := s.client()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return c.Open(name)
}

func (s *Session) OpenConsole(name string) (io.ReadWriteCloser, error) {
	c, err := s.client()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return c.OpenConsole(name)
}

var (
	_ ns.FS        = (*Session)(nil)
	_ ns.ConsoleFS = (*Session)(nil)
)
