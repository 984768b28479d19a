//go:build darwin || freebsd

package ns

import "syscall"

// localType reports whether name, as statfs(2) gives it, is that of a
// file system on a local disk or in memory; macfuse, nfs, smbfs and the
// rest are not.
func localType(name string) bool {
	switch name {
	case "apfs", "hfs", "ufs", "zfs", "tmpfs", "msdos", "msdosfs", "exfat", "ext2fs":
		return true
	}
	return false
}

func localDisk(root string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return false
	}
	var name []byte
	for _, c := range st.Fstypename {
		if c == 0 {
			break
		}
		name = append(name, byte(c))
	}
	return localType(string(name))
}
