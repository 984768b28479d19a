package ninep_test

import (
	"io"
	"net"
	"testing"
)

// silentServer returns the address of a server that accepts connections,
// reads whatever comes and never answers.
func silentServer(t *testing.T) (string, error) {
	return rawServer(t, nil), nil
}

// rawServer answers the first message of each connection with reply
// (nothing when reply is nil) and then only reads.
func rawServer(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 19) // a Tversion
				io.ReadFull(c, buf)
				if reply != nil {
					c.Write(reply)
				}
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
