package ns

import "testing"

func TestLocalMagic(t *testing.T) {
	for magic, local := range map[uint32]bool{
		0xEF53: true, 0x01021994: true, 0x794C7630: true, uint32(0x9123683E): true,
		0x01021997: false, // v9fs: a mounted Plan 9 host
		0x65735546: false, // FUSE: 9pfuse
		0x6969:     false, // NFS
	} {
		if localMagic(magic) != local {
			t.Errorf("%#x: local %v", magic, !local)
		}
	}
	// This machine's /proc is neither.
	if localDisk("/proc") {
		t.Error("/proc is taken for a local disk")
	}
}
