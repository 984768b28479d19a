//go:build !unix && !plan9

package statefile

import (
	"io/fs"
	"os"
)

func user() (string, error) { return "", nil }

func ownerOf(fi fs.FileInfo) (string, bool) { return "", false }

// read refuses what is not a regular file before opening it; the owner is
// not checked (Windows: the temporary directory is the user's own).
func read(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, unsafeErr(path, "not a regular file but %s", kind(fi))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	return readAll(path, fi.Size(), f.Read)
}

func syncDir(dir string) error { return nil }
