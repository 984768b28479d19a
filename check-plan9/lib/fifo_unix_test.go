//go:build unix

package checkplan9

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
