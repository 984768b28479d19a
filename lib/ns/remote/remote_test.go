package remote

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/rcputest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
)

// capture is a real 9front kernel's /dev, /net and /proc.
const capture = "../../../testdata/qemu-9front-2016-9emul-amd64-9pc64"

type domain struct {
	srv         *p9test.Server
	plain, rcpu string
	opts        Options
	auth        *rcputest.AuthServer
	host        *rcputest.Host
}

func keyFile(t *testing.T, line string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// newDomain serves the capture over plain 9P and over rcpu in the domain
// vm9, where glenda owns the host and mon is the monitoring user.
func newDomain(t *testing.T, password string) *domain {
	srv := &p9test.Server{Root: capture}
	d := &domain{srv: srv, plain: p9test.Start(t, srv)}
	d.auth = &rcputest.AuthServer{Users: map[string]string{"glenda": "host secret", "mon": "mon secret"}}
	authAddr := rcputest.StartAuth(t, d.auth)
	d.host = &rcputest.Host{User: "glenda", Dom: "vm9", Password: "host secret",
		Serve: func(c net.Conn) { p9test.Serve(srv, c) }}
	d.rcpu = "rcpu!" + strings.Replace(rcputest.StartHost(t, d.host), ":", "!", 1)
	d.opts = Options{
		KeyFile:    keyFile(t, "key proto=dp9ik dom=vm9 user=mon '!password="+password+"'"),
		AuthServer: authAddr,
		Timeout:    20 * time.Second,
	}
	return d
}

func TestSameNameSpace(t *testing.T) {
	d := newDomain(t, "mon secret")
	ctx := context.Background()
	plain, err := Dial(ctx, d.plain, Options{User: "mon"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	sec, err := Dial(ctx, d.rcpu, d.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Close()
	// The same reads cost the same 9P requests over either. A read's
	// Tclunk goes out after it returns: count once the fids are back.
	roots := d.srv.Fids()
	settled := func() int64 {
		for start := time.Now(); d.srv.Fids() != roots && time.Since(start) < 5*time.Second; {
			time.Sleep(time.Millisecond)
		}
		return d.srv.Requests()
	}
	var plainReqs, rcpuReqs int64
	for _, f := range []string{"dev/sysstat", "dev/swap", "net/ipifc/0/status", "proc/1/status"} {
		n := settled()
		a, err1 := plain.ReadFile(f)
		plainReqs += settled() - n
		n = settled()
		b, err2 := sec.ReadFile(f)
		rcpuReqs += settled() - n
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Fatalf("%s: plain %q %v, rcpu %q %v", f, a, err1, b, err2)
		}
	}
	if plainReqs != rcpuReqs {
		t.Fatalf("%d 9P requests over plain 9P, %d over rcpu", plainReqs, rcpuReqs)
	}
	a, _ := plain.ReadDir("proc")
	b, err := sec.ReadDir("proc")
	if err != nil || len(a) != len(b) {
		t.Fatalf("proc: %d entries plain, %d over rcpu (%v)", len(a), len(b), err)
	}
	if got := d.host.Scripts(); !reflect.DeepEqual(got, []string{rcpu.Script}) {
		t.Fatalf("scripts %q", got)
	}
}

// A wrong password is one clear error naming the user and the domain,
// after one connection to the auth server.
func TestWrongPassword(t *testing.T) {
	d := newDomain(t, "not it")
	_, err := Dial(context.Background(), d.rcpu, d.opts)
	var bk *dp9ik.BadKeyError
	if !errors.As(err, &bk) {
		t.Fatalf("err %v, want a BadKeyError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "user mon in domain vm9") || !strings.Contains(msg, "wrong password") || strings.Contains(msg, "not it") {
		t.Fatalf("message %q", msg)
	}
	if n := d.auth.Conns.Load(); n != 1 {
		t.Fatalf("%d connections to the auth server, want 1", n)
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		addr string
		o    Options
		want string
	}{
		{"tcp!gnot!17564", Options{}, ""},
		{"gnot:564", Options{}, ""},
		{"rcpu!gnot", Options{KeyFile: "k"}, ""},
		{"rcpu!gnot!17019", Options{KeyFile: "k", AuthServer: "tcp!auth!567"}, ""},
		{"rcpu!gnot", Options{}, "key file: an rcpu address needs one"},
		{"rcpu!", Options{KeyFile: "k"}, "not rcpu!host"},
		{"rcpu!gnot!x", Options{KeyFile: "k"}, "unknown service"},
		{"rcpu!gnot", Options{KeyFile: "k", AuthServer: "a!b!c!d"}, "auth server"},
		{"udp!gnot!1", Options{}, "not tcp"},
	} {
		err := Check(c.addr, c.o)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%q, %+v) = %v, want %q", c.addr, c.o, err, c.want)
		}
	}
}
