//go:build !plan9

package config

import (
	"os"
)

// home is $HOME, or / when there is none (a service started without
// one).
func home() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}
