package mpplan9

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// counter is one raw kernel counter. Rates are computed by this package
// rather than with go-mackerel-plugin's Diff, which prints 0 when a
// counter goes backwards or after a long gap, does not know that Plan 9
// counters wrap at 2^32, and writes its state file in place.
type counter struct {
	Metric string `json:"m"` // metric name relative to the prefix
	Part   string `json:"p,omitempty"`
	Group  string `json:"g"` // counters that reset together
	Value  uint64 `json:"v"`
	Bits   int    `json:"b"` // 32 or 64: the kernel's width
}

// sample is a set of counters read at one time.
type sample struct {
	Time     time.Time `json:"time"`
	Uptime   float64   `json:"uptime,omitempty"` // seconds; 0 when unknown
	Counters []counter `json:"counters"`
}

const stateVersion = 1

type state struct {
	Version  int    `json:"version"`
	Identity string `json:"identity"`
	sample
}

// maxGap is the longest interval over which a rate is computed.
const maxGap = 10 * time.Minute

// errNoState means there is no usable previous sample: rates are then
// measured over a short interval within the run.
var errNoState = errors.New("no usable previous sample")

// loadState reads the previous sample saved for identity.
func loadState(path, identity string, now time.Time) (sample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return sample{}, errNoState
		}
		return sample{}, fmt.Errorf("%w: %v", errNoState, err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return sample{}, fmt.Errorf("%w: %s: %v", errNoState, path, err)
	}
	if s.Version != stateVersion || s.Identity != identity {
		return sample{}, fmt.Errorf("%w: %s belongs to another version or name space", errNoState, path)
	}
	if !s.Time.Before(now) {
		return sample{}, fmt.Errorf("%w: %s is from the future or from this second", errNoState, path)
	}
	return s.sample, nil
}

// saveState writes the sample atomically: to a temporary file in the same
// directory, then renamed over the old one, so that an interrupted or
// concurrent run leaves either the old state or the new one, never a torn
// file. (Plan 9's rename removes the old file first; a run interrupted
// in between leaves no state, which the next run treats like a first run.)
//
// The file is not synced: the rename alone makes the replacement atomic
// for every reader, and durability is not needed. A crash of the machine
// can at worst leave an empty or old state, which the next run notices
// and treats like a first run, while an fsync on every run costs several
// milliseconds on a busy disk, each minute, on every host.
func saveState(path, identity string, s sample) error {
	b, err := json.Marshal(state{Version: stateVersion, Identity: identity, sample: s})
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
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
		d, ok := delta(p.Value, c.Value, c.Bits)
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

// delta is cur − prev for a counter of the given width. A 32-bit counter
// that went from the upper half of its range to the lower half wrapped;
// any other decrease is a reset, and ok is false.
func delta(prev, cur uint64, bits int) (d uint64, ok bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if bits == 32 && prev >= 1<<31 && cur < 1<<31 {
		return cur + 1<<32 - prev, true
	}
	return 0, false
}
