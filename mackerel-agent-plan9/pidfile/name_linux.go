package pidfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

const namesKnown = true

// isAgent compares the names the kernel keeps (/proc/N/comm, cut at 15
// bytes alike for both). A zombie is not a live agent.
func isAgent(pid int) bool {
	self, err := comm(selfPid)
	if err != nil || self == "" {
		return false
	}
	other, err := comm(pid)
	return err == nil && other == self
}

func comm(pid int) (string, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	stat, err := readSmall(dir + "stat")
	if err != nil {
		return "", err
	}
	// The state follows the name, which is in parentheses and may hold
	// anything.
	if f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:]); len(f) == 0 || f[0] == "Z" {
		return "", errors.New("not running")
	}
	name, err := readSmall(dir + "comm")
	return strings.TrimSuffix(name, "\n"), err
}

// readSmall reads the first 4 KiB of a file of /proc.
func readSmall(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, err := f.Read(b)
	return string(b[:n]), err
}
