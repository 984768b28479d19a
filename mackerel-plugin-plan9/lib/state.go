package mpplan9

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/statefile"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// counter is one raw kernel counter. Rates are computed by this package
// rather than with go-mackerel-plugin's Diff, which prints 0 when a
// counter goes backwards or after a long gap, does not know that Plan 9
// counters wrap at 2^32, and writes its state file in place.
type counter struct {
	Metric string // metric name relative to the prefix
	Part   string // a part summed into the metric, such as a CPU; may be empty
	Group  string // counters that reset together
	Value  uint64
	Bits   int // 32 or 64: the kernel's width
}

// sample is a set of counters read at one time.
type sample struct {
	Time     time.Time
	Uptime   float64 // seconds; 0 when unknown
	Counters []counter
}

// maxGap is the longest interval over which a rate is computed.
const maxGap = 10 * time.Minute

// errNoState means there is no usable previous sample: rates are then
// measured over a short interval within the run.
var errNoState = errors.New("no usable previous sample")

// loadState reads the previous sample saved for identity. The file must
// be the plugin's own (statefile.Read): anything else is no state, with
// an error that says what it is.
func loadState(path, identity string, now time.Time) (sample, error) {
	if path == "" {
		return sample{}, errNoState
	}
	b, err := statefile.Read(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return sample{}, errNoState
		}
		return sample{}, fmt.Errorf("%w: %v", errNoState, err)
	}
	id, s, err := decodeState(b)
	switch {
	case err == errOtherVersion:
		return sample{}, fmt.Errorf("%w: %s belongs to another version or name space", errNoState, path)
	case err != nil:
		return sample{}, fmt.Errorf("%w: %s: %v", errNoState, path, err)
	case id != identity:
		return sample{}, fmt.Errorf("%w: %s belongs to another version or name space", errNoState, path)
	case !s.Time.Before(now):
		return sample{}, fmt.Errorf("%w: %s is from the future or from this second", errNoState, path)
	}
	return s, nil
}

// saveState writes the sample atomically (statefile.Write): an
// interrupted or concurrent run leaves either the old state or the new
// one, never a torn file.
//
// The file is not synced: the rename alone makes the replacement atomic
// for every reader, and durability is not needed. A crash of the machine
// can at worst leave an empty or old state, which the next run notices
// and treats like a first run, while an fsync on every run costs several
// milliseconds on a busy disk, each minute, on every host.
//
// Nor does the rename free the old state's disk blocks, which some file
// systems do slowly within rename(2): ext4 without a journal, mounted with
// discard, waits over a millisecond for the disk. The old state is first
// linked as path+".old", which the next run removes while it reads the
// name space (dropOld). Where the link fails (no hard links, as on Plan 9,
// or a concurrent run's link is there) the rename frees it as before.
func saveState(path, identity string, s sample) error {
	if path == "" {
		return nil
	}
	os.Link(path, path+oldSuffix)
	return statefile.Write(path, encodeState(identity, s), statefile.Options{})
}

// oldSuffix names the link to the previous state that saveState leaves.
const oldSuffix = ".old"

// dropOld removes the link to an older state that a previous run left.
// Collect runs it while it reads the name space, before it saves.
func dropOld(path string) {
	if path != "" {
		os.Remove(path + oldSuffix)
	}
}

// The state file is text: a header naming its version, the identity of
// the name space (quoted), the time of the sample in nanoseconds since
// 1970, the host's uptime in seconds, and a line per counter of five
// tab-separated fields: metric, part, group, value and bits. It is read
// and written without reflection, which costs a fresh process more than
// the whole file.
const stateHeader = "mackerel-plugin-plan9 state 2"

var errOtherVersion = errors.New("another version's state")

func encodeState(identity string, s sample) []byte {
	b := make([]byte, 0, 128+64*len(s.Counters))
	b = append(b, stateHeader+"\nidentity "...)
	b = strconv.AppendQuote(b, identity)
	b = append(b, "\ntime "...)
	b = strconv.AppendInt(b, s.Time.UnixNano(), 10)
	b = append(b, "\nuptime "...)
	b = strconv.AppendFloat(b, s.Uptime, 'g', -1, 64)
	b = append(b, '\n')
	for _, c := range s.Counters {
		b = append(b, c.Metric...)
		b = append(b, '\t')
		b = append(b, c.Part...)
		b = append(b, '\t')
		b = append(b, c.Group...)
		b = append(b, '\t')
		b = strconv.AppendUint(b, c.Value, 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(c.Bits), 10)
		b = append(b, '\n')
	}
	return b
}

func decodeState(b []byte) (identity string, s sample, err error) {
	text, ok := strings.CutSuffix(string(b), "\n")
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[0] != stateHeader {
		return "", sample{}, errOtherVersion
	}
	if !ok {
		return "", sample{}, errors.New("cut short")
	}
	value := func(i int, key string) string {
		v, found := strings.CutPrefix(lines[i], key+" ")
		if !found && err == nil {
			err = fmt.Errorf("line %d: no %s", i+1, key)
		}
		return v
	}
	id, t, up := value(1, "identity"), value(2, "time"), value(3, "uptime")
	if err != nil {
		return "", sample{}, err
	}
	if identity, err = strconv.Unquote(id); err != nil {
		return "", sample{}, fmt.Errorf("line 2: identity: %v", err)
	}
	ns, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return "", sample{}, fmt.Errorf("line 3: time: %v", err)
	}
	s.Time = time.Unix(0, ns)
	if s.Uptime, err = strconv.ParseFloat(up, 64); err != nil {
		return "", sample{}, fmt.Errorf("line 4: uptime: %v", err)
	}
	s.Counters = make([]counter, 0, len(lines)-4)
	for i, l := range lines[4:] {
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			return "", sample{}, fmt.Errorf("line %d: %d fields, want 5", i+5, len(f))
		}
		c := counter{Metric: f[0], Part: f[1], Group: f[2]}
		if c.Value, err = strconv.ParseUint(f[3], 10, 64); err != nil {
			return "", sample{}, fmt.Errorf("line %d: value: %v", i+5, err)
		}
		if c.Bits, err = strconv.Atoi(f[4]); err != nil || (c.Bits != 32 && c.Bits != 64) || c.Metric == "" {
			return "", sample{}, fmt.Errorf("line %d: not a counter", i+5)
		}
		s.Counters = append(s.Counters, c)
	}
	return identity, s, nil
}

type key struct{ metric, part string }

// rates computes per-second rates from prev to cur. A counter that went
// backwards other than by a 32-bit wrap means a reset (a reboot, or a
// write to /dev/sysstat, which zeroes every counter): its whole group is
// dropped. So is a metric whose parts do not all appear in both samples.
// drops says why points were left out, for standard error.
func rates(prev, cur sample) (out map[string]float64, drops []string) {
	dt := cur.Time.Sub(prev.Time).Seconds()
	if dt <= 0 {
		return nil, []string{"the samples are not in time order"}
	}
	if cur.Uptime > 0 && prev.Uptime > 0 && cur.Uptime < prev.Uptime {
		return nil, []string{"the host rebooted since the previous sample"}
	}
	old := make(map[key]counter, len(prev.Counters))
	for _, c := range prev.Counters {
		old[key{c.Metric, c.Part}] = c
	}
	sums := map[string]float64{}
	missing := map[string]bool{}
	reset := map[string]bool{}
	for _, c := range cur.Counters {
		p, ok := old[key{c.Metric, c.Part}]
		if !ok || p.Bits != c.Bits {
			missing[c.Metric] = true
			continue
		}
		d, ok := p9stats.Delta(p.Value, c.Value, uint(c.Bits), 0)
		if !ok {
			reset[c.Group] = true
			continue
		}
		sums[c.Metric] += float64(d)
	}
	groups := map[string]string{}
	for _, c := range cur.Counters {
		groups[c.Metric] = c.Group
	}
	out = map[string]float64{}
	for m, g := range groups {
		if reset[g] || missing[m] {
			continue
		}
		out[m] = sums[m] / dt
	}
	for g := range reset {
		drops = append(drops, fmt.Sprintf("%s counters went backwards (reset)", g))
	}
	return out, drops
}
