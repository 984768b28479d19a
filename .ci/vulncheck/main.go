// Command vulncheck checks this module for known vulnerabilities with
// govulncheck, offline, against a copy of the Go vulnerability database
// pinned here: the README's "Vulnerabilities" section.
//
//	go run ./.ci/vulncheck            # through the module proxy, once
//	go run ./.ci/vulncheck -offline   # from the module cache alone
//
// The database is the OSV files of the golang.org/x/vulndb module at the
// version below, which comes through the Go module proxy (or the module
// cache, with nothing to fetch) like any module; its own indexdb command
// makes the database govulncheck reads with -db file://. govulncheck then
// never asks vuln.go.dev, so the result depends only on the code and the
// pinned versions: the same run gives the same answer. Move the pin to a
// newer vulndb to learn of newer vulnerabilities.
//
// It scans the module as built for each released operating system (Linux,
// macOS, FreeBSD, Windows and Plan 9, whose code differs). A finding in a
// dependency fails the check: raise the module's version past the fix. A
// finding in the standard library is the Go toolchain's: it is printed,
// with the Go release that fixes it, and fails the check only with
// -strict, since this machine's Go (go.mod's go line) is what the
// commands are built with.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const (
	govulncheck = "golang.org/x/vuln/cmd/govulncheck@v1.9.0"
	vulndb      = "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"
	indexdb     = "golang.org/x/vulndb/cmd/indexdb@v0.0.0-20261105234957-e22db6528018"
)

var goos = []string{"linux", "darwin", "freebsd", "windows", "plan9"}

func main() {
	strict := flag.Bool("strict", false, "fail on a vulnerability of the standard library too")
	offline := flag.Bool("offline", false, "take the tools and the database from the module cache, as a proxy, and reach no network")
	flag.Parse()
	if *offline {
		// The module cache's download directory is a module proxy's
		// tree; its modules were checked against go.sum or the checksum
		// database when they came in.
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulncheck: go env GOMODCACHE:", err)
			os.Exit(1)
		}
		os.Setenv("GOPROXY", "file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(out)), "cache", "download")))
		os.Setenv("GOSUMDB", "off")
	}
	if err := run(*strict); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

// finding is one vulnerability govulncheck found, for one module.
type finding struct {
	id, module, fixed string
	called            bool     // a vulnerable symbol is reached, not only imported
	systems           []string // where
}

func run(strict bool) error {
	tmp, err := os.MkdirTemp("", "vulncheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")
	for _, tool := range []string{govulncheck, indexdb} {
		if err := command(nil, []string{"GOBIN=" + bin}, "go", "install", tool); err != nil {
			return err
		}
	}
	var dl bytes.Buffer
	if err := command(&dl, nil, "go", "mod", "download", "-json", vulndb); err != nil {
		return err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(dl.Bytes(), &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download %s: %q %v", vulndb, dl.String(), err)
	}
	db := filepath.Join(tmp, "db")
	if err := command(nil, nil, filepath.Join(bin, "indexdb"), "-vulns", filepath.Join(mod.Dir, "data", "osv"), "-out", db); err != nil {
		return err
	}
	fmt.Printf("database: the OSV files of %s\n", vulndb)

	found := map[string]*finding{}
	for _, sys := range goos {
		var out bytes.Buffer
		err := command(&out, []string{"GOOS=" + sys}, filepath.Join(bin, "govulncheck"), "-db", "file://"+db, "-format", "json", "./...")
		if err != nil {
			return fmt.Errorf("govulncheck, GOOS=%s: %v", sys, err)
		}
		if err := collect(&out, sys, found); err != nil {
			return fmt.Errorf("govulncheck, GOOS=%s: %v", sys, err)
		}
	}
	return report(found, strict)
}

// collect reads govulncheck's JSON stream into found.
func collect(r io.Reader, sys string, found map[string]*finding) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Finding *struct {
				OSV          string
				FixedVersion string `json:"fixed_version"`
				Trace        []struct {
					Module   string
					Function string
				}
			}
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		key := f.OSV + " " + f.Trace[0].Module
		g := found[key]
		if g == nil {
			g = &finding{id: f.OSV, module: f.Trace[0].Module, fixed: f.FixedVersion}
			found[key] = g
		}
		g.called = g.called || f.Trace[0].Function != ""
		if len(g.systems) == 0 || g.systems[len(g.systems)-1] != sys {
			g.systems = append(g.systems, sys)
		}
	}
}

func report(found map[string]*finding, strict bool) error {
	var keys []string
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var failed []string
	for _, k := range keys {
		f := found[k]
		how := "imported, not called"
		if f.called {
			how = "called"
		}
		fixed := f.fixed
		if fixed == "" {
			fixed = "no fixed version"
		}
		stdlib := f.module == "stdlib" || f.module == "toolchain"
		what := f.module
		if stdlib {
			what = "the standard library (the Go toolchain)"
		}
		fmt.Printf("%s in %s, %s (%s); fixed in %s\n", f.id, what, how, strings.Join(f.systems, ", "), fixed)
		if !stdlib || strict {
			failed = append(failed, f.id)
		}
	}
	if len(found) == 0 {
		fmt.Println("no known vulnerability")
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d vulnerabilities to fix: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// command runs name with env added to this process's environment; its
// standard output goes to stdout, or with its standard error when nil.
func command(stdout io.Writer, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	if stdout == nil {
		cmd.Stdout = os.Stderr
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s: %v", cmd, err)
	}
	return err
}
