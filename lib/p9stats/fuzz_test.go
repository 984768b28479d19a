package p9stats

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// Every parser is fuzzed from the real captures. Run one with, e.g.,
//
//	go test ./lib/p9stats -run '^$' -fuzz '^FuzzParseSwap$' -fuzztime 30s
//
// Plain go test runs the seeds. A parser must never panic, and its errors
// must be *ParseError values.

func fuzzParser[T any](f *testing.F, parse func([]byte) (T, error), files []string, extra ...string) {
	for _, file := range files {
		for _, b := range testkit.CaptureFiles(f, file) {
			f.Add(b)
		}
	}
	for _, e := range extra {
		switch {
		case strings.HasPrefix(e, "fsconsole/"):
			f.Add(testkit.ConsoleReply(f, strings.TrimPrefix(e, "fsconsole/")))
		case strings.HasPrefix(e, "testdata/"):
			b, err := os.ReadFile(e)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		default:
			f.Add([]byte(e))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := parse(b)
		if err == nil {
			return
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		if pe.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func noErr[T any](parse func([]byte) T) func([]byte) (T, error) {
	return func(b []byte) (T, error) { return parse(b), nil }
}

func FuzzParseSwap(f *testing.F) {
	fuzzParser(f, func(b []byte) (Swap, error) {
		s, err := ParseSwap(b)
		if err == nil {
			s.Memory()
			s.SwapBytes()
		}
		return s, err
	}, []string{"dev/swap"}, "1 memory\n65536 pagesize\n")
}

func FuzzParseSysStat(f *testing.F) {
	fuzzParser(f, ParseSysStat, []string{"dev/sysstat", "dev/sysstat.2"})
}

func FuzzParseTime(f *testing.F) {
	fuzzParser(f, func(b []byte) (Time, error) {
		t, err := ParseTime(b)
		if err == nil {
			t.Uptime()
			t.BootTime()
		}
		return t, err
	}, []string{"dev/time"})
}

func FuzzParseCPUType(f *testing.F) {
	fuzzParser(f, ParseCPUType, []string{"dev/cputype"}, "Core i7/Xeon 2403\n", "ARM Cortex-A72 1500\n")
}

func FuzzParseConfig(f *testing.F) {
	fuzzParser(f, noErr(ParseConfig), []string{"dev/config"})
}

func FuzzParseDrivers(f *testing.F) {
	fuzzParser(f, ParseDrivers, []string{"dev/drivers"})
}

func FuzzParseProcStatus(f *testing.F) {
	fuzzParser(f, ParseProcStatus, []string{"proc/*/status"},
		"a-program-with-a-very-long-name-indeed glenda                      no memory for allocb           0          10     3611230          20          40     3611000         560          10          10\n")
}

func FuzzParseEtherStats(f *testing.F) {
	fuzzParser(f, ParseEtherStats, []string{"net/ether0/stats", "net/ether0/0/stats"}, "in: 5\nout: 6\ncrc errs: -2\n")
}

func FuzzParseEtherAddr(f *testing.F) {
	fuzzParser(f, ParseEtherAddr, []string{"net/ether0/addr"})
}

func FuzzParseIfStats(f *testing.F) {
	fuzzParser(f, noErr(ParseIfStats), []string{"net/ether0/ifstats"},
		"testdata/ifstats/ether82563.txt", "testdata/ifstats/etherelnk3.txt", "testdata/ifstats/ether1116.txt",
		"Total Octets Received: 766515009 3170\nTotal Octets Transmitted: 136030888 2320\neeprom: 5452 0009\n        3000 1000\n")
}

func FuzzParseIPInterface(f *testing.F) {
	fuzzParser(f, ParseIPInterface, []string{"net/ipifc/*/status"})
}

func FuzzParseIPStats(f *testing.F) {
	fuzzParser(f, ParseIPStats, []string{"net/ipifc/stats"})
}

func FuzzParseTCPStats(f *testing.F) {
	fuzzParser(f, ParseTCPStats, []string{"net/tcp/stats"})
}

func FuzzParseUDPStats(f *testing.F) {
	fuzzParser(f, ParseUDPStats, []string{"net/udp/stats"})
}

func FuzzParseICMPStats(f *testing.F) {
	fuzzParser(f, ParseICMPStats, []string{"net/icmp/stats", "net/icmpv6/stats"})
}

func FuzzParseILStats(f *testing.F) {
	fuzzParser(f, ParseILStats, []string{"net/il/stats"})
}

func FuzzParseSDCtl(f *testing.F) {
	fuzzParser(f, ParseSDCtl, []string{"dev/sdctl"})
}

func FuzzParseSDUnitCtl(f *testing.F) {
	fuzzParser(f, ParseSDUnitCtl, []string{"dev/sd*/ctl"}, "geometry 209715200 512 16383 16 63\npart data 0 209715200\npart fossil 204864 208663934\n")
}

func FuzzParseCwfsStatw(f *testing.F) {
	fuzzParser(f, ParseCwfsStatw, nil, cwfsStatw, "fsconsole/cwfs64x-statw.txt")
}

func FuzzParseHjfsDf(f *testing.F) {
	fuzzParser(f, ParseHjfsDf, []string{"dev/kmesg"}, "hjfs: (blocks) free 4690411, used 551829, total 5242240\n", "fsconsole/hjfs-kmesg.txt")
}

func FuzzParseGefsDf(f *testing.F) {
	fuzzParser(f, ParseGefsDf, nil, "fsconsole/gefs-df.txt", "gefs# arena 0: 1a2b3c000/3ff800000 (40.91%)\nused:\t13987201024 (13.03 GiB)\nsize:\t34342961152 (31.98 GiB)\nfree:\t20355760128 (18.96 GiB)\n")
}

func FuzzParseFossilDf(f *testing.F) {
	fuzzParser(f, ParseFossilDf, nil, "fsconsole/fossil-df.txt", "\tmain: 1,234,567,168 used + 98,765,000,704 free = 99,999,567,872 (1.2% used)\n")
}

func FuzzParseCPUTemp(f *testing.F) {
	fuzzParser(f, ParseCPUTemp, []string{"dev/cputemp"}, "45±1\n52±1 alarm\n", "45.5±0.5\n", "45.12\n", "47.0\n")
}

func FuzzParseBattery(f *testing.F) {
	fuzzParser(f, ParseBattery, nil, "charging 85 3600\n", "97 mW 40000 41000 45000 2000 500 mV 12000 11100 01:30:00 discharging\n")
}

func FuzzParseFd(f *testing.F) {
	fuzzParser(f, ParseFd, []string{"proc/*/fd"}, "/\n  1 w  |    0 (0000000000000142 0 00) 65536        0 #|/data1\n")
}

func FuzzParseNoteID(f *testing.F) {
	fuzzParser(f, ParseNoteID, []string{"proc/*/noteid"})
}

// A reply fed to a SpaceReply in two chunks, split anywhere, reads as the
// whole reply read by the kind's parser.
func FuzzSpaceReply(f *testing.F) {
	for _, name := range []string{"cwfs64x-statw.txt", "gefs-df.txt", "fossil-df.txt"} {
		f.Add(testkit.ConsoleReply(f, name), uint16(7))
	}
	f.Add([]byte(cwfsStatw), uint16(100))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		at := int(cut) % (len(b) + 1)
		for kind, whole := range map[string]func([]byte) ([]FSSpace, error){
			"cwfs": func(b []byte) ([]FSSpace, error) {
				cs, err := ParseCwfsStatw(b)
				var out []FSSpace
				for _, c := range cs {
					out = append(out, c.Space(CwfsBlockSize))
				}
				return out, err
			},
			"gefs":   func(b []byte) ([]FSSpace, error) { return one(ParseGefsDf(b)) },
			"fossil": func(b []byte) ([]FSSpace, error) { return one(ParseFossilDf(b)) },
		} {
			r, _ := NewSpaceReply(kind)
			r.Write(b[:at])
			r.Write(b[at:])
			r.End()
			got, err := r.Spaces()
			want, werr := whole(b)
			if (err == nil) != (werr == nil) || !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Fatalf("%s: %+v %v, whole %+v %v", kind, got, err, want, werr)
			}
			if r.Complete() != (err == nil) {
				t.Fatalf("%s: complete %v with error %v", kind, r.Complete(), err)
			}
		}
	})
}
