package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// validHostName is what a [host.NAME] may be called: a name that is a
// directory name on every system the agent runs on (<root>/hosts/NAME),
// and that a shell or rc needs no quotes for.
var validHostName = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]{0,63}$`)

// resolveHost checks and resolves the table t of host name, defined in
// file.
func resolveHost(file, name string, t *hostTable) (*Host, error) {
	if !validHostName.MatchString(name) {
		return nil, fmt.Errorf("the name %q is not a directory name the agent can keep the host's state under: up to 64 letters, digits, '-', '_' and '.', beginning with a letter or digit", name)
	}
	if t.Address == "" {
		return nil, errors.New("address is missing: give the host's 9P export, such as tcp!" + name + "!17564")
	}
	if err := checkAddress(t.Address); err != nil {
		return nil, fmt.Errorf("address: %v", err)
	}
	key, err := checkAuth(file, t)
	if err != nil {
		return nil, err
	}
	if err := checkRoles(t.Roles); err != nil {
		return nil, fmt.Errorf("roles: %v", err)
	}
	h := &Host{Name: name, Address: t.Address, DisplayName: t.DisplayName, Roles: t.Roles, Timeout: DefaultHostTimeout,
		AuthKey: key, AuthServer: t.AuthServer}
	if t.Timeout != nil {
		h.Timeout = time.Duration(*t.Timeout)
		if h.Timeout < MinHostTimeout || h.Timeout > MaxHostTimeout {
			return nil, fmt.Errorf("timeout = %v is out of range: %v to %v", h.Timeout, MinHostTimeout, MaxHostTimeout)
		}
	}
	seen := map[string]string{}
	for _, line := range t.Checks {
		args, err := splitCheck(line)
		if err != nil {
			return nil, fmt.Errorf("checks: %q: %v", line, err)
		}
		c := HostCheck{Name: checkName(args), Args: args}
		if c.Name == "" {
			return nil, fmt.Errorf("checks: %q: no letter or digit to name the check by on Mackerel", line)
		}
		if other, ok := seen[c.Name]; ok {
			return nil, fmt.Errorf("checks: %q and %q are both named %s on Mackerel; give one of them another option", other, line, c.Name)
		}
		seen[c.Name] = line
		h.Checks = append(h.Checks, c)
	}
	if h.Consoles, err = parseConsoles(t.Consoles); err != nil {
		return nil, fmt.Errorf("consoles: %v", err)
	}
	return h, nil
}

// Ports of the rcpu transport's services, by their names in Plan 9's
// /lib/ndb/common.
const (
	rcpuPort   = "17019"
	ticketPort = "567"
)

// checkAddress accepts the addresses a fleet host can be read at, as
// --9p takes them: a plain 9P export (tcp!host!port, host!port, host:port,
// host) or rcpu!ADDR, the host's rcpu service, ADDR in the same forms.
func checkAddress(addr string) error {
	if rest, ok := strings.CutPrefix(addr, "rcpu!"); ok {
		if rest == "" {
			return fmt.Errorf("%q is not rcpu!host or rcpu!host!port", addr)
		}
		return checkDialString(addr, rest, "rcpu", rcpuPort)
	}
	return checkDialString(addr, addr, "", "")
}

// checkDialString checks s, the dial-string part of addr, as the 9P
// client parses it, with the service name svc standing for port.
func checkDialString(addr, s, svc, port string) error {
	if svc != "" {
		if h, ok := strings.CutSuffix(s, "!"+svc); ok {
			s = h + "!" + port
		}
	}
	if _, err := ninep.ParseAddr(s); err != nil {
		msg := strings.TrimPrefix(err.Error(), "9P: ")
		if s != addr {
			msg = strings.Replace(msg, strconv.Quote(s), strconv.Quote(addr), 1)
		}
		return errors.New(msg)
	}
	return nil
}

// checkAuth checks the rcpu keys of t, defined in file, and returns the
// key file's path. An rcpu address needs the key; plain 9P takes neither.
// The key file must be a regular file that only its owner can read, as
// the transport requires; that it holds a dp9ik key is the transport's to
// say.
func checkAuth(file string, t *hostTable) (key string, err error) {
	if !strings.HasPrefix(t.Address, "rcpu!") {
		if t.AuthKey != "" || t.AuthServer != "" {
			return "", errors.New("auth_key and auth_server are for rcpu! addresses only")
		}
		return "", nil
	}
	if t.AuthKey == "" {
		return "", errors.New("auth_key is missing: an rcpu address needs the file of the dp9ik key (key proto=dp9ik dom=DOMAIN user=USER !password=…)")
	}
	if t.AuthServer != "" {
		if err := checkDialString(t.AuthServer, t.AuthServer, "ticket", ticketPort); err != nil {
			return "", fmt.Errorf("auth_server: %v", err)
		}
	}
	key = t.AuthKey
	if !filepath.IsAbs(key) {
		key = filepath.Join(filepath.Dir(file), key)
	}
	fi, err := os.Stat(key)
	if err != nil {
		return "", fmt.Errorf("auth_key: %s: %v", key, bare(err))
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("auth_key: %s is not a regular file", key)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("auth_key: %s: mode %04o: others can read or change the key; chmod 600 %s", key, perm, key)
	}
	return key, nil
}

// splitCheck splits a check line into words as Plan 9's tokenize(2)
// does (and rc, for the quoting an operator types): blanks separate
// words; a single-quoted part, anywhere in a word, is taken as it is, ”
// within it standing for one quote.
func splitCheck(line string) ([]string, error) {
	var args []string
	var w strings.Builder
	inWord, quoted := false, false
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quoted && r == '\'':
			if i+1 < len(rs) && rs[i+1] == '\'' {
				w.WriteRune('\'')
				i++
			} else {
				quoted = false
			}
		case quoted:
			w.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case unicode.IsSpace(r):
			if inWord {
				args = append(args, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("a quote is not closed")
	}
	if inWord {
		args = append(args, w.String())
	}
	switch {
	case len(args) == 0:
		return nil, errors.New("empty: give a check-plan9 subcommand and its options, such as \"procs --broken\"")
	case args[0] == "check-plan9" || strings.HasSuffix(args[0], "/check-plan9"):
		return nil, errors.New("leave out check-plan9: the line is its subcommand and options, run in-process")
	case strings.HasPrefix(args[0], "-"):
		return nil, errors.New("begin with check-plan9's subcommand, such as procs, not an option")
	}
	return args, nil
}

// checkName names a check on Mackerel by its words, so that two lines
// with the same subcommand get two monitors: what Mackerel refuses in a
// name is left out, and what remains of each word is joined by '-'.
func checkName(args []string) string {
	var parts []string
	for _, a := range args {
		var b strings.Builder
		for _, r := range a {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
				b.WriteRune(r)
			} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteRune('-')
			}
		}
		if s := strings.Trim(b.String(), "-"); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "-")
}
