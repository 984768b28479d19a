package ns

import "syscall"

// localMagic are the f_type values of statfs(2) of file systems on local
// disks or in memory. v9fs (0x01021997), FUSE (0x65735546), NFS, CIFS and
// the rest are not among them.
var localMagic = map[uint32]bool{
	0xEF53:     true, // ext2, ext3, ext4
	0x58465342: true, // xfs
	0x9123683E: true, // btrfs
	0x2FC12FC1: true, // zfs
	0xF2F52010: true, // f2fs
	0xCA451A4E: true, // bcachefs
	0x01021994: true, // tmpfs
	0x858458F6: true, // ramfs
	0x794C7630: true, // overlayfs
	0x73717368: true, // squashfs
	0xE0F5E1E2: true, // erofs
	0x4D44:     true, // vfat
	0x2011BAB0: true, // exfat
	0x3153464A: true, // jfs
	0x52654973: true, // reiserfs
}

func localDisk(root string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return false
	}
	return localMagic[uint32(st.Type)]
}
