package config

import (
	"os"
)

// home is $home, or /usr/$user where, as in cpurc and cpustart, $home is
// not set.
func home() string {
	if h := os.Getenv("home"); h != "" {
		return h
	}
	if u := os.Getenv("user"); u != "" {
		return "/usr/" + u
	}
	return "/"
}
