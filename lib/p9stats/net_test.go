package p9stats

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestEtherCaptures(t *testing.T) {
	tests := []struct {
		capture string
		in, out uint64
	}{
		{testkit.Front11879amd64, 3686, 2881},
		{testkit.Front11879x386, 3472, 2816},
		{testkit.Front2016amd64, 3239, 2525},
		{testkit.Front2016x386, 3230, 2525},
		{testkit.Legacy386, 3719, 3113},
		{testkit.Legacy9k, 7004, 5294},
	}
	for _, tt := range tests {
		p := captureFS(tt.capture)
		names, err := p.EtherNames()
		if err != nil || !reflect.DeepEqual(names, []string{"ether0"}) {
			t.Fatalf("%s: %v %v", tt.capture, names, err)
		}
		s, err := p.EtherStats("ether0")
		if err != nil {
			t.Fatal(err)
		}
		want := EtherStats{InPackets: tt.in, OutPackets: tt.out, Link: 1, Mbps: 1000, Addr: "525400123456"}
		if s != want {
			t.Errorf("%s: got %+v, want %+v", tt.capture, s, want)
		}
		// All captures use virtio-net, which has no traffic counters.
		is, err := p.EtherIfStats("ether0")
		if err != nil || is.HasOctets {
			t.Errorf("%s: virtio ifstats gave octets: %+v %v", tt.capture, is, err)
		}
		a, err := p.EtherAddr("ether0")
		if err != nil || a != "52:54:00:12:34:56" {
			t.Errorf("%s: addr %q %v", tt.capture, a, err)
		}
	}
}

// The third-party capture has an Intel e1000 NIC whose ifstats carries
// byte counters ("Total Octets Received: 766515009 3170").
func TestIfStatsIntel(t *testing.T) {
	is, err := lufiaFS(t).EtherIfStats("ether0")
	if err != nil {
		t.Fatal(err)
	}
	if !is.HasOctets || is.InOctets != 766515009 || is.OutOctets != 136030888 {
		t.Errorf("%+v", is)
	}
	if is.Counters["rintr"] != 8726641 {
		t.Errorf("rintr %d", is.Counters["rintr"])
	}
}

func TestIfStatsFormats(t *testing.T) {
	// ether82563 prints Good and Total octets; Total wins.
	is := ParseIfStats([]byte("Good Octets Received: 1933123411 1560\nGood Octets Transmitted: 112233441 830\nTotal Octets Received: 1933877123 1560\nTotal Octets Transmitted: 112233441 830\nspeeds: 10:0 100:0 1000:1 ?:0\neeprom: 5452 0009\n        3000 1000\n"))
	if !is.HasOctets || is.InOctets != 1933877123 || is.OutOctets != 112233441 {
		t.Errorf("%+v", is)
	}
	// ixgbe: "name  value" without a colon; rtl8169: packets only.
	for _, in := range []string{"crc error  5\nrx ok  1000\n", "TxOk: 5\nRxOk: 10\nphy: 01 02\n", ""} {
		if is := ParseIfStats([]byte(in)); is.HasOctets {
			t.Errorf("%q: octets %+v", in, is)
		}
	}
}

func TestEtherStatsWrap(t *testing.T) {
	// Error counters are C ints: past 2^31 they print negative.
	s, err := ParseEtherStats([]byte("in: 5\nout: 6\ncrc errs: -2\n"))
	if err != nil || s.CRCErrors != 1<<32-2 {
		t.Errorf("%+v %v", s, err)
	}
	for _, in := range []string{"in: 5\n", "in 5\nout 6\n", "in: x\nout: 1\n"} {
		if _, err := ParseEtherStats([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestIPInterfaces(t *testing.T) {
	ifs, err := captureFS(testkit.Front11879amd64).IPInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 {
		t.Fatalf("%d interfaces", len(ifs))
	}
	i := ifs[0]
	if i.Index != 0 || i.Device != "/net/ether0" || i.MTU != 1514 || i.PacketsIn != 4514 || i.PacketsOut != 3572 ||
		!i.HasSpeed || i.Speed != 0 || i.Delay != 40 || i.Params["reachtime"] != "0" {
		t.Errorf("%+v", i)
	}
	want := []IPAddr{
		{netip.MustParsePrefix("fe80::5054:ff:fe12:3456/64"), "/64", netip.MustParseAddr("fe80::"), 4294967295, 4294967295},
		{netip.MustParsePrefix("10.0.2.15/24"), "/120", netip.MustParseAddr("10.0.2.0"), 4294967295, 4294967295},
		{netip.MustParsePrefix("fec0::5054:ff:fe12:3456/64"), "/64", netip.MustParseAddr("fec0::"), 86400, 14400},
	}
	if !reflect.DeepEqual(i.Addrs, want) {
		t.Errorf("got %v", i.Addrs)
	}
	// Classic: no speed/delay; a loopback interface on /dev/null.
	ifs, err = captureFS(testkit.Legacy386).IPInterfaces()
	if err != nil || len(ifs) != 2 {
		t.Fatalf("%v %v", ifs, err)
	}
	if ifs[0].HasSpeed || ifs[1].Device != "/dev/null" || ifs[1].Addrs[0].Prefix != netip.MustParsePrefix("127.0.0.1/8") {
		t.Errorf("%+v", ifs)
	}
}

func TestNetStatsCaptures(t *testing.T) {
	p := captureFS(testkit.Front11879amd64)
	ip, err := p.IPStats()
	if err != nil || ip.InReceives != 4006 || ip.InDelivers != 4003 || ip.OutRequests != 3142 || ip.OutDiscards != 4 || ip.DefaultTTL != 255 {
		t.Errorf("ip %+v %v", ip, err)
	}
	tcp, err := p.TCPStats()
	// 9front has no MaxSegment line and adds InLimbo, which is ignored.
	if err != nil || tcp.MaxConn != 1024 || tcp.MaxSegment != 0 || tcp.ActiveOpens != 2 || tcp.CurrEstab != 1 || tcp.InSegs != 4044 || tcp.OutSegs != 3174 {
		t.Errorf("tcp %+v %v", tcp, err)
	}
	udp, err := p.UDPStats()
	if err != nil || udp != (UDPStats{InDatagrams: 4, OutDatagrams: 2, NoPorts: 2}) {
		t.Errorf("udp %+v %v", udp, err)
	}
	icmp, err := p.ICMPStats()
	if err != nil || len(icmp.Types) != 19 || icmp.Types["AddrMaskReply"] != [2]uint32{0, 0} {
		t.Errorf("icmp %+v %v", icmp, err)
	}
	il, err := p.ILStats()
	if err != nil || il != (ILStats{}) {
		t.Errorf("il %+v %v", il, err)
	}

	l := captureFS(testkit.Legacy386)
	tcp, err = l.TCPStats()
	if err != nil || tcp.MaxSegment != 1460 || tcp.InSegs != 4101 || tcp.OutSegs != 3482 {
		t.Errorf("9legacy tcp %+v %v", tcp, err)
	}
	if _, err := l.ILStats(); !IsNotExist(err) {
		t.Errorf("9legacy has no IL, got %v", err)
	}
}

func TestNetStatsErrors(t *testing.T) {
	// The third-party capture's udp/stats holds the single word "stats".
	if _, err := ParseUDPStats([]byte("stats")); err == nil {
		t.Error("placeholder accepted")
	}
	if _, err := ParseTCPStats([]byte("MaxConn: 1\n")); err == nil {
		t.Error("file without InSegs accepted")
	}
	if _, err := ParseUDPStats([]byte("InDatagrams: 1\nNoPorts: 4294967296\n")); err == nil {
		t.Error("32-bit NoPorts overflow accepted")
	}
	if _, err := ParseICMPStats([]byte("EchoReply: 1\n")); err == nil {
		t.Error("type line with one count accepted")
	}
}

// The drivers that count bytes, in the files written from their ifstat
// functions (testdata/ifstats/README.md): which counters, how wide.
func TestIfStatsDrivers(t *testing.T) {
	for _, tc := range []struct {
		file, counters string
		bits           uint
		in, out        uint64
	}{
		{"ether82563.txt", "e1000-total", 64, 1933877123, 112233441},
		{"etherelnk3.txt", "elnk3", 32, 4294000000, 61022944},
		{"ether1116.txt", "ether1116", 64, 8589934692, 402112330},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "ifstats", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		is := ParseIfStats(b)
		if !is.HasOctets || is.Octets.Name != tc.counters || is.Octets.Bits != tc.bits || is.InOctets != tc.in || is.OutOctets != tc.out {
			t.Errorf("%s: %+v", tc.file, is)
		}
	}
	var names []string
	for _, c := range ByteCounters() {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"e1000-total", "e1000-good", "elnk3", "ether1116"}) {
		t.Errorf("%v", names)
	}
}

// Both ends of an interval read the same pair: an e1000 whose Good lines
// were read first is read by them again, though Total came since.
func TestOctetsOf(t *testing.T) {
	good := ParseIfStats([]byte("Good Octets Received: 10 1\n"))
	if good.Octets.Name != "e1000-good" || good.InOctets != 10 || good.OutOctets != 0 {
		t.Fatalf("%+v", good)
	}
	later := ParseIfStats([]byte("Good Octets Received: 20 1\nTotal Octets Received: 22 1\nTotal Octets Transmitted: 7 1\n"))
	if in, out, ok := later.OctetsOf(good.Octets); !ok || in != 20 || out != 0 {
		t.Errorf("%d %d %v", in, out, ok)
	}
	if later.Octets.Name != "e1000-total" || later.InOctets != 22 {
		t.Errorf("%+v", later)
	}
	// A line is left out while zero: the partner of a line present is 0.
	if is := ParseIfStats([]byte("Total Octets Received: 12 1\nlintr: 0 1\n")); is.Octets.Name != "e1000-total" || is.InOctets != 12 || is.OutOctets != 0 {
		t.Errorf("%+v", is)
	}
	if _, _, ok := ParseIfStats([]byte("bytesrcvdok: 1\n")).OctetsOf(good.Octets); ok {
		t.Error("another driver's counters read as e1000's")
	}
	for _, in := range []string{"devfeat 0111\nvq0 0xf004fde8 size 256 avail->idx 3643\n", "TxOk: 10\nRxOk: 20\n", "bad received bytes: 9\n", ""} {
		if is := ParseIfStats([]byte(in)); is.HasOctets {
			t.Errorf("%q: %+v", in, is)
		}
	}
}
