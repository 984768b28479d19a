package checkplan9

import (
	"bytes"
	"context"
	"debug/plan9obj"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mackerelio/checkers"
)

type rebootCmd struct {
	Kernels  []string `long:"kernel" value-name:"PATH" description:"the kernel that will boot next (repeatable; default: /n/9fat/$bootfile when 9fat is mounted, else /$cputype/$bootfile)"`
	Critical bool     `long:"critical" description:"CRITICAL instead of WARNING when a reboot is required"`
	common
}

// Slack allowed when a kernel file's modification time stands in for its
// build time: copying takes a moment; and 9front's dossrv writes FAT
// times in local time but reads them back as UTC, skewing 9fat times by
// the time zone (up to 14 hours) unless /env/timezone says by how much.
const (
	copySlack = 5 * time.Minute
	fatSkew   = 14 * time.Hour
)

func (c *rebootCmd) validate() error {
	for _, k := range c.Kernels {
		if strings.Trim(k, "/") == "" {
			return fmt.Errorf("--kernel %q: give the path of a kernel, such as /n/9fat/9pc64", k)
		}
	}
	return nil
}

func (c *rebootCmd) run(ctx context.Context, h *host) *checkers.Checker {
	running, err := h.st.KernelBuildTime()
	if err != nil {
		return checkers.Unknown(fmt.Sprintf("the running kernel's build time (mtime of #c/sysstat): %v", err))
	}
	kernels := c.Kernels
	if len(kernels) == 0 {
		k, err := defaultKernel(h)
		if err != nil {
			return checkers.Unknown(err.Error() + "; name the next kernel with --kernel")
		}
		kernels = []string{k}
	}
	bad := checkers.WARNING
	if c.Critical {
		bad = checkers.CRITICAL
	}
	var rs []*checkers.Checker
	for _, k := range kernels {
		rs = append(rs, c.compare(h, k, running, bad))
	}
	return worst(rs)
}

func (c *rebootCmd) compare(h *host, kernel string, running time.Time, bad checkers.Status) *checkers.Checker {
	name := "/" + strings.TrimPrefix(kernel, "/")
	built, err := kerndate(h, kernel)
	if err == nil {
		if built.Equal(running) {
			return checkers.Ok(fmt.Sprintf("running the kernel in %s, built %s (kerndate symbol)", name, stamp(running)))
		}
		return checkers.NewChecker(bad, fmt.Sprintf("reboot required: %s was built %s, the running kernel %s (kerndate symbols)", name, stamp(built), stamp(running)))
	}
	if !errors.Is(err, errNoKerndate) {
		return checkers.Unknown(fmt.Sprintf("%s: %v", name, err))
	}
	fi, err := fs.Stat(h.fs, strings.TrimPrefix(path.Clean(kernel), "/"))
	if err != nil {
		return checkers.Unknown(err.Error())
	}
	mtime := fi.ModTime()
	slack, how := copySlack, "modification time"
	if isFAT(kernel) {
		if off, ok := tzOffset(h); ok {
			// dossrv stored local time and reads it back as UTC.
			mtime = mtime.Add(-time.Duration(off) * time.Second)
			slack += time.Hour // daylight saving time
			how = "modification time, corrected for the FAT time zone"
		} else {
			slack += fatSkew
			how = "modification time, allowing 14h of FAT time-zone skew"
		}
	}
	if mtime.After(running.Add(slack)) {
		return checkers.NewChecker(bad, fmt.Sprintf("reboot required: %s is newer (%s) than the running kernel, built %s (%s; it has no kerndate symbol)", name, stamp(mtime), stamp(running), how))
	}
	return checkers.Ok(fmt.Sprintf("%s (%s) is not newer than the running kernel, built %s (%s; it has no kerndate symbol)", name, stamp(mtime), stamp(running), how))
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func isFAT(kernel string) bool {
	k := strings.TrimPrefix(path.Clean("/"+kernel), "/")
	return strings.HasPrefix(k, "n/9fat/")
}

// defaultKernel finds the kernel that will boot next the way 9front's
// installer lays it out: $bootfile (from plan9.ini, in #ec) in the 9fat
// partition when it is mounted on /n/9fat, else in /$cputype.
func defaultKernel(h *host) (string, error) {
	bf, err := h.st.Env("bootfile")
	if err != nil {
		return "", fmt.Errorf("no bootfile in #ec/bootfile: %v", err)
	}
	// plan9.ini may say 9pc64, /amd64/9pc64 or sdC0!9fat!9pcf.
	bf = bf[strings.LastIndexAny(bf, "!/")+1:]
	if bf == "" {
		return "", errors.New("empty bootfile in #ec/bootfile")
	}
	if _, err := fs.Stat(h.fs, "n/9fat/"+bf); err == nil {
		return "n/9fat/" + bf, nil
	}
	ct, err := cputype(h)
	if err != nil {
		return "", err
	}
	return ct + "/" + bf, nil
}

// cputype is $cputype (386, amd64, arm, arm64), from the environment or
// else from the name of the kernel's configuration.
func cputype(h *host) (string, error) { return h.st.ObjectType() }

// tzOffset is the standard offset in seconds east of UTC from
// /env/timezone ("EST -18000 EDT -14400 …").
func tzOffset(h *host) (int, bool) {
	tz, err := h.st.Env("timezone")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(tz)
	if len(f) < 2 {
		return 0, false
	}
	off, err := strconv.Atoi(f[1])
	return off, err == nil && off > -15*3600 && off < 15*3600
}

var errNoKerndate = errors.New("no kerndate symbol")

// maxKernel bounds what is read of a file that is not seekable.
const maxKernel = 64 << 20

// kerndate reads the build time that mkdevc compiles into every kernel:
// "ulong kerndate = KERNDATE;", a 32-bit data symbol. Its file offset is
// the data section's plus its distance from the start of data, which is
// edata (the end of initialised data) minus the data size.
func kerndate(h *host, kernel string) (t time.Time, err error) {
	f, err := h.fs.Open(strings.TrimPrefix(path.Clean(kernel), "/"))
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		b, err := io.ReadAll(io.LimitReader(f, maxKernel))
		if err != nil {
			return time.Time{}, err
		}
		ra = bytes.NewReader(b)
	}
	defer func() {
		// debug/plan9obj is not hardened against malformed files.
		if recover() != nil {
			t, err = time.Time{}, errNoKerndate
		}
	}()
	obj, err := plan9obj.NewFile(ra)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w (not a Plan 9 a.out: %v)", errNoKerndate, err)
	}
	syms, err := obj.Symbols()
	if err != nil {
		return time.Time{}, fmt.Errorf("%w (%v)", errNoKerndate, err)
	}
	var kd, edata *plan9obj.Sym
	for i := range syms {
		switch syms[i].Name {
		case "kerndate":
			if syms[i].Type == 'D' {
				kd = &syms[i]
			}
		case "edata":
			// Local symbols share the name; the linker's is global.
			if syms[i].Type == 'B' || syms[i].Type == 'D' {
				edata = &syms[i]
			}
		}
	}
	data := obj.Section("data")
	if kd == nil || edata == nil || data == nil {
		return time.Time{}, errNoKerndate
	}
	start := edata.Value - uint64(data.Size)
	if kd.Value < start || kd.Value+4 > edata.Value {
		return time.Time{}, fmt.Errorf("kerndate at %#x lies outside the data section", kd.Value)
	}
	var b [4]byte
	if _, err := data.ReadAt(b[:], int64(kd.Value-start)); err != nil {
		return time.Time{}, fmt.Errorf("reading kerndate: %v", err)
	}
	return time.Unix(int64(binary.LittleEndian.Uint32(b[:])), 0), nil
}
