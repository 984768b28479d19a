package agent

import (
	"context"
	"fmt"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
)

// system is what the agent reads of a host: sysmetrics over its name
// space, with the file servers of its consoles.
type system struct {
	*sysmetrics.Collector
	fsys     ns.FS
	consoles []fsspace.Spec
	logf     func(string, ...any)
}

func newSystem(root string, consoles []fsspace.Spec, logf func(string, ...any)) system {
	fsys := ns.Dir(root)
	return system{Collector: sysmetrics.New(fsys, consoles, logf), fsys: fsys, consoles: consoles, logf: logf}
}

// Specs reads the host's specs. A part that cannot be read is left out
// and logged; only a host whose kernel cannot be described is an error.
func (s system) Specs(ctx context.Context) (sysmetrics.HostSpecs, error) {
	sp, err := sysmetrics.Specs(ctx, s.fsys, s.consoles)
	if err != nil && sp.Meta.Kernel == nil {
		return sp, err
	}
	if err != nil {
		s.logf("host specs: %v", err)
	}
	return sp, nil
}

// checkNamespace refuses a name space that is not a Plan 9 kernel's: a
// missing --root, an empty directory where a mount should be, or Linux's
// own root.
func checkNamespace(root string) error {
	what, ok := cli.Namespace{Root: root}.Describe(p9stats.NewFS(ns.Dir(root)).CheckPlan9(nil))
	if !ok {
		return nil // any other problem is its own source's to report
	}
	return fmt.Errorf("%s; on the Plan 9 host leave --root out, elsewhere point it at a mounted Plan 9 name space", what)
}
