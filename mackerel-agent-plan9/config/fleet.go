package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	checkplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/check-plan9/lib"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/tokenize"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/remote"
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

// checkAddress accepts the addresses a fleet host can be read at, as
// --9p takes them: a plain 9P export (tcp!host!port, host!port, host:port,
// host) or rcpu!ADDR, the host's rcpu service, ADDR in the same forms.
func checkAddress(addr string) error {
	err := remote.Check(addr, remote.Options{KeyFile: "-"})
	var oe *remote.OptionError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "9P: "))
	}
	return nil
}

// checkAuth checks the rcpu keys of t, defined in file, and returns the
// key file's path. An rcpu address needs the key; plain 9P takes neither.
// The key file must hold a dp9ik key and be a regular file that only its
// owner can read, as the transport requires: it reads it here as it will
// at every dial.
func checkAuth(file string, t *hostTable) (key string, err error) {
	if !remote.IsRcpu(t.Address) {
		if t.AuthKey != "" || t.AuthServer != "" {
			return "", errors.New("auth_key and auth_server are for rcpu! addresses only")
		}
		return "", nil
	}
	if t.AuthKey == "" {
		return "", errors.New("auth_key is missing: an rcpu address needs the file of the dp9ik key (key proto=dp9ik dom=DOMAIN user=USER !password=…)")
	}
	key = t.AuthKey
	if !filepath.IsAbs(key) {
		key = filepath.Join(filepath.Dir(file), key)
	}
	var oe *remote.OptionError
	if err := remote.Check(t.Address, remote.Options{KeyFile: key, AuthServer: t.AuthServer}); errors.As(err, &oe) && oe.Option == "auth server" {
		return "", fmt.Errorf("auth_server: %v", oe.Err)
	} else if err != nil {
		return "", err
	}
	if _, err := rcpu.ReadKeyFile(key); err != nil {
		return "", fmt.Errorf("auth_key: %v", err)
	}
	return key, nil
}

// splitCheck splits a check line into words as Plan 9's tokenize(2)
// does (and rc, for the quoting an operator types), and checks that they
// are a check-plan9 line that can run in-process.
func splitCheck(line string) ([]string, error) {
	args, err := tokenize.Split(line)
	switch {
	case err != nil:
		return nil, err
	case len(args) == 0:
		return nil, errors.New("empty: give a check-plan9 subcommand and its options, such as \"procs --broken\"")
	case args[0] == "check-plan9" || strings.HasSuffix(args[0], "/check-plan9"):
		return nil, errors.New("leave out check-plan9: the line is its subcommand and options, run in-process")
	case strings.HasPrefix(args[0], "-"):
		return nil, errors.New("begin with check-plan9's subcommand, such as procs, not an option")
	}
	if _, err := checkplan9.Parse(args); err != nil {
		return nil, err
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
