package p9stats

import (
	"bytes"
	"fmt"
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
	var p cwfsReply
	feed(&p, b)
	return p.stats()
}

// cwfsReply reads statw's reply line by line.
type cwfsReply struct {
	out  []CwfsStats
	cur  *CwfsStats
	have int // bits: fsize, wsize, wmax seen in cur
	err  error
}

func (p *cwfsReply) flush() {
	if p.cur != nil && p.have&3 == 3 { // fsize and wsize
		p.out = append(p.out, *p.cur)
	}
	p.cur, p.have = nil, 0
}

func (p *cwfsReply) line(n int, l string) {
	f := strings.Fields(l)
	if len(f) == 0 || p.err != nil {
		return
	}
	if f[0] == "cwstats" && len(f) == 2 {
		p.flush()
		p.cur = &CwfsStats{Name: f[1], CacheFullPercent: -1}
		return
	}
	if p.cur == nil {
		return
	}
	if len(f) >= 3 && f[1] == "=" {
		var dst *uint64
		bit := 0
		switch f[0] {
		case "msize":
			dst = &p.cur.MSize
		case "csize":
			dst = &p.cur.CSize
		case "fsize":
			dst, bit = &p.cur.FSize, 1
		case "wsize":
			dst, bit = &p.cur.WSize, 2
		case "wmax":
			dst, bit = &p.cur.WMax, 4
		default:
			return
		}
		v, err := parseUint(f[2], 64)
		if err != nil {
			p.err = lineError(n, l, "%v", err)
			return
		}
		*dst = v
		p.have |= bit
		return
	}
	if len(f) == 3 && f[0] == "cache" && f[2] == "full" {
		if pc, err := strconv.Atoi(strings.TrimSuffix(f[1], "%")); err == nil {
			p.cur.CacheFullPercent = pc
		}
	}
}

func (p *cwfsReply) complete() bool {
	return p.err == nil && (len(p.out) > 0 || p.cur != nil && p.have&3 == 3)
}

// stats returns the sections read so far, the last one included when it
// has its sizes.
func (p *cwfsReply) stats() ([]CwfsStats, error) {
	if p.err != nil {
		return nil, p.err
	}
	out := append([]CwfsStats(nil), p.out...)
	if p.cur != nil && p.have&3 == 3 {
		out = append(out, *p.cur)
	}
	if len(out) == 0 {
		return nil, &ParseError{Msg: "no cwstats section with fsize and wsize"}
	}
	return out, nil
}

func (p *cwfsReply) spaces() ([]FSSpace, error) {
	cs, err := p.stats()
	out := make([]FSSpace, len(cs))
	for i, c := range cs {
		out[i] = c.Space(CwfsBlockSize)
	}
	return out, err
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
	var p gefsReply
	feed(&p, b)
	return p.space()
}

// gefsReply reads df's reply line by line.
type gefsReply struct {
	s    FSSpace
	have int
	err  error
}

func (p *gefsReply) line(n int, l string) {
	if p.err != nil {
		return
	}
	l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "gefs#"))
	key, val, ok := strings.Cut(l, ":")
	if !ok {
		return
	}
	var dst *uint64
	switch key {
	case "used":
		dst = &p.s.Used
	case "size":
		dst = &p.s.Size
	case "free":
		dst = &p.s.Free
	default:
		return
	}
	v, err := parseUint(firstField(val), 64)
	if err != nil {
		p.err = lineError(n, l, "%v", err)
		return
	}
	*dst = v
	p.have++
}

func (p *gefsReply) complete() bool { return p.err == nil && p.have >= 3 }

func (p *gefsReply) space() (FSSpace, error) {
	if p.err != nil {
		return FSSpace{}, p.err
	}
	if p.have < 3 {
		return FSSpace{}, &ParseError{Msg: "no used:, size: and free: lines"}
	}
	s := p.s
	s.Kind = "gefs"
	return s, nil
}

func (p *gefsReply) spaces() ([]FSSpace, error) { return one(p.space()) }

var fossilDf = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(\S+): ([0-9,]+) used \+ ([0-9,]+) free = ([0-9,]+) \(`)
})

// ParseFossilDf parses the reply to the fossil console command
// "fsys main df": "main: 1,234,567,168 used + 98,765,000,704 free =
// 99,999,567,872 (1.2% used)", bytes with thousands commas. A console
// prompt may precede it.
func ParseFossilDf(b []byte) (FSSpace, error) {
	var p fossilReply
	feed(&p, b)
	return p.space()
}

// fossilReply reads df's reply line by line; the last df line counts.
type fossilReply struct {
	last []string
}

func (p *fossilReply) line(_ int, l string) {
	if m := fossilDf().FindStringSubmatch(l); m != nil {
		p.last = m
	}
}

func (p *fossilReply) complete() bool {
	_, err := p.space()
	return err == nil
}

func (p *fossilReply) space() (FSSpace, error) {
	m := p.last
	if m == nil {
		return FSSpace{}, &ParseError{Msg: "no \"used + free =\" line"}
	}
	var v [3]uint64
	for i := range v {
		n, err := parseUint(strings.ReplaceAll(m[i+2], ",", ""), 64)
		if err != nil {
			return FSSpace{}, &ParseError{Msg: err.Error(), Text: m[0]}
		}
		v[i] = n
	}
	return FSSpace{Kind: "fossil", Name: m[1], Used: v[0], Free: v[1], Size: v[2]}, nil
}

func (p *fossilReply) spaces() ([]FSSpace, error) { return one(p.space()) }

func one(s FSSpace, err error) ([]FSSpace, error) {
	if err != nil {
		return nil, err
	}
	return []FSSpace{s}, nil
}

// replyParser reads a console's reply line by line (numbered from 1,
// without the newline).
type replyParser interface {
	line(n int, l string)
	complete() bool
	spaces() ([]FSSpace, error)
}

// feed gives p every line of b, as lines splits them.
func feed(p replyParser, b []byte) {
	for i, l := range lines(b) {
		p.line(i+1, l)
	}
}

// A SpaceReply reads a file server's reply to its space command as it
// comes from the console, chunk by chunk: each line is parsed once, when
// its newline arrives, so a console that keeps talking costs time in
// proportion to what it says. Its results are those of ParseCwfsStatw
// (each section's Space), ParseGefsDf and ParseFossilDf on the whole
// reply.
type SpaceReply struct {
	p       replyParser
	partial []byte
	n       int
}

// NewSpaceReply returns a SpaceReply for a file server of the given kind:
// cwfs (statw), gefs (df) or fossil (fsys main df). hjfs prints its reply
// on its standard error, not its console.
func NewSpaceReply(kind string) (*SpaceReply, error) {
	var p replyParser
	switch kind {
	case "cwfs":
		p = &cwfsReply{}
	case "gefs":
		p = &gefsReply{}
	case "fossil":
		p = &fossilReply{}
	default:
		return nil, fmt.Errorf("p9stats: no console reply parser for %q", kind)
	}
	return &SpaceReply{p: p}, nil
}

// Write takes the next bytes of the reply. It never fails.
func (r *SpaceReply) Write(b []byte) (int, error) {
	n := len(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		r.n++
		if len(r.partial) > 0 {
			r.partial = append(r.partial, b[:i]...)
			r.p.line(r.n, string(r.partial))
			r.partial = r.partial[:0]
		} else {
			r.p.line(r.n, string(b[:i]))
		}
		b = b[i+1:]
	}
	r.partial = append(r.partial, b...)
	return n, nil
}

// End says the reply ended: a last line without a newline counts.
func (r *SpaceReply) End() {
	if len(r.partial) > 0 {
		r.n++
		r.p.line(r.n, string(r.partial))
		r.partial = nil
	}
}

// Complete reports whether the lines so far hold the answer.
func (r *SpaceReply) Complete() bool { return r.p.complete() }

// Spaces returns the answer the lines so far hold, or why they hold none.
func (r *SpaceReply) Spaces() ([]FSSpace, error) { return r.p.spaces() }
