package p9stats

import (
	"encoding/hex"
	"net"
	"strconv"
	"strings"
)

// EtherStats is /net/etherN/stats (#lN/etherN/stats), printed by
// port/netif.c for every driver. It counts packets, never bytes.
type EtherStats struct {
	InPackets, OutPackets uint64 // 64-bit counters

	// Link is 1 when the driver says the link is up. Some drivers never
	// set it (Intel igbe under QEMU shows 0).
	Link int

	// Error counters are C ints: they wrap at 2^32 (printed negative past
	// 2^31), so they are kept here as the unsigned 32-bit value.
	CRCErrors, Overflows, SoftOverflows, FramingErrors, BufferErrors, OutputErrors uint32

	Promiscuous int    // number of promiscuous opens
	Mbps        int    // link speed
	Addr        string // MAC address, 12 lower-case hex digits
}

// ParseEtherStats parses /net/etherN/stats. Keys contain blanks ("crc
// errs"), so each line is split at its first colon; unknown keys are
// ignored.
func ParseEtherStats(b []byte) (EtherStats, error) {
	kv, err := keyValues(b)
	if err != nil {
		return EtherStats{}, err
	}
	var s EtherStats
	seen := 0
	for _, p := range kv {
		var err error
		switch p.key {
		case "in":
			s.InPackets, err = parseUint(p.value, 64)
		case "out":
			s.OutPackets, err = parseUint(p.value, 64)
		case "link":
			s.Link, err = strconv.Atoi(p.value)
		case "crc errs":
			s.CRCErrors, err = parseInt32(p.value)
		case "overflows":
			s.Overflows, err = parseInt32(p.value)
		case "soft overflows":
			s.SoftOverflows, err = parseInt32(p.value)
		case "framing errs":
			s.FramingErrors, err = parseInt32(p.value)
		case "buffer errs":
			s.BufferErrors, err = parseInt32(p.value)
		case "output errs":
			s.OutputErrors, err = parseInt32(p.value)
		case "prom":
			s.Promiscuous, err = strconv.Atoi(p.value)
		case "mbps":
			s.Mbps, err = strconv.Atoi(p.value)
		case "addr":
			s.Addr = p.value
		default:
			continue
		}
		if err != nil {
			return EtherStats{}, lineError(p.line, p.text, "bad number")
		}
		if p.key == "in" || p.key == "out" {
			seen++
		}
	}
	if seen != 2 {
		return EtherStats{}, &ParseError{Msg: "no in and out packet counts"}
	}
	return s, nil
}

// parseInt32 reads a C int as printed by %d and returns its bits.
func parseInt32(s string) (uint32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	return uint32(int32(v)), err
}

// ParseEtherAddr parses /net/etherN/addr: 12 hex digits, no newline.
func ParseEtherAddr(b []byte) (net.HardwareAddr, error) {
	s := strings.TrimSpace(string(b))
	a, err := hex.DecodeString(s)
	if err != nil || len(a) != 6 {
		return nil, lineError(1, s, "want 12 hex digits")
	}
	return net.HardwareAddr(a), nil
}

// IfStats holds what this package understands of /net/etherN/ifstats,
// whose format belongs to each driver. Only the Intel e1000 family
// (ether82563, etherigbe) reports byte counters; for every other driver
// (virtio, rtl8169, ixgbe, …) HasOctets is false rather than a guess.
type IfStats struct {
	// InOctets and OutOctets are the driver's cumulative 64-bit "Total
	// Octets Received/Transmitted" counters, or the "Good Octets" ones
	// when only those are printed (a line appears only once non-zero).
	InOctets, OutOctets uint64
	HasOctets           bool
	// Counters holds every "Name: total [delta]" line's cumulative total,
	// by name, for drivers in the e1000 style.
	Counters map[string]uint64
}

// ParseIfStats parses /net/etherN/ifstats. It never fails: a format it
// does not know yields no counters.
func ParseIfStats(b []byte) IfStats {
	s := IfStats{Counters: map[string]uint64{}}
	for _, l := range lines(b) {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue // eeprom and phy dump continuation lines
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 || len(f) > 2 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		s.Counters[strings.TrimSpace(k)] = n
	}
	pick := func(dir string) (uint64, bool) {
		if n, ok := s.Counters["Total Octets "+dir]; ok {
			return n, true
		}
		n, ok := s.Counters["Good Octets "+dir]
		return n, ok
	}
	in, okIn := pick("Received")
	out, okOut := pick("Transmitted")
	if okIn || okOut {
		s.InOctets, s.OutOctets, s.HasOctets = in, out, true
	}
	return s
}
