// Command standin serves a stand-in for Mackerel's API, for trying
// mackerel-agent-plan9 without an account, or on a real Plan 9 kernel
// under QEMU, whose guest reaches the host's loopback at 10.0.2.2. It
// checks every request as package mackereltest does, and prints each
// call as a line of JSON.
//
//	go run ./internal/mackereltest/standin -addr 127.0.0.1:18080 >calls.jsonl
//
// and in the agent's configuration: apikey = "test-api-key",
// apibase = "http://127.0.0.1:18080" (http://10.0.2.2:18080 in a guest).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen on `host:port`")
	flag.Parse()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	s := mackereltest.New(func(format string, args ...any) {
		log.Printf("the agent broke the API's rules: %s", fmt.Sprintf(format, args...))
	})
	s.OnCall = func(c mackereltest.Call) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(struct {
			Time   time.Time       `json:"time"`
			Method string          `json:"method"`
			Path   string          `json:"path"`
			Query  string          `json:"query,omitempty"`
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body,omitempty"`
		}{c.At, c.Method, c.Path, encodeQuery(c.Query), c.Status, rawJSON(c.Body)})
	}
	log.Printf("stand-in Mackerel API on http://%s, API key %q", *addr, mackereltest.Key)
	log.Fatal(http.ListenAndServe(*addr, s))
}

func rawJSON(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}

func encodeQuery(q map[string][]string) string {
	if len(q) == 0 {
		return ""
	}
	b, _ := json.Marshal(q)
	return string(b)
}
