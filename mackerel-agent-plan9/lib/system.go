package agent

import (
	"context"
	"fmt"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
)

// system is the agent's view of the host it runs on: sysmetrics over the
// name space, with the file servers of [filesystems] consoles.
type system struct {
	*sysmetrics.Collector
	fsys     ns.FS
	consoles []fsspace.Spec
	logf     func(string, ...any)
}

func newSystem(fsys ns.FS, consoles []fsspace.Spec, logf func(string, ...any)) System {
	return system{Collector: sysmetrics.New(fsys, consoles, logf), fsys: fsys, consoles: consoles, logf: logf}
}

// Specs reads the host's specs. A part that cannot be read is left out
// and logged; only a host whose kernel cannot be described is an error.
func (s system) Specs(ctx context.Context) (HostSpecs, error) {
	sp, err := sysmetrics.Specs(ctx, s.fsys, s.consoles)
	if err != nil && sp.Meta.Kernel == nil {
		return sp, err
	}
	if err != nil {
		s.logf("host specs: %v", err)
	}
	return sp, nil
}

// checkNamespace refuses a name space that holds none of a Plan 9
// kernel's files: a missing mount, or a Linux root.
func checkNamespace(fsys ns.FS, root string) error {
	st := p9stats.NewFS(fsys)
	_, err1 := st.SysStat()
	_, err2 := st.Swap()
	if p9stats.IsNotExist(err1) && p9stats.IsNotExist(err2) {
		return fmt.Errorf("%s is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap (give --root a mounted Plan 9 name space, or run the agent on the Plan 9 host)", root)
	}
	return nil
}
