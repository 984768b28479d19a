package config

import (
	"fmt"
	"io"
)

// Test is configtest. It loads file as the agent would and writes on w,
// in the words of upstream's configtest, what is wrong: [CRITICAL] for a
// configuration that cannot be used, [WARNING] for an unknown key (the
// main file's as upstream words them, an included file's with its name)
// and for what works but should not be so, [NOTICE] for what is ignored
// or adjusted; then SUCCESS (file). It fails, as upstream's does, on an
// error or an unknown key; a Warning alone does not fail it.
//
// check, when not nil, tests what the file cannot tell and the agent
// can, once the file has loaded: the agent passes its --root name-space
// check (a fleet, which reads no --root, passes nil or skips it). Its
// error is a [CRITICAL] line and fails the test.
func Test(w io.Writer, file string, check func(*Config) error) bool {
	c, unexpected, err := Load(file, true)
	if err != nil {
		fmt.Fprintf(w, "[CRITICAL] failed to test config: %v\n", err)
		return false
	}
	for _, n := range c.Notices {
		fmt.Fprintf(w, "[NOTICE] %s\n", n)
	}
	for _, s := range c.Warnings {
		fmt.Fprintf(w, "[WARNING] %s\n", s)
	}
	for _, u := range unexpected {
		if u.File == file {
			fmt.Fprintf(w, "[WARNING] %s\n", u)
		} else {
			fmt.Fprintf(w, "[WARNING] %s: %s\n", u.File, u)
		}
	}
	ok := len(unexpected) == 0
	if check != nil {
		if err := check(c); err != nil {
			fmt.Fprintf(w, "[CRITICAL] %v\n", err)
			ok = false
		}
	}
	if ok {
		fmt.Fprintf(w, "SUCCESS (%s)\n", file)
	}
	return ok
}
