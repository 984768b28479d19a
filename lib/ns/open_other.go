//go:build !linux && !darwin && !freebsd && !plan9

package ns

import (
	"io"
	"os"
)

func openRead(p string) (io.ReadCloser, error) { return os.Open(p) }
