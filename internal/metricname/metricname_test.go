package metricname

import "testing"

func TestSegment(t *testing.T) {
	for in, want := range map[string]string{"a b/c.d": "a_b_c_d", "ether0": "ether0", "sd-C0_x": "sd-C0_x", "¶swap": "_swap", "a\xffb": "a_b", "": ""} {
		if s := Segment(in); s != want {
			t.Errorf("Segment(%q) = %q, want %q", in, s, want)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for s, want := range map[string]bool{"plan9": true, "p9.x-y_z": true, "": false, "a..b": false, "p9.": false, ".p9": false, "plan 9": false, "plan9/x": false} {
		if ValidPrefix(s) != want {
			t.Errorf("ValidPrefix(%q) != %v", s, want)
		}
	}
}
