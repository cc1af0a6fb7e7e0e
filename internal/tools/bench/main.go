// Command bench is what `make bench` runs: it starts the AWS emulator
// (moto_server), seeds the demo account into N accounts (BENCH_ACCOUNTS,
// default 10; each reached by sts:AssumeRole into arn:aws:iam::ACCOUNT:role/bench,
// which moto answers with credentials acting in that account), scans every
// account in the demo's two regions with one engine.Run, and reports wall
// time, API calls (per operation), calls per resource, calls per second,
// peak heap, max RSS, and the emulator's own ceiling measured in the same
// run, so that the scan's rate can be read against what the emulator can
// serve at all. Nothing leaves the machine.
//
// With -large (BENCH_LARGE=1) it seeds one large account instead (2,000
// security groups, 500 instances, 1,000 volumes, 500 buckets, 250 IAM
// users with keys, KMS keys and queues over two regions) and scans it three
// times: client-side rate limits on, off (the emulator's pace for the same
// calls), and on through internal/faultproxy throttling 30% of requests;
// it reports wall times, calls, the ratios and whether the verdicts match.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/posture-dev/posture/internal/apicount"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// The seeding credentials: moto accepts any, and acts in 123456789012.
const (
	seedKeyID  = "AKIABENCHSEED0000001"
	seedSecret = "bench-secret-not-a-real-key"
)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	accounts := fs.Int("accounts", envInt("BENCH_ACCOUNTS", 10), "accounts to seed and scan (env BENCH_ACCOUNTS)")
	noLimits := fs.Bool("no-rate-limits", false, "turn the client-side rate limits off")
	ceilingFor := fs.Duration("ceiling", 3*time.Second, "how long to measure the emulator's ceiling per call kind")
	large := fs.Bool("large", envInt("BENCH_LARGE", 0) == 1, "seed and scan one large account instead (env BENCH_LARGE=1): limits on, off, and 30% throttled")
	maxBackoff := fs.Duration("max-backoff", 0, "-large: the retryer's backoff cap (0: the product's default, awsenv.DefaultMaxBackoff)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *accounts < 1 {
		return errors.New("-accounts must be at least 1")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	srv, err := emulator.Start(ctx, emulator.Options{})
	if err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			logger.Warn("stop the emulator", "error", err)
		}
	}()

	if *large {
		return runLarge(ctx, srv.URL, defaultLarge, *maxBackoff, *ceilingFor, logger, out)
	}

	begin := time.Now()
	targets, err := seedAccounts(ctx, srv.URL, *accounts, *noLimits)
	if err != nil {
		return err
	}
	logger.Info("accounts seeded", "accounts", *accounts, "elapsed", time.Since(begin).Round(time.Millisecond))

	counter := &apicount.Counter{}
	for i := range targets {
		targets[i].Account.Config.APIOptions = append(targets[i].Account.Config.APIOptions, counter.Install)
	}
	all := scanners.All()
	selected, err := scanners.Select(scanners.Catalogue(all), nil, nil)
	if err != nil {
		return err
	}

	peak := sampleHeap()
	begin = time.Now()
	scan := engine.Run(ctx, targets, engine.Options{Scanners: all, Checks: selected, Tool: model.Tool{Name: "posture", Version: "bench"}})
	wall := time.Since(begin)
	peakHeap := peak()

	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)

	logger.Info("measuring the emulator's ceiling", "per_kind", *ceilingFor)
	stsRate := ceiling(ctx, srv.URL, *ceilingFor, func(ctx context.Context, cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
	vpcRate := ceiling(ctx, srv.URL, *ceilingFor, func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	})

	calls, attempts := counter.Total()
	resources := map[string]bool{}
	for _, r := range scan.Results {
		if r.ResourceID != "" {
			resources[r.AccountID+" "+r.Region+" "+r.ResourceID] = true
		}
	}
	rate := float64(calls) / wall.Seconds()

	fmt.Fprintf(out, "posture bench: %d accounts x %d regions (%v), %d CPUs, %s/%s, rate limits %v\n",
		*accounts, len(demo.Regions()), demo.Regions(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, !*noLimits)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "wall time\t%v\n", wall.Round(time.Millisecond))
	fmt.Fprintf(tw, "results\t%d (%d distinct resources), %d coverage gaps\n", len(scan.Results), len(resources), len(scan.Gaps()))
	fmt.Fprintf(tw, "API calls\t%d (%d attempts)\n", calls, attempts)
	fmt.Fprintf(tw, "calls per resource\t%.2f\n", float64(calls)/float64(max(len(resources), 1)))
	fmt.Fprintf(tw, "calls per second\t%.1f\n", rate)
	fmt.Fprintf(tw, "peak heap\t%.1f MiB\n", float64(peakHeap)/(1<<20))
	fmt.Fprintf(tw, "max RSS\t%.1f MiB\n", float64(ru.Maxrss)/1024)
	fmt.Fprintf(tw, "emulator ceiling, sts GetCallerIdentity\t%.1f calls/s\n", stsRate)
	fmt.Fprintf(tw, "emulator ceiling, ec2 DescribeVpcs\t%.1f calls/s\n", vpcRate)
	fmt.Fprintf(tw, "scan calls/s / ceiling (DescribeVpcs)\t%.2f\n", rate/vpcRate)
	_ = tw.Flush()

	fmt.Fprintf(out, "\nper operation:\n")
	ops := counter.Snapshot()
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Calls > ops[j].Calls })
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "service\toperation\tcalls\tattempts\tper account\n")
	for _, o := range ops {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\n", o.Service, o.Operation, o.Calls, o.Attempts,
			float64(o.Calls)/float64(*accounts))
	}
	return tw.Flush()
}

// seedAccounts assumes a role in each of n accounts, seeds the demo account
// into it, and returns the scan targets.
func seedAccounts(ctx context.Context, url string, n int, noLimits bool) ([]engine.Target, error) {
	seedCfg := aws.Config{
		Region:       demo.PrimaryRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(seedKeyID, seedSecret, ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 3) },
	}
	// The scan's base configuration, built as the CLI builds it; each
	// account gets a copy with its own credentials.
	base, err := awsenv.Load(ctx, awsenv.Options{Region: demo.PrimaryRegion, EndpointURL: url, NoRateLimits: noLimits})
	if err != nil {
		return nil, err
	}
	var targets []engine.Target
	for i := range n {
		account := fmt.Sprintf("%012d", 200000000000+i)
		out, err := sts.NewFromConfig(seedCfg).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::" + account + ":role/bench"),
			RoleSessionName: aws.String("bench"),
		})
		if err != nil {
			return nil, fmt.Errorf("assume a role in %s: %w", account, err)
		}
		c := out.Credentials
		creds := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		acctSeed := seedCfg.Copy()
		acctSeed.Credentials = creds
		inv, err := demo.SeedWith(ctx, acctSeed, demo.Options{BucketSuffix: "-" + account})
		if err != nil {
			return nil, fmt.Errorf("seed account %s: %w", account, err)
		}
		if inv.AccountID != account {
			return nil, fmt.Errorf("seeded account %s, want %s: the emulator did not honour AssumeRole", inv.AccountID, account)
		}
		cfg := base.Copy()
		cfg.Credentials = aws.NewCredentialsCache(creds)
		targets = append(targets, engine.Target{
			Account: engine.Account{ID: account, Partition: "aws", Config: cfg},
			Regions: demo.Regions(),
		})
	}
	return targets, nil
}

// sampleHeap samples the heap every 20 ms until the returned function is
// called, which returns the peak HeapAlloc seen.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// ceiling runs call from 16 goroutines for d and returns the successful
// calls per second: the most the emulator serves of that call.
func ceiling(ctx context.Context, url string, d time.Duration, call func(context.Context, aws.Config) error) float64 {
	cfg := aws.Config{
		Region:       demo.PrimaryRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(seedKeyID, seedSecret, ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   awsenv.SharedHTTPClient(),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if call(ctx, cfg) == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(begin).Seconds()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
