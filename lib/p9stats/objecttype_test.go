package p9stats

import (
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestObjectTypeOfCaptures(t *testing.T) {
	// None of the captures holds an environment: the type comes from the
	// first line of dev/config, except on the 9k kernel, whose
	// configuration has no "# name - description" line.
	for _, tc := range []struct {
		capture, want, err string
	}{
		{testkit.Front11879amd64, "amd64", ""}, // # pc64 - amd64 pc terminal with local disk
		{testkit.Front11879x386, "386", ""},    // # pc - 386 pc terminal with local disk
		{testkit.Front2016amd64, "amd64", ""},  // # pc64 - amd64 pc terminal with local disk
		{testkit.Front2016x386, "386", ""},     // # pcf - pc terminal with local disk
		{testkit.Legacy386, "386", ""},         // # pc - a normal pc terminal
		{testkit.Legacy9k, "", `no $cputype, and the kernel configuration "" does not tell`},
	} {
		got, err := captureFS(tc.capture).ObjectType()
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.capture, got, err, tc.want, tc.err)
		}
	}
}

func TestObjectType(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
		err   string
	}{
		{"environment", map[string]string{"env/cputype": "arm64", "dev/config": "# pc64 - x\n"}, "arm64", ""},
		{"kernel environment first", map[string]string{"#ec/cputype": "386", "env/cputype": "amd64"}, "386", ""},
		{"empty variable", map[string]string{"env/cputype": "", "dev/config": "# pccpu64 - amd64 cpu server\n"}, "amd64", ""},
		{"cpu server", map[string]string{"dev/config": "# pccpuf - pc cpu server\ndev\n"}, "386", ""},
		{"9k", map[string]string{"dev/config": "# k10 - 9k kernel\n"}, "amd64", ""},
		{"raspberry pi 4", map[string]string{"dev/config": "# bcm64 - raspberry pi 3/4\n"}, "arm64", ""},
		{"reform", map[string]string{"dev/config": "# imx8 - mnt reform\n"}, "arm64", ""},
		{"raspberry pi 1", map[string]string{"#c/config": "# bcm - raspberry pi\n"}, "arm", ""},
		{"sheevaplug", map[string]string{"dev/config": "# kw - sheevaplug\n"}, "arm", ""},
		{"unknown", map[string]string{"dev/config": "# mtx - powerpc\n"}, "", `no $cputype, and the kernel configuration "mtx" does not tell`},
		{"nothing", map[string]string{"dev/null": ""}, "", "no $cputype and no /dev/config: "},
	} {
		got, err := mapFS(tc.files).ObjectType()
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.err)
		}
		if tc.name == "nothing" && !IsNotExist(err) {
			t.Errorf("nothing: %v is not IsNotExist", err)
		}
	}
}
