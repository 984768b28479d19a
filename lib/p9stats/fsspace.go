package p9stats

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Plan 9 has no statfs: no file server exports its free space as a file.
// It is printed on each server's console in reply to a command, and the
// parsers below read those replies. Talking to the consoles is left to the
// caller (see package fsspace).

// FSSpace is a file server's space in bytes.
type FSSpace struct {
	Kind string // cwfs, hjfs, gefs, fossil
	Name string // file system name where the server prints one ("main")
	Size uint64
	Used uint64
	Free uint64
}

// CwfsBlockSize is RBUFSIZE, the block size of 9front's cwfs, cwfs64 and
// cwfs64x, in which statw reports sizes.
const CwfsBlockSize = 16 * 1024

// CwfsStats is one "cwstats" section of the cwfs console command statw
// (cw.c cmd_statw), sizes in blocks.
type CwfsStats struct {
	Name  string
	MSize uint64 // blocks of the cache map
	CSize uint64 // blocks of the cache partition
	// FSize is the WORM's current size: the next free block, so in effect
	// the blocks used. WSize is the WORM's capacity and WMax its
	// high-water mark.
	FSize, WSize, WMax uint64
	// CacheFullPercent is the "cache NN% full" figure (fullest bucket);
	// -1 when absent.
	CacheFullPercent int
}

// Space converts the WORM figures to bytes with the given block size.
func (c CwfsStats) Space(blockSize uint64) FSSpace {
	used := min(c.FSize, c.WSize)
	return FSSpace{Kind: "cwfs", Name: c.Name, Size: c.WSize * blockSize, Used: used * blockSize, Free: (c.WSize - used) * blockSize}
}

// ParseCwfsStatw parses the reply to statw. Other console output may be
// interleaved with it; lines that are not part of a cwstats section are
// skipped. It fails when the reply holds no complete section.
func ParseCwfsStatw(b []byte) ([]CwfsStats, error) {
	var out []CwfsStats
	var cur *CwfsStats
	have := 0
	flush := func() {
		if cur != nil && have&3 == 3 { // fsize and wsize
			out = append(out, *cur)
		}
		cur, have = nil, 0
	}
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if f[0] == "cwstats" && len(f) == 2 {
			flush()
			cur = &CwfsStats{Name: f[1], CacheFullPercent: -1}
			continue
		}
		if cur == nil {
			continue
		}
		if len(f) >= 3 && f[1] == "=" {
			var dst *uint64
			bit := 0
			switch f[0] {
			case "msize":
				dst = &cur.MSize
			case "csize":
				dst = &cur.CSize
			case "fsize":
				dst, bit = &cur.FSize, 1
			case "wsize":
				dst, bit = &cur.WSize, 2
			case "wmax":
				dst, bit = &cur.WMax, 4
			default:
				continue
			}
			v, err := parseUint(f[2], 64)
			if err != nil {
				return nil, lineError(i+1, l, "%v", err)
			}
			*dst = v
			have |= bit
			continue
		}
		if len(f) == 3 && f[0] == "cache" && f[2] == "full" {
			if p, err := strconv.Atoi(strings.TrimSuffix(f[1], "%")); err == nil {
				cur.CacheFullPercent = p
			}
		}
	}
	flush()
	if len(out) == 0 {
		return nil, &ParseError{Msg: "no cwstats section with fsize and wsize"}
	}
	return out, nil
}

// HjfsBlockSize is hjfs's BLOCK, the unit of its "(blocks)" df line.
const HjfsBlockSize = 4096

// hjfsDf is compiled when first used, not when every program that links
// this package starts.
var hjfsDf = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`hjfs: \(blocks\) free (\d+), used (\d+), total (\d+)`)
})

// ParseHjfsDf finds the last "hjfs: (blocks) free N, used N, total N" line
// in b. hjfs prints its df reply on its standard error, which on 9front
// lands in /dev/kmesg, so b is typically the kernel message buffer.
func ParseHjfsDf(b []byte) (FSSpace, error) {
	all := hjfsDf().FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return FSSpace{}, &ParseError{Msg: "no hjfs: (blocks) line"}
	}
	m := all[len(all)-1]
	var v [3]uint64
	for i := range v {
		n, err := parseUint(string(m[i+1]), 64)
		if err != nil {
			return FSSpace{}, &ParseError{Msg: err.Error(), Text: string(m[0])}
		}
		v[i] = n * HjfsBlockSize
	}
	return FSSpace{Kind: "hjfs", Free: v[0], Used: v[1], Size: v[2]}, nil
}

// ParseGefsDf parses the reply to the gefs console command df: per-arena
// lines, then "used:", "size:" and "free:" lines whose first number is
// bytes. The "gefs# " prompt may precede any line.
func ParseGefsDf(b []byte) (FSSpace, error) {
	s := FSSpace{Kind: "gefs"}
	have := 0
	for i, l := range lines(b) {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "gefs#"))
		key, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "used":
			dst = &s.Used
		case "size":
			dst = &s.Size
		case "free":
			dst = &s.Free
		default:
			continue
		}
		v, err := parseUint(firstField(val), 64)
		if err != nil {
			return FSSpace{}, lineError(i+1, l, "%v", err)
		}
		*dst = v
		have++
	}
	if have < 3 {
		return FSSpace{}, &ParseError{Msg: "no used:, size: and free: lines"}
	}
	return s, nil
}

var fossilDf = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(\S+): ([0-9,]+) used \+ ([0-9,]+) free = ([0-9,]+) \(`)
})

// ParseFossilDf parses the reply to the fossil console command
// "fsys main df": "main: 1,234,567,168 used + 98,765,000,704 free =
// 99,999,567,872 (1.2% used)", bytes with thousands commas. A console
// prompt may precede it.
func ParseFossilDf(b []byte) (FSSpace, error) {
	all := fossilDf().FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return FSSpace{}, &ParseError{Msg: "no \"used + free =\" line"}
	}
	m := all[len(all)-1]
	var v [3]uint64
	for i := range v {
		n, err := parseUint(strings.ReplaceAll(string(m[i+2]), ",", ""), 64)
		if err != nil {
			return FSSpace{}, &ParseError{Msg: err.Error(), Text: string(m[0])}
		}
		v[i] = n
	}
	return FSSpace{Kind: "fossil", Name: string(m[1]), Used: v[0], Free: v[1], Size: v[2]}, nil
}
