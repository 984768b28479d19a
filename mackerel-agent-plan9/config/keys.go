package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// UnexpectedKey is a key that the configuration does not know, with the
// nearest one it does know, if any is near.
type UnexpectedKey struct {
	File, Key, Suggest string
}

// String is upstream configtest's wording.
func (u UnexpectedKey) String() string {
	if u.Suggest == "" {
		return fmt.Sprintf("%s is unexpected key.", u.Key)
	}
	return fmt.Sprintf("%s is unexpected key. Did you mean %s ?", u.Key, u.Suggest)
}

// ignoredKeys are keys of upstream's configuration that have no meaning
// for this agent; they are accepted with a notice.
var ignoredKeys = map[string]string{
	"conffile":                            "the file is the one -conf names",
	"diagnostic":                          "the agent's own memory metrics are not posted",
	"cloud_platform":                      "Plan 9 hosts are not cloud instances the agent could ask",
	"disks":                               "Plan 9 kernels keep no per-disk I/O counters",
	"filesystems.use_mountpoint":          "file servers are named by their console",
	"interfaces.use_adapter":              "there are no Windows adapters",
	"plugin.metadata":                     "host metadata plugins are not run",
	"plugin.checks.*.execution_interval":  "it applies to metadata plugins only",
	"plugin.metrics.*.execution_interval": "it applies to metadata plugins only",
}

func notices(file string, md toml.MetaData) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		cands := []string{k.String()}
		if len(k) >= 2 && k[0] == "plugin" {
			cands = append(cands, "plugin."+k[1])
		}
		if len(k) >= 4 && k[0] == "plugin" {
			cands = append(cands, strings.Join(append([]string{k[0], k[1], "*"}, k[3:]...), "."))
		}
		for _, cand := range cands {
			if why, ok := ignoredKeys[cand]; ok && !seen[cand] {
				seen[cand] = true
				out = append(out, fmt.Sprintf("%s: %s is ignored: %s", file, cand, why))
			}
		}
	}
	return out
}

// candidates are the key names an unknown key is compared with, in
// upstream's order.
var candidates = keyNames(reflect.TypeFor[schema]())

// unexpectedKeys lists the keys of md that the schema does not know, as
// upstream's configtest does: each with the first known key within an
// edit distance of 2, nothing under a key already reported, and
// [plugin.KIND.NAME] of an unknown KIND told of the nearest kind
// (metrics when none is near).
func unexpectedKeys(file string, md toml.MetaData, plugins map[string]map[string]*pluginTable) []UnexpectedKey {
	var out []UnexpectedKey
	var reported []string
	undecoded := md.Undecoded()
	sort.Slice(undecoded, func(i, j int) bool { return undecoded[i].String() < undecoded[j].String() })
	for _, k := range undecoded {
		key := k.String()
		parent := strings.Join(k[:len(k)-1], ".")
		if slices.Contains(reported, parent) || slices.Contains(reported, k[0]) {
			continue // under a key already reported
		}
		u := UnexpectedKey{File: file, Key: key}
		if slices.Contains(candidates, k[0]) {
			if s := suggest(k[len(k)-1], candidates); s != "" {
				u.Suggest = parent + "." + s
			}
		} else {
			u.Key = k[0]
			u.Suggest = suggest(k[0], candidates)
		}
		out = append(out, u)
		reported = append(reported, u.Key)
	}
	kinds := []string{"metrics", "checks", "metadata"}
	for kind, ps := range plugins {
		if slices.Contains(kinds, kind) {
			continue
		}
		s := suggest(kind, kinds)
		if s == "" {
			s = "metrics"
		}
		for _, name := range slices.Sorted(maps.Keys(ps)) {
			out = append(out, UnexpectedKey{File: file, Key: "plugin." + kind + "." + name, Suggest: "plugin." + s + "." + name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// keyNames lists every TOML key name of t and of the tables within it,
// depth first, in the order of the fields.
func keyNames(t reflect.Type) []string {
	for t.Kind() == reflect.Map || t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[pattern]() {
		return nil
	}
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			continue
		}
		names = append(names, f.Tag.Get("toml"))
		names = append(names, keyNames(f.Type)...)
	}
	return names
}

func suggest(given string, candidates []string) string {
	for _, c := range candidates {
		if levenshtein(given, c) < 3 {
			return c
		}
	}
	return ""
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
