package p9stats

import (
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// captureFS reads a capture of a real kernel (testkit.Captures).
func captureFS(name string) FS { return NewDefaultFS(testkit.Capture(name)) }

// lufiaFS reads the third-party captures of lufia/plan9stats (testkit.Lufia).
func lufiaFS(t *testing.T) FS { return NewDefaultFS(testkit.Lufia(t)) }

// mapFS is an in-memory name space holding the given files.
func mapFS(files map[string]string) FS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return NewFS(m)
}

func itoa(n int) string { return strconv.Itoa(n) }
