package p9stats

import (
	"net/netip"
	"strconv"
	"strings"
)

// IPInterface is /net/ipifc/N/status (ip/ipifc.c ipifcstate): a first line
// of keyword/value pairs and one tab-indented line per address.
type IPInterface struct {
	Index  int    // N, from the directory name; -1 when parsed directly
	Device string // medium device: /net/ether0, /dev/null for loopback
	MTU    int    // maxtu, including the link header

	// Packet and error counts, 32-bit ulongs that wrap at 2^32.
	PacketsIn, PacketsOut, ErrorsIn, ErrorsOut uint32

	// Speed (bits/s rate limit, 0 for none) and Delay (ms) exist only on
	// 9front since 2018; HasSpeed says whether the kernel printed them.
	Speed, Delay int
	HasSpeed     bool

	// Params holds every keyword/value pair of the first line.
	Params map[string]string

	Addrs []IPAddr
}

// IPAddr is one address line of an interface.
type IPAddr struct {
	// Prefix is the local address with its prefix length. The kernel
	// prints masks for the 128-bit form, so an IPv4 /24 appears as /120;
	// Prefix is converted back to /24. A non-contiguous mask leaves the
	// prefix length at the address's full width and is kept in Mask.
	Prefix netip.Prefix
	Mask   string
	// Net is the remote address for point-to-point links, else the
	// network address.
	Net netip.Addr
	// Lifetimes in seconds; 4294967295 means infinite.
	ValidLifetime, PreferredLifetime uint32
}

// ParseIPInterface parses /net/ipifc/N/status in the classic or 9front
// layout.
func ParseIPInterface(b []byte) (IPInterface, error) {
	ls := lines(b)
	if len(ls) == 0 {
		return IPInterface{}, &ParseError{Msg: "empty file"}
	}
	ifc := IPInterface{Index: -1, Params: map[string]string{}}
	f := strings.Fields(ls[0])
	if len(f)%2 != 0 || len(f) == 0 || f[0] != "device" {
		return IPInterface{}, lineError(1, ls[0], "want keyword/value pairs starting with device")
	}
	for i := 0; i < len(f); i += 2 {
		ifc.Params[f[i]] = f[i+1]
	}
	ifc.Device = ifc.Params["device"]
	var err error
	num := func(key string, bits int) uint64 {
		v, ok := ifc.Params[key]
		if !ok || err != nil {
			return 0
		}
		var n uint64
		if n, err = parseUint(v, bits); err != nil {
			err = lineError(1, ls[0], "%s: %v", key, err)
		}
		return n
	}
	ifc.MTU = int(num("maxtu", 31))
	ifc.PacketsIn = uint32(num("pktin", 32))
	ifc.PacketsOut = uint32(num("pktout", 32))
	ifc.ErrorsIn = uint32(num("errin", 32))
	ifc.ErrorsOut = uint32(num("errout", 32))
	if _, ok := ifc.Params["speed"]; ok {
		ifc.HasSpeed = true
		ifc.Speed = int(num("speed", 31))
		ifc.Delay = int(num("delay", 31))
	}
	if err != nil {
		return IPInterface{}, err
	}
	for i, l := range ls[1:] {
		af := strings.Fields(l)
		if len(af) == 0 {
			continue // an interface without addresses prints an empty line
		}
		a, err := parseIPAddr(af)
		if err != nil {
			return IPInterface{}, lineError(i+2, l, "%v", err)
		}
		ifc.Addrs = append(ifc.Addrs, a)
	}
	return ifc, nil
}

func parseIPAddr(f []string) (IPAddr, error) {
	if len(f) != 5 {
		return IPAddr{}, strconv.ErrSyntax
	}
	ip, err := netip.ParseAddr(f[0])
	if err != nil {
		return IPAddr{}, err
	}
	netw, err := netip.ParseAddr(f[2])
	if err != nil {
		return IPAddr{}, err
	}
	a := IPAddr{Mask: f[1], Net: netw}
	bits := ip.BitLen()
	if p, ok := strings.CutPrefix(f[1], "/"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 128 {
			return IPAddr{}, strconv.ErrSyntax
		}
		if ip.Is4() {
			n -= 96
		}
		if n >= 0 && n <= bits {
			bits = n
		}
	}
	a.Prefix = netip.PrefixFrom(ip, bits)
	v, err := parseUint(f[3], 32)
	if err != nil {
		return IPAddr{}, err
	}
	p, err := parseUint(f[4], 32)
	if err != nil {
		return IPAddr{}, err
	}
	a.ValidLifetime, a.PreferredLifetime = uint32(v), uint32(p)
	return a, nil
}
