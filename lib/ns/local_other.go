//go:build !linux && !darwin && !freebsd

package ns

// localDisk cannot tell here whether root is on a local disk: on Plan 9,
// a directory other than / may be imported from another machine, and
// elsewhere there is no portable way to ask.
func localDisk(root string) bool { return false }
