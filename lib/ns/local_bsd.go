//go:build darwin || freebsd

package ns

import "syscall"

// localTypes are the names statfs(2) gives file systems on local disks or
// in memory; macfuse, nfs, smbfs and the rest are not among them.
var localTypes = map[string]bool{
	"apfs": true, "hfs": true, "ufs": true, "zfs": true, "tmpfs": true,
	"msdos": true, "msdosfs": true, "exfat": true, "ext2fs": true,
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
	return localTypes[string(name)]
}
