package p9stats

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// cwfs statw as printed by cw.c cmd_statw (leading tabs as printed).
const cwfsStatw = "cwstats main\n\tfilesys main\n\t\tmaddr  =        3\n\t\tmsize  =    10313\n\t\tcaddr  =     1035\n\t\tcsize  =   113412\n\t\tsbaddr =  1208364\n\t\tcraddr =  1208397  1208397\n\t\troaddr =  1208400  1208400\n\t\tfsize  =  1208420  1208420  0+21%\n\t\tslast  =           1207997\n\t\tsnext  =           1208400\n\t\twmax   =  1208420           0+21%\n\t\twsize  =  5626362           1+ 0%\n\t\t 97350 none\n\t\t   212 dirty\n\t\t     0 dump\n\t\t 15731 read\n\t\t   119 write\n\t\t     0 dump1\n\t\tcache  3% full\n"

func TestCwfsStatw(t *testing.T) {
	got, err := ParseCwfsStatw([]byte("unrelated console chatter\n" + cwfsStatw))
	if err != nil {
		t.Fatal(err)
	}
	want := []CwfsStats{{Name: "main", MSize: 10313, CSize: 113412, FSize: 1208420, WSize: 5626362, WMax: 1208420, CacheFullPercent: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	sp := got[0].Space(CwfsBlockSize)
	if sp.Size != 5626362*16384 || sp.Used != 1208420*16384 || sp.Free != (5626362-1208420)*16384 || sp.Name != "main" {
		t.Errorf("%+v", sp)
	}
	if _, err := ParseCwfsStatw([]byte("cwstats main\n\t\tfsize  =  12\n")); err == nil {
		t.Error("section without wsize accepted")
	}
	if _, err := ParseCwfsStatw([]byte("cwstats main\n\t\tfsize  =  1x\n")); err == nil {
		t.Error("bad number accepted")
	}
}

func TestHjfsDf(t *testing.T) {
	kmesg := "\nPlan 9\nhjfs: (blocks) free 1, used 2, total 3\nhjfs: (MB) free 0, used 0, total 0\nhjfs: (blocks) free 4690411, used 551829, total 5242240\nhjfs: (MB) free 18321, used 2155, total 20477\n"
	got, err := ParseHjfsDf([]byte(kmesg))
	if err != nil {
		t.Fatal(err)
	}
	want := FSSpace{Kind: "hjfs", Free: 4690411 * 4096, Used: 551829 * 4096, Size: 5242240 * 4096}
	if got != want {
		t.Errorf("got %+v", got)
	}
	if _, err := ParseHjfsDf([]byte("hjfs: (MB) free 1, used 2, total 3\n")); err == nil {
		t.Error("no blocks line accepted")
	}
}

func TestGefsDf(t *testing.T) {
	reply := "gefs# arena 0: 1a2b3c000/3ff800000 (40.91%)\narena 1: 19f000000/3ff800000 (40.55%)\nfill:\t40.73%\nused:\t13987201024 (13.03 GiB)\nsize:\t34342961152 (31.98 GiB)\nfree:\t20355760128 (18.96 GiB)\ngefs# "
	got, err := ParseGefsDf([]byte(reply))
	if err != nil {
		t.Fatal(err)
	}
	if got != (FSSpace{Kind: "gefs", Used: 13987201024, Size: 34342961152, Free: 20355760128}) {
		t.Errorf("%+v", got)
	}
	if _, err := ParseGefsDf([]byte("gefs# used:\t5 (5 B)\n")); err == nil {
		t.Error("partial reply accepted")
	}
}

func TestFossilDf(t *testing.T) {
	got, err := ParseFossilDf([]byte("main: fsys main df\n\tmain: 1,234,567,168 used + 98,765,000,704 free = 99,999,567,872 (1.2% used)\nmain: "))
	if err != nil {
		t.Fatal(err)
	}
	if got != (FSSpace{Kind: "fossil", Name: "main", Used: 1234567168, Free: 98765000704, Size: 99999567872}) {
		t.Errorf("%+v", got)
	}
	if _, err := ParseFossilDf([]byte("main: unknown command df\n")); err == nil {
		t.Error("error reply accepted")
	}
}

// Replies of real file servers, captured in a Plan 9 guest (see
// testdata/fsconsole/README.md); values as the bytes say.
func TestRealConsoleReplies(t *testing.T) {
	read := func(name string) []byte { return testkit.ConsoleReply(t, name) }
	cw, err := ParseCwfsStatw(read("cwfs64x-statw.txt"))
	if err != nil || len(cw) != 1 {
		t.Fatalf("%+v %v", cw, err)
	}
	if want := (CwfsStats{Name: "main", MSize: 7, CSize: 945, FSize: 6, WSize: 16384, WMax: 4, CacheFullPercent: 0}); cw[0] != want {
		t.Errorf("cwfs %+v", cw[0])
	}
	if sp := cw[0].Space(CwfsBlockSize); sp.Size != 256<<20 || sp.Used != 6*16384 {
		t.Errorf("cwfs space %+v", sp)
	}
	ge, err := ParseGefsDf(read("gefs-df.txt"))
	if err != nil || ge != (FSSpace{Kind: "gefs", Used: 458752, Size: 536477696, Free: 536018944}) {
		t.Errorf("gefs %+v %v", ge, err)
	}
	hj, err := ParseHjfsDf(read("hjfs-kmesg.txt"))
	if err != nil || hj != (FSSpace{Kind: "hjfs", Free: 16366 * 4096, Used: 18 * 4096, Size: 16384 * 4096}) {
		t.Errorf("hjfs %+v %v", hj, err)
	}
	fo, err := ParseFossilDf(read("fossil-df.txt"))
	if err != nil || fo != (FSSpace{Kind: "fossil", Name: "main", Used: 40960, Free: 133791744, Size: 133832704}) {
		t.Errorf("fossil %+v %v", fo, err)
	}
}

// A reply fed in chunks of every size, as a console gives it, reads as the
// whole reply does, and is complete once its answer has come.
func TestSpaceReplyChunks(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		reply []byte
		whole func([]byte) ([]FSSpace, error)
	}{
		{"cwfs", testkit.ConsoleReply(t, "cwfs64x-statw.txt"), func(b []byte) ([]FSSpace, error) {
			cs, err := ParseCwfsStatw(b)
			var out []FSSpace
			for _, c := range cs {
				out = append(out, c.Space(CwfsBlockSize))
			}
			return out, err
		}},
		{"cwfs", []byte("console chatter\n" + cwfsStatw + strings.ReplaceAll(cwfsStatw, "main", "other")), nil},
		{"gefs", testkit.ConsoleReply(t, "gefs-df.txt"), func(b []byte) ([]FSSpace, error) { return one(ParseGefsDf(b)) }},
		{"fossil", testkit.ConsoleReply(t, "fossil-df.txt"), func(b []byte) ([]FSSpace, error) { return one(ParseFossilDf(b)) }},
	} {
		whole := tc.whole
		if whole == nil {
			whole = func(b []byte) ([]FSSpace, error) {
				r, _ := NewSpaceReply(tc.kind)
				r.Write(b)
				r.End()
				return r.Spaces()
			}
		}
		want, wantErr := whole(tc.reply)
		if wantErr != nil || len(want) == 0 {
			t.Fatalf("%s: %v %v", tc.kind, want, wantErr)
		}
		for size := 1; size <= len(tc.reply); size++ {
			r, err := NewSpaceReply(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			for b := tc.reply; len(b) > 0; b = b[min(size, len(b)):] {
				r.Write(b[:min(size, len(b))])
			}
			r.End()
			got, err := r.Spaces()
			if err != nil || !reflect.DeepEqual(got, want) || !r.Complete() {
				t.Fatalf("%s in chunks of %d: %+v %v, want %+v", tc.kind, size, got, err, want)
			}
		}
	}
	// Incomplete until the line that completes the answer has come.
	r, _ := NewSpaceReply("gefs")
	reply := testkit.ConsoleReply(t, "gefs-df.txt")
	end := bytes.Index(reply, []byte("free:"))
	r.Write(reply[:end+len("free:\t5")])
	if r.Complete() {
		t.Error("complete before the free: line ended")
	}
	r.Write([]byte("36018944 (0.50 GiB)\n"))
	if sp, err := r.Spaces(); !r.Complete() || err != nil || sp[0].Free != 536018944 {
		t.Errorf("%+v %v", sp, err)
	}
	if _, err := NewSpaceReply("hjfs"); err == nil {
		t.Error("a console parser for hjfs, which replies in /dev/kmesg")
	}
}
