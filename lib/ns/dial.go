package ns

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DialAddr turns a Plan 9 dial string ("tcp!gnot!17564", "net!gnot!9fs",
// "gnot!exportfs", "gnot") or a host:port into a host:port for net.Dial.
// A port left out is port; a service name is looked up in services. An
// error says what is wrong without the address, for the caller to name
// it as its user wrote it.
func DialAddr(addr, port string, services map[string]string) (string, error) {
	if addr == "" {
		return "", errors.New("empty")
	}
	host := addr
	if strings.Contains(addr, "!") {
		f := strings.Split(addr, "!")
		if len(f) == 3 {
			if f[0] != "tcp" && f[0] != "net" {
				return "", fmt.Errorf("network %q is not tcp", f[0])
			}
			f = f[1:]
		}
		if len(f) > 2 || f[0] == "" {
			return "", errors.New("not a dial string such as tcp!host!port")
		}
		host = f[0]
		if len(f) == 2 {
			port = f[1]
			if p, ok := services[port]; ok {
				port = p
			}
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				return "", fmt.Errorf("unknown service %q", port)
			}
		}
	} else if h, p, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", fmt.Errorf("bad port %q", p)
		}
		host, port = h, p
	} else if strings.Count(addr, ":") > 0 && !strings.HasPrefix(addr, "[") {
		return "", err
	} else {
		host = strings.Trim(addr, "[]")
	}
	if host == "" {
		return "", errors.New("no host")
	}
	return net.JoinHostPort(host, port), nil
}
