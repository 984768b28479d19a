package p9stats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every parser is fuzzed from the real captures. Run one with, e.g.,
//
//	go test ./lib/p9stats -run '^$' -fuzz '^FuzzParseSwap$' -fuzztime 30s
//
// Plain go test runs the seeds. A parser must never panic, and its errors
// must be *ParseError values.

func fuzzParser[T any](f *testing.F, parse func([]byte) (T, error), files []string, extra ...string) {
	for _, c := range captures {
		for _, file := range files {
			matches, _ := filepath.Glob(filepath.Join(captureDir(c), file))
			for _, m := range matches {
				if b, err := os.ReadFile(m); err == nil {
					f.Add(b)
				}
			}
		}
	}
	for _, e := range extra {
		if strings.HasPrefix(e, "fsconsole/") {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", e))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			continue
		}
		f.Add([]byte(e))
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
