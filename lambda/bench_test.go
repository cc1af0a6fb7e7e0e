package main_test

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/lambdatest"
	"github.com/posture-dev/posture/internal/model"
)

// BenchmarkFanOut measures the nightly fan-out on the emulator: moto
// executes the state machine over POSTURE_BENCH_ACCOUNTS (default 200)
// member accounts plus the management account, one region, every check,
// with POSTURE_BENCH_CONCURRENCY (default 4) emulators behind the bridge.
// One execution whatever b.N: `make bench-fanout` runs it with
// -benchtime 1x; the figures are in BENCHMARKS.md.
func BenchmarkFanOut(b *testing.B) {
	t := b
	n := 200
	if v, _ := strconv.Atoi(os.Getenv("POSTURE_BENCH_ACCOUNTS")); v > 0 {
		n = v
	}
	concurrency := 4
	if c, _ := strconv.Atoi(os.Getenv("POSTURE_BENCH_CONCURRENCY")); c > 0 {
		concurrency = c
	}
	f := newFanOut(t, n, concurrency)
	// Every tenth member has an open port, so the package has findings.
	for i, id := range f.members {
		if i%10 == 0 {
			openPort(t, f.memberConfig(t, id), "open-"+id, 22)
		}
	}
	out, took := f.execute("bench-1")
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution: %s %s %s", out.Status, *out.Error, *out.Cause)
	}
	var latest descriptor
	f.store.json(prefix+"latest.json", &latest)
	_, scan := verifyPackage(t, f.store, latest.ScanID)
	if len(scan.Scan.Accounts) != n+1 || len(scan.Gaps()) != 0 {
		t.Errorf("%d accounts, %d gaps; want %d accounts and none", len(scan.Scan.Accounts), len(scan.Gaps()), n+1)
	}
	counts := map[model.Status]int{}
	for _, r := range scan.Results {
		counts[r.Status]++
	}

	stats := f.pool.Stats()
	sort.Slice(stats, func(i, j int) bool { return stats[i].Start.Before(stats[j].Start) })
	if len(stats) != n+3 {
		t.Errorf("%d invocations, want plan + %d scan-account + assemble", len(stats), n+1)
	}
	plan, assemble, accounts := stats[0], stats[len(stats)-1], stats[1:len(stats)-1]
	t.Logf("fan-out: %d accounts (1 region, %d checks), MaxConcurrency %d, %d emulators", n+1, len(scan.Scan.Checks), concurrency, concurrency)
	t.Logf("execution: %v (setup before it: %v)", took.Round(time.Millisecond), f.setup.Round(time.Millisecond))
	t.Logf("results: %d (PASS %d, FAIL %d, ERROR %d)", len(scan.Results), counts[model.StatusPass], counts[model.StatusFail], counts[model.StatusError])
	t.Logf("plan: %v, peak RSS %.1f MiB", plan.Duration.Round(time.Millisecond), mib(plan.PeakRSS))
	t.Logf("scan-account: %s", lambdatest.Summarize(accounts))
	t.Logf("assemble: %v, peak RSS %.1f MiB", assemble.Duration.Round(time.Millisecond), mib(assemble.PeakRSS))
}

// BenchmarkSingleRunDemo measures the single run of the real bootstrap
// under the Runtime Interface Emulator over the demo account (both of its
// regions, every check and framework): the invocation's wall time and the
// bootstrap process's peak RSS (VmHWM), which is what the function's
// MemorySize must hold. `make bench-fanout` runs it too; the figures are in
// BENCHMARKS.md.
func BenchmarkSingleRunDemo(b *testing.B) {
	t := b
	boot := lambdatest.Build(t, "./lambda")
	sf := lambdatest.StartSFN(t, nil)
	cfg := sf.Config(t, "us-east-1")
	st := newStore(t, cfg)
	if _, err := st.s3.CreateBucket(st.ctx, &s3.CreateBucketInput{Bucket: aws.String(evidenceBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(st.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rie := lambdatest.StartRIE(t, boot, map[string]string{
		"POSTURE_BUCKET":   evidenceBucket,
		"POSTURE_REGIONS":  strings.Join(demo.Regions(), ","),
		"AWS_ENDPOINT_URL": sf.MotoURL,
	})
	for night := 1; night <= 2; night++ {
		out, err := rie.Invoke(st.ctx, []byte(`{"action":"run"}`))
		if err != nil {
			t.Fatalf("night %d: %v\n%s", night, err, rie.Logs())
		}
		var sum struct {
			ScanID string `json:"scan_id"`
			Counts struct{ Pass, Fail, Error, Muted int }
		}
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatal(err)
		}
		inv := rie.Stats()[night-1]
		t.Logf("demo single run, night %d (cold %v): %v, peak RSS %.1f MiB; %d PASS, %d FAIL, %d ERROR",
			night, inv.Cold, inv.Duration.Round(time.Millisecond), mib(inv.PeakRSS), sum.Counts.Pass, sum.Counts.Fail, sum.Counts.Error)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
