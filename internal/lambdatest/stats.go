package lambdatest

import (
	"fmt"
	"sort"
	"time"
)

// Summary condenses invocations for a benchmark line.
type Summary struct {
	N, Cold, Errors    int
	P50, P95, Max      time.Duration // wall time per invocation
	Total              time.Duration // sum of wall times
	PeakRSS, MedianRSS int64         // bytes: the largest and the median per-invocation peak (0s excluded)
}

// Summarize computes a Summary of invocations (Pool.Stats or RIE.Stats).
func Summarize(invs []Invocation) Summary {
	s := Summary{N: len(invs)}
	if len(invs) == 0 {
		return s
	}
	durs := make([]time.Duration, 0, len(invs))
	var rss []int64
	for _, inv := range invs {
		durs = append(durs, inv.Duration)
		s.Total += inv.Duration
		if inv.Cold {
			s.Cold++
		}
		if inv.Err != "" {
			s.Errors++
		}
		if inv.PeakRSS > 0 {
			rss = append(rss, inv.PeakRSS)
		}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	s.P50 = durs[len(durs)/2]
	s.P95 = durs[min(len(durs)-1, len(durs)*95/100)]
	s.Max = durs[len(durs)-1]
	if len(rss) > 0 {
		sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
		s.MedianRSS, s.PeakRSS = rss[len(rss)/2], rss[len(rss)-1]
	}
	return s
}

// String renders the summary on one line.
func (s Summary) String() string {
	return fmt.Sprintf("%d invocations (%d cold, %d errors): p50 %v, p95 %v, max %v; peak RSS median %.1f MiB, max %.1f MiB",
		s.N, s.Cold, s.Errors, s.P50.Round(time.Microsecond), s.P95.Round(time.Microsecond), s.Max.Round(time.Microsecond),
		float64(s.MedianRSS)/(1<<20), float64(s.PeakRSS)/(1<<20))
}
