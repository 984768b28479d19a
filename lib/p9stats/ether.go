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

// OctetCounters names the pair of byte counters that one family of
// ethernet drivers prints in /net/etherN/ifstats, and their width. Plan 9
// keeps no byte counters of its own (netif's stats count packets); only
// these drivers have them, per the 9front and 9legacy sources. Two
// readings of a device can be subtracted only when their OctetCounters
// are equal.
type OctetCounters struct {
	Name    string // short and without blanks: "e1000-total"
	In, Out string // the ifstats lines' names
	Bits    uint   // 64, or 32 for a C ulong, which wraps at 2^32
	Drivers string // the drivers that print them
}

// octetCounters are the byte counters this package knows, in the order
// they are preferred when a driver prints more than one pair.
var octetCounters = []OctetCounters{
	// "%s: %llud %llud", the driver's 64-bit total and the register
	// read now. Lines are left out while zero; Total counts all frames,
	// Good only good ones, and QEMU's e1000 fills only Total.
	{"e1000-total", "Total Octets Received", "Total Octets Transmitted", 64, "ether82543gc, ether82563, etherigbe (Intel e1000 family)"},
	{"e1000-good", "Good Octets Received", "Good Octets Transmitted", 64, "ether82543gc, ether82563, etherigbe (Intel e1000 family)"},
	// "bytesrcvdok: %lud" of a C long.
	{"elnk3", "bytesrcvdok", "bytesxmittedok", 32, "etherelnk3 (3Com EtherLink III, 3c5x9, 3c59x, 3c90x)"},
	// "received bytes: %llud" of the MIB's 64-bit counter.
	{"ether1116", "received bytes", "transmitted bytes", 64, "ether1116 (Marvell Kirkwood: SheevaPlug, GuruPlug, OpenRD)"},
}

// ByteCounters returns the byte counters of every driver family that has
// them, in order of preference.
func ByteCounters() []OctetCounters { return append([]OctetCounters(nil), octetCounters...) }

// IfStats holds what this package understands of /net/etherN/ifstats,
// whose format belongs to each driver. Only the drivers of ByteCounters
// report byte counters; for every other (virtio, rtl8169, ixgbe, …)
// HasOctets is false rather than a guess.
type IfStats struct {
	// InOctets and OutOctets are the driver's cumulative byte counters,
	// Octets says which ones: the first pair of ByteCounters whose lines
	// are present (an e1000 line is left out while zero, so one line
	// without its partner counts the partner as 0).
	InOctets, OutOctets uint64
	Octets              OctetCounters
	HasOctets           bool
	// Counters holds every "Name: n" and "Name: total delta" line's
	// first number, by name.
	Counters map[string]uint64
}

// OctetsOf returns the byte counters c of the device, so that an
// interval's two readings read the same pair; ok is false when neither
// line is there.
func (s IfStats) OctetsOf(c OctetCounters) (in, out uint64, ok bool) {
	in, okIn := s.Counters[c.In]
	out, okOut := s.Counters[c.Out]
	return in, out, okIn || okOut
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
	for _, c := range octetCounters {
		if in, out, ok := s.OctetsOf(c); ok {
			s.InOctets, s.OutOctets, s.Octets, s.HasOctets = in, out, c, true
			break
		}
	}
	return s
}
