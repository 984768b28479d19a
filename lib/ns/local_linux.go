package ns

import "syscall"

// localMagic reports whether magic, the f_type of statfs(2), is that of a
// file system on a local disk or in memory. v9fs (0x01021997), FUSE
// (0x65735546), NFS, CIFS and the rest are not. (A switch rather than a
// map, which every run would build when the program starts.)
func localMagic(magic uint32) bool {
	switch magic {
	case 0xEF53, // ext2, ext3, ext4
		0x58465342, // xfs
		0x9123683E, // btrfs
		0x2FC12FC1, // zfs
		0xF2F52010, // f2fs
		0xCA451A4E, // bcachefs
		0x01021994, // tmpfs
		0x858458F6, // ramfs
		0x794C7630, // overlayfs
		0x73717368, // squashfs
		0xE0F5E1E2, // erofs
		0x4D44,     // vfat
		0x2011BAB0, // exfat
		0x3153464A, // jfs
		0x52654973: // reiserfs
		return true
	}
	return false
}

func localDisk(root string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return false
	}
	return localMagic(uint32(st.Type))
}
