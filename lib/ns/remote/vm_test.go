package remote

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/rcputest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/tlspsk"
)

// TestVM runs against a real 9front guest that .ci/rcpu-vm/run starts
// (guest.rc configures it); without RCPU_VM it is skipped. RCPU_VM is
// plain!rcpu!auth: the host:port of the plain exportfs, the rcpu service
// and the auth server.
func TestVM(t *testing.T) {
	env := os.Getenv("RCPU_VM")
	if env == "" {
		t.Skip("RCPU_VM not set: no 9front guest (see .ci/rcpu-vm/run)")
	}
	f := strings.Split(env, "!")
	if len(f) != 3 {
		t.Fatalf("RCPU_VM=%q, want plain!rcpu!auth host:port each", env)
	}
	plainAddr, rcpuAddr, authAddr := f[0], f[1], f[2]
	rcpuDial := "rcpu!" + strings.Replace(rcpuAddr, ":", "!", 1)
	opts := Options{
		KeyFile:    keyFile(t, "key proto=dp9ik dom=vm9 user=mon !password='monitor password'"),
		AuthServer: authAddr,
		Timeout:    60 * time.Second,
	}
	ctx := context.Background()

	// The guest boots and compiles for a while: poll the plain export.
	var plain *ninep.Client
	for start := time.Now(); ; time.Sleep(2 * time.Second) {
		c, err := Dial(ctx, plainAddr, Options{User: "glenda", Timeout: 5 * time.Second})
		if err == nil {
			if _, err = c.ReadFile("dev/sysname"); err == nil {
				plain = c
				break
			}
			c.Close()
		}
		if time.Since(start) > 4*time.Minute {
			t.Fatalf("no plain export at %s: %v", plainAddr, err)
		}
	}
	defer plain.Close()

	t.Run("same name space", func(t *testing.T) {
		sec, err := Dial(ctx, rcpuDial, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer sec.Close()
		for _, dir := range []string{".", "dev", "net", "proc"} {
			a, err1 := plain.ReadDir(dir)
			b, err2 := sec.ReadDir(dir)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: %v, %v", dir, err1, err2)
			}
			t.Logf("/%s: %d entries over plain 9P, %d over rcpu", dir, len(a), len(b))
			if dir == "." {
				var names []string
				for _, e := range b {
					names = append(names, e.Name())
				}
				if !slices.Equal(names, []string{"dev", "net", "proc"}) {
					t.Errorf("rcpu root holds %q, want only dev, net, proc", names)
				}
			}
		}
		for _, file := range []string{"dev/sysname", "dev/swap", "dev/sysstat", "net/ipifc/0/status", "proc/1/status"} {
			b, err := sec.ReadFile(file)
			if err != nil {
				t.Fatalf("%s over rcpu: %v", file, err)
			}
			t.Logf("%s over rcpu: %d bytes: %.60q", file, len(b), b)
		}
		user, _ := sec.ReadFile("dev/user")
		t.Logf("dev/user over rcpu: %q", user)
		if string(user) != "mon" {
			t.Errorf("rcpu session runs as %q, want mon", user)
		}
		if _, err := sec.ReadFile("adm/users"); err == nil {
			t.Error("adm/users readable over rcpu: the export is not limited to dev, net and proc")
		}
		// exportfs -R lets a file open for reading and writing, but
		// refuses every write.
		if k, err := sec.OpenConsole("dev/null"); err != nil {
			t.Logf("open for writing refused: %v", err)
		} else {
			_, err := k.Write([]byte("x"))
			k.Close()
			if err == nil {
				t.Error("wrote to dev/null: the export is not read-only")
			}
			t.Logf("write refused: %v", err)
		}
		t.Logf("9P requests over rcpu: %d", sec.Requests())
	})

	t.Run("every suite", func(t *testing.T) {
		key, err := rcpu.ReadKeyFile(opts.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tlspsk.Suites {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			conn, err := rcpu.Dial(ctx, rcpuAddr, rcpu.Config{Key: key, AuthServer: authAddr, Suites: []uint16{s}})
			if err != nil {
				t.Logf("%s: %v", tlspsk.SuiteName(s), err)
				cancel()
				continue
			}
			c, err := ninep.NewClient(ctx, conn, rcpuDial, key.User, "")
			if err == nil {
				var b []byte
				b, err = c.ReadFile("dev/sysstat")
				t.Logf("%s: dev/sysstat %d bytes", tlspsk.SuiteName(s), len(b))
				c.Close()
			}
			if err != nil {
				t.Errorf("%s: %v", tlspsk.SuiteName(s), err)
			}
			cancel()
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		o := opts
		o.KeyFile = keyFile(t, "key proto=dp9ik dom=vm9 user=mon !password=guess")
		_, err := Dial(ctx, rcpuDial, o)
		var bk *dp9ik.BadKeyError
		if !errors.As(err, &bk) {
			t.Fatalf("err %v, want a BadKeyError", err)
		}
		t.Logf("refused: %v", err)
	})

	// One byte changed in either direction, at points in p9any, dp9ik,
	// the TLS handshake and the 9P traffic, ends the session.
	t.Run("tampered byte", func(t *testing.T) {
		for _, dir := range []string{"to host", "from host"} {
			// Bytes 95 to 150 from the host are the hostid and uid of
			// its ticket request, which the client fills in itself.
			for _, at := range []int{3, 40, 160, 260, 330, 420, 600} {
				p := rcputest.StartFlipper(t, rcpuAddr, dir == "to host", at)
				o := opts
				o.Timeout = 30 * time.Second
				c, err := Dial(ctx, "rcpu!"+strings.Replace(p.Addr, ":", "!", 1), o)
				if err == nil {
					_, err = c.ReadFile("dev/sysstat")
					c.Close()
				}
				if !p.Flipped() {
					t.Errorf("%s: the session ended before byte %d", dir, at)
				}
				if p.Flipped() && err == nil {
					t.Errorf("%s, byte %d changed: the session went on", dir, at)
				}
				t.Logf("%s, byte %d (flipped %v): %v", dir, at, p.Flipped(), err)
			}
		}
	})
}
