package p9stats

import (
	"strings"
)

// SDController is one line of #S/sdctl (port/devsd.c): "sdC ata port 1F0
// ctl 3F4 irq 14", "sdZ ram 4 units", "sdE ahci …". Both the file and the
// unit ctl files are readable only by the host owner.
type SDController struct {
	Name      string // "sdC"
	Interface string // second word: ata, ahci, nvme, virtio, ram, …
	Line      string
}

// ParseSDCtl parses #S/sdctl.
func ParseSDCtl(b []byte) ([]SDController, error) {
	var cs []SDController
	for i, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f[0]) != 3 || !strings.HasPrefix(f[0], "sd") {
			return nil, lineError(i+1, l, "want a line starting sdX")
		}
		c := SDController{Name: f[0], Line: l}
		if len(f) > 1 {
			c.Interface = f[1]
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// SDUnit is #S/sdXX/ctl for one unit, plus the partitions found beside it.
type SDUnit struct {
	Name     string // "sdC0"; set by FS.Disks
	Inquiry  string // vendor, product and revision, trimmed
	Model    string
	Serial   string
	Firmware string
	// Sectors and SectorSize come from the geometry line; both are zero
	// when the unit reported none (no medium).
	Sectors, SectorSize uint64
	Partitions          []Partition
	// Info holds every other "key value" line the driver printed.
	Info map[string]string
}

// Partition is a "part name start end" line (sectors, end exclusive), or,
// when the ctl file could not be read, a partition file found by stat.
type Partition struct {
	Name       string
	Start, End uint64 // sectors; both 0 when known only by stat
	Bytes      uint64
}

// ParseSDUnitCtl parses #S/sdXX/ctl. Keywords are followed by a tab in
// some drivers and a blank in others.
func ParseSDUnitCtl(b []byte) (SDUnit, error) {
	u := SDUnit{Info: map[string]string{}}
	for i, l := range lines(b) {
		key, rest := strings.TrimSpace(l), ""
		if i := strings.IndexAny(key, " \t"); i >= 0 {
			key, rest = key[:i], strings.TrimSpace(key[i+1:])
		}
		switch key {
		case "":
			continue
		case "inquiry":
			u.Inquiry = rest
		case "model":
			u.Model = rest
		case "serial":
			u.Serial = rest
		case "firm":
			u.Firmware = rest
		case "geometry":
			f := strings.Fields(rest)
			if len(f) < 2 {
				return SDUnit{}, lineError(i+1, l, "want sectors and sector size")
			}
			n, err1 := parseUint(f[0], 64)
			ss, err2 := parseUint(f[1], 32)
			if err1 != nil || err2 != nil {
				return SDUnit{}, lineError(i+1, l, "bad number")
			}
			u.Sectors, u.SectorSize = n, ss
		case "part":
			f := strings.Fields(rest)
			if len(f) != 3 {
				return SDUnit{}, lineError(i+1, l, "want name, start and end")
			}
			s, err1 := parseUint(f[1], 64)
			e, err2 := parseUint(f[2], 64)
			if err1 != nil || err2 != nil || e < s {
				return SDUnit{}, lineError(i+1, l, "bad start or end")
			}
			u.Partitions = append(u.Partitions, Partition{Name: f[0], Start: s, End: e})
		default:
			u.Info[key] = rest
		}
	}
	for i := range u.Partitions {
		p := &u.Partitions[i]
		p.Bytes = (p.End - p.Start) * u.SectorSize
	}
	return u, nil
}

// Bytes is the unit's capacity.
func (u SDUnit) Bytes() uint64 { return u.Sectors * u.SectorSize }
