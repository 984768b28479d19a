package sysmetrics

import (
	"context"
	"fmt"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// readSpaces asks every file server at once, through the code the plugin's
// --fs uses, and returns by ctx's deadline: fsspace gives up on a console
// that does not answer by then, but opening one can itself hang over 9P,
// so a server still busy at the deadline is given an error here.
func readSpaces(ctx context.Context, fsys ns.FS, specs []fsspace.Spec) []fsspace.Result {
	type result struct {
		i int
		r fsspace.Result
	}
	ch := make(chan result, len(specs)) // buffered: late servers never block
	for i, spec := range specs {
		go func() {
			sp, err := fsspace.Read(ctx, fsys, spec)
			ch <- result{i, fsspace.Result{Spec: spec, Spaces: sp, Err: err}}
		}()
	}
	out := make([]fsspace.Result, len(specs))
	done := make([]bool, len(specs))
	for range specs {
		select {
		case r := <-ch:
			out[r.i], done[r.i] = r.r, true
		case <-ctx.Done():
			for i, spec := range specs {
				if !done[i] {
					out[i] = fsspace.Result{Spec: spec, Err: fmt.Errorf("%s: no answer before the deadline (%w)", spec, ctx.Err())}
				}
			}
			return out
		}
	}
	return out
}
