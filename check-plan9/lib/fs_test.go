package checkplan9

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// Replies as the file servers print them (cw.c cmd_statw, gefs cons.c
// showdf, fossil 9fsys.c fsysDf; hjfs prints df on its standard error,
// which 9front copies to /dev/kmesg).
const (
	statw  = "cwstats main\n\tfilesys main\n\t\tmaddr  =        3\n\t\tmsize  =    10313\n\t\tcaddr  =     1035\n\t\tcsize  =   113412\n\t\tsbaddr =  1208364\n\t\tcraddr =  1208397  1208397\n\t\troaddr =  1208400  1208400\n\t\tfsize  =  1208420  1208420  0+21%\n\t\tslast  =           1207997\n\t\tsnext  =           1208400\n\t\twmax   =  1208420           0+21%\n\t\twsize  =  5626362           1+ 0%\n\t\t 97350 none\n\t\t   212 dirty\n\t\t     0 dump\n\t\t 15731 read\n\t\t   119 write\n\t\t     0 dump1\n\t\tcache  3% full\n"
	gefsDf = "arena 0: 1a2b3c000/3ff800000 (40.91%)\narena 1: 19f000000/3ff800000 (40.55%)\nfill:\t40.73%\nused:\t13987201024 (13.03 GiB)\nsize:\t34342961152 (31.98 GiB)\nfree:\t20355760128 (18.96 GiB)\ngefs# "
	fossil = "\tmain: 96,636,764,160 used + 10,737,418,240 free = 107,374,182,400 (90.0% used)\nmain: "
	hjfsDf = "hjfs: (blocks) free 4690411, used 551829, total 5242240\nhjfs: (MB) free 18321, used 2155, total 20477\n"
)

// consoleHost serves a capture over 9P with file-server consoles.
func consoleHost(t *testing.T) string {
	root := derive(t, testkit.Front11879amd64, map[string]string{"dev/kmesg": "\nPlan 9\n"})
	kmesg := filepath.Join(root, "dev/kmesg")
	srv := &p9test.Server{Root: root, Consoles: map[string]func(string) string{
		"srv/cwfs.cmd": func(cmd string) string {
			if cmd == "statw" {
				return statw
			}
			return "unknown command " + cmd + "\n"
		},
		"srv/gefs.cmd": func(cmd string) string {
			if cmd == "df" {
				return gefsDf
			}
			return "gefs# "
		},
		"srv/fscons": func(cmd string) string {
			if cmd == "fsys main df" {
				return fossil
			}
			return "main: unknown command\n"
		},
		"srv/hjfs.cmd": func(cmd string) string {
			if cmd == "df" {
				f, _ := os.OpenFile(kmesg, os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString(hjfsDf)
				f.Close()
			}
			return ""
		},
		"srv/mute.cmd": func(string) string { return "" },
		// Replies captured from real servers (testdata/fsconsole).
		"srv/cwfs64x.cmd": func(string) string { return real(t, "cwfs64x-statw.txt") },
		"srv/getest.cmd":  func(string) string { return real(t, "gefs-df.txt") },
		"srv/fossil.cmd":  func(string) string { return real(t, "fossil-df.txt") },
	}}
	return p9test.Start(t, srv)
}

func TestFS(t *testing.T) {
	addr := consoleHost(t)
	table(t, []tc{
		{"cwfs", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "--9p", addr}, 0, "FileServer OK: cwfs: 67.4 GiB free of 85.9 GiB (78.5%)"},
		{"cwfs warning %", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "80%", "--9p", addr}, 1, "FileServer WARNING: cwfs: 67.4 GiB free of 85.9 GiB (78.5%)"},
		{"cwfs critical %", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "90%", "-c", "80%", "--9p", addr}, 2, "FileServer CRITICAL: …"},
		{"cwfs warning size", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "70GB", "-c", "1GB", "--9p", addr}, 1, "FileServer WARNING: …"},
		// A size and a percentage compare only against the size read.
		{"cwfs size and %", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "1GB", "-c", "80%", "--9p", addr}, 2, "FileServer CRITICAL: …"},
		{"gefs", []string{"fs", "--fs", "gefs:/srv/gefs.cmd", "--9p", addr}, 0, "FileServer OK: gefs: 19.0 GiB free of 32.0 GiB (59.3%)"},
		{"fossil", []string{"fs", "--fs", "fossil:/srv/fscons", "--9p", addr}, 1, "FileServer WARNING: fscons: 10.0 GiB free of 100.0 GiB (10.0%)"},
		{"hjfs", []string{"fs", "--fs", "hjfs:/srv/hjfs.cmd", "--9p", addr}, 0, "FileServer OK: hjfs: 17.9 GiB free of 20.0 GiB (89.5%)"},
		{"several", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "--fs", "fossil:/srv/fscons:main", "-c", "15%", "--9p", addr}, 2,
			"FileServer CRITICAL: cwfs: 67.4 GiB free of 85.9 GiB (78.5%); fscons_main: 10.0 GiB free of 100.0 GiB (10.0%)"},
		{"real cwfs64x", []string{"fs", "--fs", "cwfs:/srv/cwfs64x.cmd", "--9p", addr}, 0, "FileServer OK: cwfs64x: 255.9 MiB free of 256.0 MiB (100.0%)"},
		{"real gefs", []string{"fs", "--fs", "gefs:/srv/getest.cmd", "--9p", addr}, 0, "FileServer OK: getest: 511.2 MiB free of 511.6 MiB (99.9%)"},
		{"real fossil", []string{"fs", "--fs", "fossil:/srv/fossil.cmd", "--9p", addr}, 0, "FileServer OK: fossil: 127.6 MiB free of 127.6 MiB (100.0%)"},
		{"silent console", []string{"fs", "--fs", "cwfs:/srv/mute.cmd", "--timeout", "300ms", "--9p", addr}, 3, "FileServer UNKNOWN: …"},
		{"no console", []string{"fs", "--fs", "cwfs:/srv/none.cmd", "--9p", addr}, 3, "FileServer UNKNOWN: cwfs:/srv/none.cmd: open srv/none.cmd: 'none.cmd' file does not exist"},
		{"bad kind", []string{"fs", "--fs", "zfs:/srv/x", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --fs "zfs:/srv/x": kind "zfs" is not one of cwfs, hjfs, gefs, fossil`},
		{"bad size", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "lots", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --warning "lots": want a percentage such as 10% or a size such as 2GB`},
	})
}

func real(t *testing.T, name string) string { return string(testkit.ConsoleReply(t, name)) }
