package runner

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// Output bounds: a plugin that prints megabytes costs its own lines, not
// the agent's memory.
const (
	MaxStdout = 4 << 20
	MaxStderr = 64 << 10
)

// output is a command's standard output and error: pipes made here, so
// that the command's exit and the end of its output are seen apart (the
// output ends only when every process holding it has ended).
type output struct {
	w, r   [2]*os.File // stdout, stderr: the command's ends, and ours
	buf    [2]*boundedBuffer
	done   chan struct{} // closed when both reads have ended
	closed sync.Once
}

func newOutput() (*output, error) {
	o := &output{
		buf:  [2]*boundedBuffer{{max: MaxStdout}, {max: MaxStderr}},
		done: make(chan struct{}),
	}
	for i := range o.w {
		r, w, err := os.Pipe()
		if err != nil {
			o.closeAll()
			return nil, err
		}
		o.r[i], o.w[i] = r, w
	}
	return o, nil
}

// read closes the command's ends, which it now holds, and reads ours
// until every holder has closed them.
func (o *output) read() {
	o.closeWriters()
	var wg sync.WaitGroup
	for i := range o.r {
		wg.Go(func() { io.Copy(o.buf[i], o.r[i]) })
	}
	go func() { wg.Wait(); close(o.done) }()
}

func (o *output) closeWriters() {
	for _, f := range o.w {
		if f != nil {
			f.Close()
		}
	}
}

// closeAll closes every end; it also ends the reads where closing a pipe
// does that (not on Plan 9, where a read waiting on a pipe stays until a
// writer writes or goes).
func (o *output) closeAll() {
	o.closeWriters()
	o.closed.Do(func() {
		for _, f := range o.r {
			if f != nil {
				f.Close()
			}
		}
	})
}

func (o *output) ended() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// boundedBuffer keeps the first max bytes written to it and counts the
// rest, so that the command is never blocked on a full pipe.
type boundedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := max(b.max-b.buf.Len(), 0); room < len(p) {
		b.dropped += int64(len(p) - room)
		p = p[:room]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *boundedBuffer) truncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped > 0
}
