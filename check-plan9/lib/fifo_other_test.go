//go:build !unix

package checkplan9

import "errors"

func mkfifo(path string) error { return errors.New("unsupported") }
