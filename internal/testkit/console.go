package testkit

import (
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// A Console answers the commands written to it as a test says, as a file
// server's console (/srv/cwfs.cmd) would.
type Console struct {
	// Reply gives the reply to a command (without its newline); with no
	// Reply the console never answers.
	Reply func(cmd string) string
	// Hangup closes the console after the reply.
	Hangup bool
	// Endless makes the console, after its reply, say Endless again and
	// again until it is closed.
	Endless string
	// Unblock, when not nil, holds whoever opens the console until it is
	// closed, as an open over 9P to a server that hung; the open then
	// fails.
	Unblock chan struct{}
}

// Replying is a console that answers every command with reply.
func Replying(reply string) Console {
	return Console{Reply: func(string) string { return reply }}
}

// RealConsole is a console that answers every command with a real file
// server's reply from testdata/fsconsole (see ConsoleReply).
func RealConsole(t testing.TB, name string) Console {
	t.Helper()
	return Replying(string(ConsoleReply(t, name)))
}

// Consoles is a name space whose consoles, by unrooted name
// ("srv/cwfs.cmd"), answer as the map says; it implements ns.ConsoleFS.
type Consoles struct {
	ns.FS
	Consoles map[string]Console
}

// OpenConsole opens a console of the map.
func (c Consoles) OpenConsole(name string) (io.ReadWriteCloser, error) {
	con, ok := c.Consoles[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if con.Unblock != nil {
		<-con.Unblock
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrClosed}
	}
	pr, pw := io.Pipe()
	return &pipeConsole{r: pr, w: pw, c: con}, nil
}

type pipeConsole struct {
	r *io.PipeReader
	w *io.PipeWriter
	c Console
}

func (p *pipeConsole) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *pipeConsole) Write(b []byte) (int, error) {
	if p.c.Reply != nil {
		reply := p.c.Reply(strings.TrimSpace(string(b)))
		go func() {
			_, err := p.w.Write([]byte(reply))
			for err == nil && p.c.Endless != "" {
				_, err = p.w.Write([]byte(p.c.Endless))
			}
			if p.c.Hangup {
				p.w.Close()
			}
		}()
	}
	return len(b), nil
}

func (p *pipeConsole) Close() error { p.r.Close(); return p.w.Close() }
