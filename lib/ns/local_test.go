package ns

import (
	"path/filepath"
	"runtime"
	"testing"
)

func TestLocal(t *testing.T) {
	if Dir(filepath.Join(t.TempDir(), "missing")).(Local).Local() {
		t.Error("a missing directory is local")
	}
	if runtime.GOOS == "plan9" {
		if !Dir("/").(Local).Local() {
			t.Error("/ is not local on Plan 9")
		}
	}
}
