package cli

import (
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jessevdk/go-flags"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

type opts struct {
	Prefix  string `long:"metric-key-prefix"`
	Warning string `short:"w" long:"warning"`
	Flag    bool   `short:"r" long:"per-cpu"`
	WithUser
}

func TestFixArgs(t *testing.T) {
	var o opts
	p := flags.NewParser(&o, flags.Default)
	for _, tt := range []struct{ in, want []string }{
		// Go's flag package spellings, as other Mackerel plugins take them.
		{[]string{"-metric-key-prefix=p9", "-root", "/n/gnot"}, []string{"--metric-key-prefix=p9", "--root", "/n/gnot"}},
		{[]string{"-9p=tcp!gnot!17564", "-9p-user", "glenda"}, []string{"--9p=tcp!gnot!17564", "--9p-user", "glenda"}},
		// Short options, clusters and values stay as they are.
		{[]string{"-w", "5", "-w5", "-rw", "5"}, []string{"-w", "5", "-w5", "-rw", "5"}},
		{[]string{"--warning=5", "-unknown", "-"}, []string{"--warning=5", "-unknown", "-"}},
		// Nothing after -- is touched.
		{[]string{"--", "-root"}, []string{"--", "-root"}},
	} {
		if got := FixArgs(p, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := p.ParseArgs(FixArgs(p, []string{"-metric-key-prefix=p9", "-user", "glenda", "-root=/x"})); err != nil {
		t.Fatal(err)
	}
	if o.Prefix != "p9" || o.Resolve().AttachAs != "glenda" || o.Root != "/x" {
		t.Errorf("%+v", o)
	}
}

func TestNamespace(t *testing.T) {
	a := Namespace{Root: "/"}.Identity()
	b := Namespace{NineP: "tcp!gnot!17564"}.Identity()
	c := Namespace{NineP: "tcp!gnot!17564", Aname: "/n/other"}.Identity()
	if a == b || b == c {
		t.Errorf("identities %q %q %q", a, b, c)
	}
	w := WithUser{Namespace: Namespace{AttachAs: "bootes"}, User: "glenda"}
	if w.Resolve().AttachAs != "bootes" {
		t.Error("--9p-user should win over --user")
	}
	if v := Version(); v == "" || strings.Contains(v, "\n") {
		t.Errorf("version %q", v)
	}
}

func TestCheck(t *testing.T) {
	parse := func(args ...string) (opts, *flags.Parser) {
		var o opts
		p := flags.NewParser(&o, flags.Default&^flags.PrintErrors)
		if _, err := p.ParseArgs(args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return o, p
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--root", "/mnt/gnot"}, ""},
		{[]string{"--9p", "tcp!gnot!17564", "--aname", "/usr", "--user", "glenda"}, ""},
		{[]string{"--9p", "gnot:17564", "--9p-user", "glenda"}, ""},
		{[]string{"--9p", ""}, "--9p: empty; give the address of a Plan 9 host's exportfs, such as tcp!gnot!17564"},
		{[]string{"--9p=tcp!gnot!17564!x"}, `--9p: "tcp!gnot!17564!x": not a dial string such as tcp!host!port`},
		{[]string{"--9p", "udp!gnot!564"}, `--9p: "udp!gnot!564": network "udp" is not tcp`},
		{[]string{"--root", "/", "--9p", "tcp!gnot!17564"}, "--root and --9p: give one or the other"},
		{[]string{"--root", ""}, "--root: empty; give a directory, such as / on a Plan 9 host or /mnt/gnot"},
		{[]string{"--aname", "/usr"}, "--aname: only with --9p"},
		{[]string{"--9p-user", "glenda"}, "--9p-user: only with --9p"},
		{[]string{"--user", "glenda"}, "--user: only with --9p, as the user to attach as"},
		{[]string{"--9p", "rcpu!gnot", "--auth-key", "/etc/p9key", "--auth-server", "tcp!auth!567"}, ""},
		{[]string{"--9p", "rcpu!gnot!17019", "--auth-key", "k"}, ""},
		{[]string{"--9p", "rcpu!gnot"}, "--9p rcpu!gnot: give the dp9ik key file with --auth-key FILE"},
		{[]string{"--9p", "rcpu!", "--auth-key", "k"}, `--9p: "rcpu!" is not rcpu!host or rcpu!host!port`},
		{[]string{"--9p", "rcpu!gnot", "--auth-key", "k", "--auth-server", "a!b!c!d"}, `--auth-server: "a!b!c!d": not a dial string such as tcp!host!port`},
		{[]string{"--9p", "tcp!gnot!17564", "--auth-key", "k"}, "--auth-key: only with --9p rcpu!host"},
		{[]string{"--auth-server", "auth"}, "--auth-server: only with --9p rcpu!host"},
	} {
		o, p := parse(tt.args...)
		err := o.WithUser.Check(p.Command)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("%q: got %v, want %q", tt.args, err, tt.want)
		}
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if err := CheckTimeout(d); err == nil || !strings.HasPrefix(err.Error(), "--timeout "+d.String()+": ") {
			t.Errorf("%v: %v", d, err)
		}
	}
	if err := CheckTimeout(time.Millisecond); err != nil {
		t.Error(err)
	}
}

func TestExplain(t *testing.T) {
	root := Namespace{Root: "/mnt/gnot"}
	nine := Namespace{NineP: "tcp!gnot!17564"}
	const toRoot = "; point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)"
	for _, tt := range []struct {
		n    Namespace
		err  error
		want string
	}{
		{root, &p9stats.NamespaceError{Problem: p9stats.NamespaceMissing, Err: fs.ErrNotExist}, "--root /mnt/gnot does not exist" + toRoot},
		{root, &p9stats.NamespaceError{Problem: p9stats.NamespaceEmpty}, "--root /mnt/gnot is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap" + toRoot},
		{Namespace{Root: "/"}, fmt.Errorf("collecting: %w", &p9stats.NamespaceError{Problem: p9stats.NamespaceLinux, File: "/proc/1/status"}),
			"--root / is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format)" + toRoot},
		{root, &p9stats.NamespaceError{Problem: p9stats.NamespaceNotDir}, "--root /mnt/gnot is not a directory" + toRoot},
		{nine, &p9stats.NamespaceError{Problem: p9stats.NamespaceEmpty},
			"--9p tcp!gnot!17564 is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap; export the Plan 9 host's root (exportfs -r /), letting /dev, /net and /proc through any -P pattern"},
		{Namespace{NineP: "gnot:564", Aname: "/usr"}, &p9stats.NamespaceError{Problem: p9stats.NamespaceLinux, File: "/proc/1/status"},
			"--9p gnot:564 --aname /usr is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format); give the address of a Plan 9 host's exportfs"},
	} {
		got, ok := tt.n.Explain(tt.err)
		if !ok || got != tt.want {
			t.Errorf("%v:\ngot  %q\nwant %q", tt.err, got, tt.want)
		}
	}
	if _, ok := root.Explain(fs.ErrNotExist); ok {
		t.Error("explained an error that is not about the name space")
	}
}
