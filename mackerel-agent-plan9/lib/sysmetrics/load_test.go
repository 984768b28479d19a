package sysmetrics

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// The factors are Unix's: Linux keeps them as EXP_1 = 1884, EXP_5 = 2014
// and EXP_15 = 2037 in 11-bit fixed point (include/linux/sched/loadavg.h).
func TestLoadFactorsAreUnix(t *testing.T) {
	for i, want := range []float64{1884, 2014, 2037} {
		e := math.Exp(-SampleInterval.Seconds() / loadPeriods[i].Seconds())
		if got := math.Round(e * 2048); got != want {
			t.Errorf("%s: factor %v is %v/2048, Linux has %v", loadNames[i], e, got, want)
		}
	}
	if e1 != math.Exp(-5.0/60) || e5 != math.Exp(-5.0/300) || e15 != math.Exp(-5.0/900) {
		t.Error("the written-out factors are not exp(−5/60), exp(−5/300), exp(−5/900)")
	}
}

// A series worked out by hand: seeded at 0.5, three samples of 2, one of
// 0, then a sample of 1 that comes 15 s late.
func TestLoadDecay(t *testing.T) {
	var l loadAvg
	l.update(0.5, at(0))
	if l.v != [3]float64{0.5, 0.5, 0.5} {
		t.Fatalf("seed: %v", l.v)
	}
	steps := []struct {
		at   time.Duration
		n    float64
		want [3]float64
	}{
		// 0.5·e + 2·(1 − e): 0.5·0.92004441 + 2·0.07995559 = 0.61993338.
		{5 * time.Second, 2, [3]float64{0.619933378056015, 0.5247928192675737, 0.5083102279926549}},
		// 0.61993338·0.92004441 + 2·0.07995559 = 0.73027741.
		{10 * time.Second, 2, [3]float64{0.7302774126640788, 0.549175849276991, 0.5165744160591166}},
		{15 * time.Second, 2, [3]float64{0.8317988253928925, 0.5731558632489289, 0.5247928192675739}},
		// A load of 0 only decays: 0.83179883·0.92004441 = 0.76529186.
		{20 * time.Second, 0, [3]float64{0.7652918633979625, 0.5636824300958082, 0.5218853872828928}},
		// 15 s later: three ticks' decay at once, v·e³ + 1·(1 − e³).
		{35 * time.Second, 1, [3]float64{0.817209119421103, 0.5849618890804856, 0.529787926737747}},
	}
	for _, s := range steps {
		l.update(s.n, at(s.at))
		for i := range l.v {
			if !near(l.v[i], s.want[i]) {
				t.Errorf("at %v: %s = %.16g, want %.16g", s.at, loadNames[i], l.v[i], s.want[i])
			}
		}
	}
	// The late sample decays as three samples of 1 would have.
	var a, b loadAvg
	a.update(3, at(0))
	b.update(3, at(0))
	a.update(1, at(15*time.Second))
	for _, d := range []time.Duration{5, 10, 15} {
		b.update(1, at(d*time.Second))
	}
	for i := range a.v {
		if !near(a.v[i], b.v[i]) {
			t.Errorf("%s: one 15-s step %v, three 5-s steps %v", loadNames[i], a.v[i], b.v[i])
		}
	}
}

// A clock that stands still or goes back decays nothing, and the next
// step counts from the new time.
func TestLoadClock(t *testing.T) {
	var l loadAvg
	l.update(1, at(time.Minute))
	l.update(5, at(time.Minute))
	l.update(5, at(0))
	if l.v != [3]float64{1, 1, 1} {
		t.Errorf("%v", l.v)
	}
	l.update(2, at(5*time.Second))
	if !near(l.v[0], 1*e1+2*(1-e1)) {
		t.Errorf("%v", l.v)
	}
}

// Through the Collector: 13 samples of a constant load reach the first
// Collect's averages; a sample that cannot be read leaves a gap that the
// next sample decays across.
func TestLoadThroughCollector(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	line := func(load int) string {
		return "          0        8810        3565        9845       38166           0           0 " +
			fmt.Sprintf("%11d", load) + "          24           1 \n"
	}
	c := New(h.fs(nil), nil, t.Logf)
	h.Write("dev/sysstat", line(1000))
	c.Sample(ctx(t), at(0))
	h.Write("dev/sysstat", line(3000))
	for i := 1; i <= 12; i++ {
		if i == 6 {
			h.Write("dev/sysstat", "garbage\n")
			c.Sample(ctx(t), at(time.Duration(i)*5*time.Second))
			h.Write("dev/sysstat", line(3000))
			continue
		}
		c.Sample(ctx(t), at(time.Duration(i)*5*time.Second))
	}
	got := c.Collect(ctx(t), at(time.Minute))
	// 1, then 3 for 60 s: 3 − 2·e^12, whatever the gap.
	for i, n := range loadNames {
		e := []float64{e1, e5, e15}[i]
		want := 3 - 2*math.Pow(e, 12)
		if !near(got[n], want) {
			t.Errorf("%s = %v, want %v", n, got[n], want)
		}
	}
}
