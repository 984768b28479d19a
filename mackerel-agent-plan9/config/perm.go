package config

import (
	"fmt"
	"os"
	"runtime"
)

// PermissionWarning is one line when file, which holds the API key, can
// be read by others than its owner (its group, or everyone), and "" when
// it cannot or its mode cannot be read. Plan 9 and Unix keep the
// permission bits alike; on Windows they say nothing of who may read.
func PermissionWarning(file string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	fi, err := os.Stat(file)
	if err != nil {
		return ""
	}
	perm := fi.Mode().Perm()
	if perm&0o044 == 0 {
		return ""
	}
	who := "everyone"
	if perm&0o004 == 0 {
		who = "its group"
	}
	return fmt.Sprintf("%s: mode %04o: %s can read the API key in it; chmod 600 %s", file, perm, who, file)
}
