package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/posture-dev/posture/internal/apicount"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

// largeAccount is the large account's size: per region (two regions) unless
// said otherwise. Instances get a root volume each from the emulator, so
// the account holds VolumesPerRegion + InstancesPerRegion volumes per region.
type largeAccount struct {
	SecurityGroupsPerRegion, InstancesPerRegion, VolumesPerRegion int
	BucketsPerRegion, KeysPerRegion, QueuesPerRegion              int
	Users                                                         int // global, each with one access key
}

// defaultLarge is the account: 2,000 security groups, 500
// instances, 1,000 volumes, 500 buckets, 250 IAM users with keys, KMS keys
// and queues, over two regions.
var defaultLarge = largeAccount{
	SecurityGroupsPerRegion: 1000, InstancesPerRegion: 250, VolumesPerRegion: 250,
	BucketsPerRegion: 250, KeysPerRegion: 50, QueuesPerRegion: 50, Users: 250,
}

// seedLarge creates the large account through cfg (credentials acting in
// the account), 16 calls at a time.
func seedLarge(ctx context.Context, cfg aws.Config, account string, n largeAccount) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, region := range demo.Regions() {
		rcfg := cfg.Copy()
		rcfg.Region = region
		ec := ec2.NewFromConfig(rcfg)
		s3c := s3.NewFromConfig(rcfg, func(o *s3.Options) { o.UsePathStyle = true })
		kc, qc := kms.NewFromConfig(rcfg), sqs.NewFromConfig(rcfg)
		for i := range n.SecurityGroupsPerRegion {
			g.Go(func() error {
				_, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
					GroupName: aws.String(fmt.Sprintf("bench-sg-%04d", i)), Description: aws.String("bench"),
				})
				return wrap(err, "create security group in %s", region)
			})
		}
		for left := n.InstancesPerRegion; left > 0; left -= 50 {
			count := int32(min(left, 50))
			g.Go(func() error {
				_, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0bench0000000000"),
					InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(count), MaxCount: aws.Int32(count)})
				return wrap(err, "run instances in %s", region)
			})
		}
		for range n.VolumesPerRegion {
			g.Go(func() error {
				_, err := ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(8)})
				return wrap(err, "create volume in %s", region)
			})
		}
		for i := range n.BucketsPerRegion {
			g.Go(func() error {
				in := &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("bench-%s-%s-%04d", account, region, i))}
				if region != "us-east-1" {
					in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
				}
				_, err := s3c.CreateBucket(ctx, in)
				return wrap(err, "create bucket in %s", region)
			})
		}
		for range n.KeysPerRegion {
			g.Go(func() error {
				_, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("bench")})
				return wrap(err, "create KMS key in %s", region)
			})
		}
		for i := range n.QueuesPerRegion {
			g.Go(func() error {
				_, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("bench-queue-%04d", i))})
				return wrap(err, "create queue in %s", region)
			})
		}
	}
	ic := iam.NewFromConfig(cfg)
	for i := range n.Users {
		g.Go(func() error {
			name := aws.String(fmt.Sprintf("bench-user-%04d", i))
			if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
				return wrap(err, "create user %s", *name)
			}
			_, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
			return wrap(err, "create an access key for %s", *name)
		})
	}
	return g.Wait()
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// runResult is one scan of the large account.
type runResult struct {
	name     string
	scan     *model.Scan
	counter  *apicount.Counter
	wall     time.Duration
	injected int // throttles injected by the proxy
	requests int // requests through the proxy
}

// scanLarge scans the account through endpoint with the product's
// configuration (awsenv.Load: standard retryer, rate limits unless
// noLimits), backoff capped at maxBackoff when positive.
func scanLarge(ctx context.Context, name, endpoint, account string, creds aws.CredentialsProvider, noLimits bool, maxBackoff time.Duration) (runResult, error) {
	base, err := awsenv.Load(ctx, awsenv.Options{Region: demo.PrimaryRegion, EndpointURL: endpoint, NoRateLimits: noLimits, MaxBackoff: maxBackoff})
	if err != nil {
		return runResult{}, err
	}
	counter := &apicount.Counter{}
	cfg := base.Copy()
	cfg.Credentials = creds
	cfg.APIOptions = append(cfg.APIOptions, counter.Install)
	all := scanners.All()
	selected, err := scanners.Select(scanners.Catalogue(all), nil, nil)
	if err != nil {
		return runResult{}, err
	}
	targets := []engine.Target{{Account: engine.Account{ID: account, Partition: "aws", Config: cfg}, Regions: demo.Regions()}}
	begin := time.Now()
	scan := engine.Run(ctx, targets, engine.Options{Scanners: all, Checks: selected, Tool: model.Tool{Name: "posture", Version: "bench"}})
	return runResult{name: name, scan: scan, counter: counter, wall: time.Since(begin)}, nil
}

// resultKeys returns the verdicts of a scan: check, account, region,
// resource and status of every result.
func resultKeys(scan *model.Scan) map[string]bool {
	out := map[string]bool{}
	for _, r := range scan.Results {
		out[strings.Join([]string{r.CheckID, r.AccountID, r.Region, r.ResourceID, string(r.Status)}, " ")] = true
	}
	return out
}

// sameKeys reports whether two verdict sets are equal, and how many differ.
func sameKeys(a, b map[string]bool) (bool, int) {
	diff := 0
	for k := range a {
		if !b[k] {
			diff++
		}
	}
	for k := range b {
		if !a[k] {
			diff++
		}
	}
	return diff == 0, diff
}

// runLarge seeds one large account, then scans it three times: rate limits
// on, rate limits off (what the emulator serves for the same calls, with
// nothing pacing them but posture's concurrency), and with limits on
// through a fault proxy that throttles 30% of the requests.
func runLarge(ctx context.Context, url string, n largeAccount, maxBackoff time.Duration, ceilingFor time.Duration, logger *slog.Logger, out io.Writer) error {
	seedCfg := aws.Config{
		Region:       demo.PrimaryRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(seedKeyID, seedSecret, ""),
		BaseEndpoint: aws.String(url),
		// Seeding creates resources: its own pooled client, since the
		// scan's shared one refuses every call that is not a read.
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 64 }),
	}
	const account = "200000000000"
	role, err := sts.NewFromConfig(seedCfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/bench"), RoleSessionName: aws.String("bench"),
	})
	if err != nil {
		return fmt.Errorf("assume a role in %s: %w", account, err)
	}
	c := role.Credentials
	creds := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	acct := seedCfg.Copy()
	acct.Credentials = creds
	begin := time.Now()
	if err := seedLarge(ctx, acct, account, n); err != nil {
		return fmt.Errorf("seed the large account: %w", err)
	}
	seeding := time.Since(begin)
	logger.Info("large account seeded", "elapsed", seeding.Round(time.Millisecond))

	cached := aws.NewCredentialsCache(creds)
	var runs []runResult
	for _, r := range []struct {
		name     string
		noLimits bool
		throttle bool
	}{
		{"rate limits on", false, false},
		{"rate limits off", true, false},
		{"30% throttled, limits on", false, true},
	} {
		endpoint := url
		var proxy *faultproxy.Proxy
		if r.throttle {
			proxy, err = faultproxy.NewWithOptions(url, faultproxy.Options{Seed: 20261203},
				faultproxy.Rule{Fault: faultproxy.Throttle, Probability: 0.3})
			if err != nil {
				return err
			}
			endpoint = proxy.URL
		}
		logger.Info("scanning the large account", "run", r.name)
		res, err := scanLarge(ctx, r.name, endpoint, account, cached, r.noLimits, maxBackoff)
		if proxy != nil {
			res.injected, res.requests = proxy.Injected()[faultproxy.Throttle], proxy.Requests()
			_ = proxy.Close()
		}
		if err != nil {
			return err
		}
		runs = append(runs, res)
	}

	logger.Info("measuring the emulator's ceiling", "per_kind", ceilingFor)
	vpcRate := ceiling(ctx, url, ceilingFor, func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	})

	resources := map[string]bool{}
	for _, r := range runs[0].scan.Results {
		if r.ResourceID != "" {
			resources[r.Region+" "+r.ResourceID] = true
		}
	}
	clean, off, throttled := runs[0], runs[1], runs[2]
	backoff := "awsenv.DefaultMaxBackoff"
	if maxBackoff > 0 {
		backoff = maxBackoff.String()
	}
	fmt.Fprintf(out, "posture bench -large: 1 account x %d regions (%v), %d security groups, %d instances, %d volumes (+1 root volume per instance), %d buckets, %d KMS keys, %d queues per region, %d IAM users with a key; retry backoff cap %s\n",
		len(demo.Regions()), demo.Regions(), n.SecurityGroupsPerRegion, n.InstancesPerRegion, n.VolumesPerRegion, n.BucketsPerRegion, n.KeysPerRegion, n.QueuesPerRegion, n.Users, backoff)
	fmt.Fprintf(out, "seeding (not part of the scans): %v; distinct resources in results: %d\n", seeding.Round(time.Millisecond), len(resources))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\twall time\tresults\tgaps\tcalls\tattempts\tcalls/s\tthrottled (of requests)\tsame verdicts as limits on\n")
	for _, r := range runs {
		calls, attempts := r.counter.Total()
		same, diff := sameKeys(resultKeys(clean.scan), resultKeys(r.scan))
		verdicts := "yes"
		if !same {
			verdicts = fmt.Sprintf("NO (%d differ)", diff)
		}
		thr := "-"
		if r.requests > 0 {
			thr = fmt.Sprintf("%d (of %d)", r.injected, r.requests)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\n", r.name, r.wall.Round(time.Millisecond), len(r.scan.Results), len(r.scan.Gaps()),
			calls, attempts, float64(calls)/r.wall.Seconds(), thr, verdicts)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "emulator ceiling, ec2 DescribeVpcs (16 goroutines): %.1f calls/s\n", vpcRate)
	fmt.Fprintf(out, "limits on / limits off (the emulator's pace for the same calls; target <= 1.25): %.2f\n", clean.wall.Seconds()/off.wall.Seconds())
	fmt.Fprintf(out, "30%% throttled / clean, limits on (target <= 2): %.2f\n", throttled.wall.Seconds()/clean.wall.Seconds())

	fmt.Fprintf(out, "\nper operation (limits on, clean):\n")
	ops := clean.counter.Snapshot()
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Calls > ops[j].Calls })
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "service\toperation\tcalls\n")
	for _, o := range ops {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", o.Service, o.Operation, o.Calls)
	}
	return tw.Flush()
}
