package p9stats

import (
	"strings"
)

// IPStats is /net/ipifc/stats (ip/ip.c ipstats), the IP MIB counters.
// Every counter is 64-bit; Forwarding and DefaultTTL are settings.
type IPStats struct {
	Forwarding, DefaultTTL                               uint64
	InReceives, InHdrErrors, InAddrErrors, ForwDatagrams uint64
	InUnknownProtos, InDiscards, InDelivers              uint64
	OutRequests, OutDiscards, OutNoRoutes                uint64
	ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails       uint64
	FragOKs, FragFails, FragCreates                      uint64
}

// ParseIPStats parses /net/ipifc/stats.
func ParseIPStats(b []byte) (IPStats, error) {
	var s IPStats
	err := counterFields(b, map[string]*uint64{
		"Forwarding": &s.Forwarding, "DefaultTTL": &s.DefaultTTL,
		"InReceives": &s.InReceives, "InHdrErrors": &s.InHdrErrors,
		"InAddrErrors": &s.InAddrErrors, "ForwDatagrams": &s.ForwDatagrams,
		"InUnknownProtos": &s.InUnknownProtos, "InDiscards": &s.InDiscards,
		"InDelivers": &s.InDelivers, "OutRequests": &s.OutRequests,
		"OutDiscards": &s.OutDiscards, "OutNoRoutes": &s.OutNoRoutes,
		"ReasmTimeout": &s.ReasmTimeout, "ReasmReqds": &s.ReasmReqds,
		"ReasmOKs": &s.ReasmOKs, "ReasmFails": &s.ReasmFails,
		"FragOKs": &s.FragOKs, "FragFails": &s.FragFails, "FragCreates": &s.FragCreates,
	}, nil, "InReceives")
	return s, err
}

// TCPStats is /net/tcp/stats (ip/tcp.c tcpstats). The counters count
// segments, not bytes, and are 64-bit; CurrEstab is a gauge. Lines a
// kernel lacks (9front has no MaxSegment) stay zero.
type TCPStats struct {
	MaxConn, MaxSegment                           uint64
	ActiveOpens, PassiveOpens, EstabResets        uint64
	CurrEstab                                     uint64
	InSegs, OutSegs                               uint64
	RetransSegs, RetransSegsSent, RetransTimeouts uint64
	InErrs, OutRsts, CsumErrs, HlenErrs, LenErrs  uint64
	Resequenced, OutOfOrder                       uint64
}

// ParseTCPStats parses /net/tcp/stats.
func ParseTCPStats(b []byte) (TCPStats, error) {
	var s TCPStats
	err := counterFields(b, map[string]*uint64{
		"MaxConn": &s.MaxConn, "MaxSegment": &s.MaxSegment,
		"ActiveOpens": &s.ActiveOpens, "PassiveOpens": &s.PassiveOpens,
		"EstabResets": &s.EstabResets, "CurrEstab": &s.CurrEstab,
		"InSegs": &s.InSegs, "OutSegs": &s.OutSegs,
		"RetransSegs": &s.RetransSegs, "RetransSegsSent": &s.RetransSegsSent,
		"RetransTimeouts": &s.RetransTimeouts, "InErrs": &s.InErrs,
		"OutRsts": &s.OutRsts, "CsumErrs": &s.CsumErrs, "HlenErrs": &s.HlenErrs,
		"LenErrs": &s.LenErrs, "Resequenced": &s.Resequenced, "OutOfOrder": &s.OutOfOrder,
	}, nil, "InSegs")
	return s, err
}

// UDPStats is /net/udp/stats (ip/udp.c udpstats). InDatagrams and
// OutDatagrams are 64-bit; NoPorts and InErrors are 32-bit ulongs that
// wrap at 2^32.
type UDPStats struct {
	InDatagrams, OutDatagrams uint64
	NoPorts, InErrors         uint64
}

// ParseUDPStats parses /net/udp/stats.
func ParseUDPStats(b []byte) (UDPStats, error) {
	var s UDPStats
	err := counterFields(b, map[string]*uint64{
		"InDatagrams": &s.InDatagrams, "OutDatagrams": &s.OutDatagrams,
		"NoPorts": &s.NoPorts, "InErrors": &s.InErrors,
	}, map[string]int{"NoPorts": 32, "InErrors": 32}, "InDatagrams")
	return s, err
}

// ICMPStats is /net/icmp/stats (ip/icmp.c icmpstats). All counters are
// 32-bit ulongs that wrap at 2^32.
type ICMPStats struct {
	InMsgs, InErrors, OutMsgs, CsumErrs, LenErrs, HlenErrs uint64
	// Types holds the per-type in/out counts by name ("EchoRequest", or the
	// number for unnamed types).
	Types map[string][2]uint32
}

// ParseICMPStats parses /net/icmp/stats (and /net/icmpv6/stats).
func ParseICMPStats(b []byte) (ICMPStats, error) {
	s := ICMPStats{Types: map[string][2]uint32{}}
	fields := map[string]*uint64{
		"InMsgs": &s.InMsgs, "InErrors": &s.InErrors, "OutMsgs": &s.OutMsgs,
		"CsumErrs": &s.CsumErrs, "LenErrs": &s.LenErrs, "HlenErrs": &s.HlenErrs,
	}
	kv, err := keyValues(b)
	if err != nil {
		return ICMPStats{}, err
	}
	for _, p := range kv {
		f := strings.Fields(p.value)
		if dst, ok := fields[p.key]; ok && len(f) == 1 {
			v, err := parseUint(f[0], 32)
			if err != nil {
				return ICMPStats{}, lineError(p.line, p.text, "%v", err)
			}
			*dst = v
			continue
		}
		if len(f) != 2 {
			return ICMPStats{}, lineError(p.line, p.text, "want in and out counts")
		}
		in, err1 := parseUint(f[0], 32)
		out, err2 := parseUint(f[1], 32)
		if err1 != nil || err2 != nil {
			return ICMPStats{}, lineError(p.line, p.text, "bad number")
		}
		s.Types[p.key] = [2]uint32{uint32(in), uint32(out)}
	}
	if len(kv) == 0 {
		return ICMPStats{}, &ParseError{Msg: "empty file"}
	}
	return s, nil
}

// ILStats is /net/il/stats (ip/il.c ilxstats), 9front only: IL was removed
// from Bell Labs Plan 9 and restored by 9front. 64-bit counters.
type ILStats struct {
	InMsgs, OutMsgs, CsumErrs, HlenErr, LenErrs        uint64
	OutOfOrder, Retrans, DupMsg, DupBytes, DroppedMsgs uint64
}

// ParseILStats parses /net/il/stats.
func ParseILStats(b []byte) (ILStats, error) {
	var s ILStats
	err := counterFields(b, map[string]*uint64{
		"InMsgs": &s.InMsgs, "OutMsgs": &s.OutMsgs, "CsumErrs": &s.CsumErrs,
		"HlenErr": &s.HlenErr, "LenErrs": &s.LenErrs, "OutOfOrder": &s.OutOfOrder,
		"Retrans": &s.Retrans, "DupMsg": &s.DupMsg, "DupBytes": &s.DupBytes,
		"DroppedMsgs": &s.DroppedMsgs,
	}, nil, "InMsgs")
	return s, err
}
