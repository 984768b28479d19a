package pidfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary, run again with PIDFILE_HELPER set, is an agent for
// these tests: a process of the same name as the test.
//
//	hold PATH   wait for a line on stdin, take PATH, print "ok" or the
//	            error, and hold it until stdin ends
//	idle        run, holding nothing, until stdin ends
func TestMain(m *testing.M) {
	mode, path, _ := strings.Cut(os.Getenv("PIDFILE_HELPER"), " ")
	switch mode {
	case "":
		os.Exit(m.Run())
	case "hold":
		in := bufio.NewReader(os.Stdin)
		in.ReadString('\n')
		p, err := Acquire(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(0)
		}
		if p.Guarded() {
			fmt.Println("ok")
		} else {
			fmt.Println("ok unguarded")
		}
		io.Copy(io.Discard, in)
		p.Release()
	case "idle":
		fmt.Println("ok")
		io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(0)
}

// helper is a running helper process.
type helper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startHelper(t *testing.T, mode string) *helper {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "PIDFILE_HELPER="+mode)
	c.SysProcAttr = helperAttr()
	in, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: c, in: in, out: bufio.NewReader(out)}
	t.Cleanup(h.stop)
	return h
}

// line reads the helper's answer.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	c := make(chan res, 1)
	go func() { s, err := h.out.ReadString('\n'); c <- res{s, err} }()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("helper %d: %v", h.cmd.Process.Pid, r.err)
		}
		return strings.TrimSuffix(r.s, "\n")
	case <-time.After(30 * time.Second):
		t.Fatalf("helper %d: no answer in 30s", h.cmd.Process.Pid)
		return ""
	}
}

// hold makes a hold helper take the file and returns its answer.
func (h *helper) hold(t *testing.T) string {
	io.WriteString(h.in, "go\n")
	return h.line(t)
}

func (h *helper) stop() {
	h.in.Close()
	h.cmd.Wait()
}
