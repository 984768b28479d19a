package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/jessevdk/go-flags"
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
