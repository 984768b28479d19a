package p9stats

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"
)

// The captures in ../../testdata were read from real kernels booted under
// QEMU (see testdata/README.md). The names say which kernel.
const (
	front11879amd64 = "qemu-9front-11879-amd64-9pc64"
	front11879x386  = "qemu-9front-11879-386-9pc"
	front2016amd64  = "qemu-9front-2016-9emul-amd64-9pc64"
	front2016x386   = "qemu-9front-2016-9emul-386-9pcf"
	legacy386       = "qemu-rsc-plan9-9legacy-386-9pc"
	legacy9k        = "qemu-rsc-plan9-9legacy-amd64-9k10"
)

var captures = []string{front11879amd64, front11879x386, front2016amd64, front2016x386, legacy386, legacy9k}

func captureDir(name string) string { return filepath.Join("..", "..", "testdata", name) }

func captureFS(name string) FS { return NewDefaultFS(captureDir(name)) }

func readCapture(t testing.TB, name, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captureDir(name), file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lufiaDir is third-party data (a 2-CPU 9legacy machine with an e1000 NIC
// and fossil disks) that may be read from ../shared but not copied here.
const lufiaDir = "../../../shared/testdata/real/lufia-plan9stats/testdata"

func lufiaFS(t *testing.T) FS {
	t.Helper()
	if _, err := os.Stat(lufiaDir); err != nil {
		t.Skip("third-party captures not available:", err)
	}
	return NewDefaultFS(lufiaDir)
}

// mapFS is an in-memory name space holding the given files.
func mapFS(files map[string]string) FS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return NewFS(m)
}

func itoa(n int) string { return strconv.Itoa(n) }
