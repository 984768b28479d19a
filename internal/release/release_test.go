// Package release tests how the suite is released and installed: the
// goreleaser configuration, the archives it builds, what the real mkr
// installs from them, and the plugin-registry entry.
package release

import (
	"archive/zip"
	"bytes"
	"debug/plan9obj"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testexec"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

const (
	repo   = "mackerel-plugin-plan9"
	source = "mackerel-plan9/mackerel-plugin-plan9"
)

func top(t *testing.T) string { return testkit.Root() }

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(top(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The registry entry, the module path and the release configuration name
// the same repository.
func TestRegistryEntry(t *testing.T) {
	var entry map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "mkr-install.json")), &entry); err != nil {
		t.Fatalf("mkr-install.json: %v", err)
	}
	src, _ := entry["source"].(string)
	desc, _ := entry["description"].(string)
	if len(entry) != 2 || desc == "" || src != source {
		t.Errorf("mkr-install.json: %v", entry)
	}
	// plugin-registry's own test (t/plugins.t).
	if !regexp.MustCompile(`\A[-_.a-zA-Z0-9]+/[-_.a-zA-Z0-9]+\z`).MatchString(src) {
		t.Errorf("source %q", src)
	}
	if m := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(readFile(t, "go.mod")); m == nil || m[1] != "github.com/"+source {
		t.Errorf("module path %v, want github.com/%s", m, source)
	}
	gr := readFile(t, ".goreleaser.yml")
	for _, want := range []string{
		"project_name: " + repo + "\n",
		"owner: mackerel-plan9\n",
		"name: " + repo + "\n",
		"-X github.com/" + source + "/internal/cli.version=",
		`name_template: "{{ .ProjectName }}_{{ .Os }}_{{ .Arch }}"`,
	} {
		if !strings.Contains(gr, want) {
			t.Errorf(".goreleaser.yml lacks %q", want)
		}
	}
}

// buildTools builds the tools pinned in tools/go.mod that the release
// test runs, goreleaser and mkr, and returns the directory that holds
// them. On a cold cache this is most of the test's time (goreleaser
// alone, over 500 s on two busy cores): it is logged, and killed with
// its children before go test's -timeout runs out (see testexec).
func buildTools(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := testexec.Command(t, "go", "build", "-o", dir+string(filepath.Separator),
		"github.com/goreleaser/goreleaser/v2", "github.com/mackerelio/mkr")
	cmd.Dir = filepath.Join(top(t), "tools")
	_, took := testexec.Run(t, cmd)
	t.Logf("built goreleaser and mkr (tools/go.mod) in %v", took.Round(time.Second))
	return dir
}

// tool runs one of the built tools from the top of the repository.
func tool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := testexec.Command(t, bin, args...)
	cmd.Dir = top(t)
	out, _ := testexec.Run(t, cmd)
	return out
}

var targets = []string{
	"plan9_386", "plan9_amd64", "plan9_arm", "linux_amd64", "linux_arm64", "linux_386",
	"linux_arm", "darwin_amd64", "darwin_arm64", "freebsd_amd64", "windows_amd64",
}

// A snapshot release builds every archive with what mkr and a Plan 9 user
// need, and the real mkr installs the linux/amd64 one.
func TestSnapshotRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every target with goreleaser; skipped with -short")
	}
	tools := buildTools(t)
	goreleaser, mkr := filepath.Join(tools, "goreleaser"), filepath.Join(tools, "mkr")
	tool(t, goreleaser, "check", "--config", ".goreleaser.yml")

	dist := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "goreleaser.yml")
	conf := strings.Replace(readFile(t, ".goreleaser.yml"), "\nproject_name:", "\ndist: "+dist+"\nproject_name:", 1)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	tool(t, goreleaser, "release", "--snapshot", "--clean", "--config", cfg)

	zips, _ := filepath.Glob(filepath.Join(dist, "*.zip"))
	var names []string
	for _, z := range zips {
		names = append(names, filepath.Base(z))
	}
	var want []string
	for _, tg := range targets {
		want = append(want, repo+"_"+tg+".zip")
	}
	sort.Strings(names)
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("archives:\n%v\nwant\n%v", names, want)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		z := filepath.Join(dist, repo+"_"+tg+".zip")
		exe := ""
		if strings.HasPrefix(tg, "windows") {
			exe = ".exe"
		}
		files := map[string]bool{
			"mackerel-plugin-plan9" + exe: true, "check-plan9" + exe: true,
			"README.md": false, "LICENSE": false,
			"man/mackerel-plugin-plan9.8": false, "man/check-plan9.8": false, "man/mackerel-agent-plan9.8": false,
		}
		if !strings.HasPrefix(tg, "windows") {
			// The agent: of the Plan 9 host itself, or of a fleet.
			files["mackerel-agent-plan9"] = true
		}
		if strings.HasPrefix(tg, "plan9_") {
			checkPlan9Binary(t, z, "mackerel-agent-plan9")
		}
		checkArchive(t, z, files)
		if !strings.Contains(string(sums), filepath.Base(z)) {
			t.Errorf("checksums.txt lacks %s", filepath.Base(z))
		}
	}

	// mkr v0.65.0 installs from a file:///absolute URL into a prefix.
	prefix := t.TempDir()
	out := tool(t, mkr, "plugin", "install", "--prefix", prefix, "file://"+filepath.Join(dist, repo+"_linux_amd64.zip"))
	for _, bin := range []string{"mackerel-plugin-plan9", "check-plan9"} {
		p := filepath.Join(prefix, "bin", bin)
		fi, err := os.Stat(p)
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s not installed executable (%v); mkr said:\n%s", bin, err, out)
		}
		// goreleaser stamps the version and commit (it says "none" for
		// the commit when the clone has no remote).
		v, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil || !regexp.MustCompile(`^`+bin+` \d+\.\d+\.\d+-SNAPSHOT-(none \(none\)|[0-9a-f]+ \([0-9a-f]{12}\))\n$`).Match(v) {
			t.Errorf("%s --version: %q %v", bin, v, err)
		}
	}
	metrics, err := exec.Command(filepath.Join(prefix, "bin", "mackerel-plugin-plan9"),
		"--root", testkit.Capture(testkit.Front11879amd64),
		"--tempfile", filepath.Join(t.TempDir(), "state")).Output()
	if err != nil || !bytes.Contains(metrics, []byte("plan9.memory.total\t1067155456\t")) {
		t.Errorf("the installed plugin printed %q, %v", metrics, err)
	}
	check, _ := exec.Command(filepath.Join(prefix, "bin", "check-plan9"), "procs", "--broken",
		"--root", testkit.Capture(testkit.Front2016amd64)).Output()
	if !bytes.HasPrefix(check, []byte("Procs CRITICAL: 2 broken: p9probe (pid 221")) {
		t.Errorf("the installed check printed %q", check)
	}
}

// checkPlan9Binary checks that the archive's file name is a Plan 9 a.out.
func checkPlan9Binary(t *testing.T, z, name string) {
	t.Helper()
	r, err := zip.OpenReader(z)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range r.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan9obj.NewFile(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %s is not a Plan 9 a.out: %v", filepath.Base(z), name, err)
		}
	}
}

// checkArchive checks that z holds exactly the files named, those marked
// true with their execute bits.
func checkArchive(t *testing.T, z string, files map[string]bool) {
	t.Helper()
	r, err := zip.OpenReader(z)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := map[string]bool{}
	for _, f := range r.File {
		exec, ok := files[f.Name]
		if !ok {
			t.Errorf("%s: unexpected %s", filepath.Base(z), f.Name)
			continue
		}
		seen[f.Name] = true
		if exec && f.Mode()&0o111 != 0o111 {
			t.Errorf("%s: %s has mode %v, want it executable", filepath.Base(z), f.Name, f.Mode())
		}
		if f.UncompressedSize64 == 0 {
			t.Errorf("%s: %s is empty", filepath.Base(z), f.Name)
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("%s lacks %s", filepath.Base(z), name)
		}
	}
}
