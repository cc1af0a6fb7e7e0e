package awsenv

// Client-side rate limits, as data, and the adaptive token buckets that
// apply them.
//
// AWS throttles API calls per account (and for regional services per
// region) with token buckets. Each row below starts our bucket at the
// published rate and burst (where the page publishes no burst, a burst of
// about one second's rate). The buckets then adapt (AIMD, see Limiter): a
// throttled attempt halves its bucket's rate, successes bring it back
// additively, so that a scan sharing an account with deployment pipelines
// and consoles slows down when AWS says so, and only then. Where AWS
// publishes no per-second figure for an operation, the row says so and
// starts at DefaultRate: an assumed figure, not a measured quota (see
// DefaultRate), that the first throttle corrects.
//
// The buckets are keyed by account (the engine puts each account's ID in the
// context, WithAccount; without it, the account encoded in the access key,
// else the key), region (none for global services) and row, so that two
// accounts, or two regions of one account, never share a bucket, and an
// AssumeRole session whose credentials are refreshed keeps its bucket, just
// as AWS counts them. The middleware that takes a token runs once per
// attempt (retries draw tokens too, as they do at AWS) and waits with the
// request's context: a cancelled scan stops waiting at once.
//
// Rows whose figure was recalled rather than read on the cited page say so
// in their Quota; check them against the page.
//
// Every scanner's service must have a row (ratelimits_test.go checks it
// against the scanner registry). An operation without a row of its own uses
// its service's row (Operations empty).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultRate and DefaultBurst start the buckets of rows whose service
// publishes no per-second figure (IAM, SQS, DynamoDB control plane, ...).
// The figure is assumed, not measured: no AWS account was at hand to measure
// one. It lies between the lowest published per-API control-plane rates
// (CloudTrail's lowest 10, Lambda's 15 per second) and the common ones
// (KMS, Secrets Manager, Lambda reads: 50 to 100 per second), high enough
// for a read-only scan of a few hundred resources per scope (250 IAM users:
// about 10 s), and the AIMD buckets halve it on the first throttle, so an
// account that allows less is not hammered.
const (
	DefaultRate  = 25
	DefaultBurst = 50
)

// RateLimit is one row of the table: the starting limit of the buckets of a
// service, or of some operations of it, and the AWS quota it comes from.
type RateLimit struct {
	// Service is the SDK service ID, lowercased without spaces: "ec2",
	// "secretsmanager", "s3control", as ServiceKey returns it.
	Service string
	// Operations are the operations this row covers; empty: every
	// operation of the service without a row of its own.
	Operations []string
	// Rate is the bucket's starting (and highest) rate in requests per
	// second: the published quota, or DefaultRate where none is published.
	Rate float64
	// Burst is how many requests may go at once from a full bucket.
	Burst int
	// Global is true for services whose quota is per account, not per
	// region (IAM, Organizations): one bucket serves every region.
	Global bool
	// Quota is the AWS quota respected, as AWS names it, with its published
	// value ("none published" when there is none).
	Quota string
	// Source is the AWS documentation page that publishes the quota.
	Source string
}

// RateLimits returns the table. It is a function, not a variable, so that no
// caller can change the limits of another.
func RateLimits() []RateLimit {
	return []RateLimit{
		{Service: "ec2", Rate: 20, Burst: 100,
			Quota:  "EC2 API request rate limiting, non-mutating (Describe*) actions: bucket 100 tokens, refill 20 per second, per account and region",
			Source: "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"},
		{Service: "iam", Rate: DefaultRate, Burst: DefaultBurst, Global: true,
			Quota:  "IAM API request rate: none published (IAM is a global control plane shared by the whole account)",
			Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"},
		{Service: "sts", Rate: 600, Burst: 600,
			Quota:  "AWS STS request quota: 600 requests per second per account per region (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"},
		{Service: "s3", Rate: 5500, Burst: 5500,
			Quota:  "S3 request rate: 5,500 GET/HEAD requests per second per partitioned prefix (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"},
		{Service: "s3control", Rate: DefaultRate, Burst: DefaultBurst, Global: true,
			Quota:  "S3 Control (account public access block) request rate: none published",
			Source: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html"},
		{Service: "rds", Rate: 12, Burst: 300,
			Quota:  "Amazon RDS API request throttling: burst 300 requests, sustained 12 requests per second, per account and region (all RDS API operations share it)",
			Source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html"},
		{Service: "kms", Operations: []string{"ListKeys", "ListAliases"}, Rate: 100, Burst: 100,
			Quota:  "KMS request quotas: ListKeys and ListAliases 100 requests per second each (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Operations: []string{"DescribeKey"}, Rate: 2000, Burst: 2000,
			Quota:  "KMS request quotas: DescribeKey 2,000 requests per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Operations: []string{"GetKeyRotationStatus", "GetKeyPolicy"}, Rate: 1000, Burst: 1000,
			Quota:  "KMS request quotas: GetKeyRotationStatus and GetKeyPolicy 1,000 requests per second each (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Rate: 50, Burst: 50,
			Quota:  "KMS request quotas: other read operations (e.g. ListResourceTags) 50 requests per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "secretsmanager", Operations: []string{"ListSecrets"}, Rate: 100, Burst: 100,
			Quota:  "Secrets Manager quotas: ListSecrets 100 requests per second",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "secretsmanager", Operations: []string{"DescribeSecret"}, Rate: 40000, Burst: 40000,
			Quota:  "Secrets Manager quotas: DescribeSecret 40,000 requests per second",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "secretsmanager", Rate: 50, Burst: 50,
			Quota:  "Secrets Manager quotas: combined rate of GetResourcePolicy and the other resource-policy APIs 50 per second",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "acm", Operations: []string{"ListCertificates"}, Rate: 1, Burst: 1,
			Quota:  "ACM API rate quotas: ListCertificates 1 request per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html"},
		{Service: "acm", Rate: 10, Burst: 10,
			Quota:  "ACM API rate quotas: DescribeCertificate and ListTagsForCertificate 10 requests per second",
			Source: "https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html"},
		{Service: "sqs", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "SQS control-plane actions (ListQueues, GetQueueAttributes): none published per second",
			Source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html"},
		{Service: "sns", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "SNS API throttling (ListTopics, GetTopicAttributes): per-region TPS quotas in Service Quotas; lowest regional values are tens per second",
			Source: "https://docs.aws.amazon.com/general/latest/gr/sns.html"},
		{Service: "dynamodb", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "DynamoDB control plane (ListTables, DescribeTable): none published per second",
			Source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"},
		{Service: "kinesis", Operations: []string{"DescribeStreamSummary"}, Rate: 20, Burst: 20,
			Quota:  "Kinesis DescribeStreamSummary: 20 transactions per second per account",
			Source: "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html"},
		{Service: "kinesis", Rate: 5, Burst: 5,
			Quota:  "Kinesis ListStreams: 5 transactions per second per account (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListStreams.html"},
		{Service: "lambda", Operations: []string{"GetFunction", "GetPolicy"}, Rate: 100, Burst: 100,
			Quota:  "Lambda API requests: GetFunction and GetPolicy 100 requests per second each",
			Source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"},
		{Service: "lambda", Rate: 15, Burst: 15,
			Quota:  "Lambda API requests: other control plane APIs (ListFunctions ...) 15 requests per second per API (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"},
		{Service: "efs", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "EFS API request rate (DescribeFileSystems): none published per second",
			Source: "https://docs.aws.amazon.com/efs/latest/ug/limits.html"},
		{Service: "elasticache", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "ElastiCache API request rate (DescribeCacheClusters, DescribeReplicationGroups): none published per second",
			Source: "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/quota-limits.html"},
		{Service: "redshift", Rate: DefaultRate, Burst: DefaultBurst,
			Quota:  "Redshift API request rate (DescribeClusters): none published per second",
			Source: "https://docs.aws.amazon.com/redshift/latest/mgmt/amazon-redshift-limits.html"},
		{Service: "cloudtrail", Rate: 10, Burst: 10,
			Quota:  "CloudTrail API request rates (DescribeTrails, GetTrailStatus): per-API TPS in the General Reference, not adjustable; lowest is 10 per second",
			Source: "https://docs.aws.amazon.com/general/latest/gr/ct.html"},
		{Service: "organizations", Rate: DefaultRate, Burst: DefaultBurst, Global: true,
			Quota:  "Organizations: \"too many requests\" throttling, no per-second figure published",
			Source: "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html"},
	}
}

// ServiceKey turns an SDK service ID ("EC2", "Secrets Manager", "S3
// Control") into the table's key ("ec2", "secretsmanager", "s3control"),
// which is also what the scanners' Service() returns.
func ServiceKey(serviceID string) string {
	return strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
}

// LimitFor returns the row for an operation of a service: the row that
// lists the operation, else the service's row without operations.
func LimitFor(service, operation string) (RateLimit, bool) {
	rows := RateLimits()
	if i := rowIndex(rows, service, operation); i >= 0 {
		return rows[i], true
	}
	return RateLimit{}, false
}

// rowIndex returns the index of the row for service and operation, or -1.
func rowIndex(rows []RateLimit, service, operation string) int {
	fallback := -1
	for i, r := range rows {
		if r.Service != service {
			continue
		}
		if len(r.Operations) == 0 {
			fallback = i
			continue
		}
		for _, op := range r.Operations {
			if op == operation {
				return i
			}
		}
	}
	return fallback
}

// Limiter holds the adaptive token buckets of one run. Its zero value is not
// usable: create it with NewLimiter. It is safe for concurrent use.
//
// Each bucket starts at its row's Rate and Burst and adapts (AIMD, as TCP
// congestion control does): a throttled attempt halves the bucket's rate
// (not below its floor, min(1, Rate) per second) and the tokens it holds; each
// successful attempt adds back Rate/RecoverySteps, up to Rate. A throttle
// answering an attempt sent before the bucket's last halving does not halve
// it again: that attempt was sent at the old rate, so it says nothing about
// the new one (a burst of throttles from calls in flight counts once).
// Attempts are ordered by the token they took, not by the clock.
type Limiter struct {
	rows  []RateLimit
	clock Clock

	mu      sync.Mutex
	buckets map[BucketKey]*bucket
}

// RecoverySteps is how many successful attempts bring a bucket halved to
// nothing back to its row's rate: each success adds Rate/RecoverySteps.
const RecoverySteps = 10

// BucketKey names one token bucket: the account (or, when the account is not
// known, the access key) the calls are made in, the region (empty for the
// global services), the service and the row of the table.
type BucketKey struct {
	Caller, Region, Service string
	Row                     int
}

// Clock is the Limiter's time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, and returns ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// bucket is one adaptive token bucket.
type bucket struct {
	mu      sync.Mutex
	initial float64 // the row's rate: the ceiling of rate
	floor   float64
	rate    float64 // current refill rate, tokens per second
	burst   float64
	tokens  float64 // may go negative: a debt that waiting callers repay
	last    time.Time
	issued  uint64 // tokens handed out so far: the sequence number of the last
	cutAt   uint64 // issued when rate was last halved
	cuts    int
}

// reserve takes a token at now and returns how long to wait for it and
// the token's sequence number.
func (b *bucket) reserve(now time.Time) (time.Duration, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+b.rate*now.Sub(b.last).Seconds())
	}
	b.last = now
	b.tokens--
	b.issued++
	if b.tokens >= 0 {
		return 0, b.issued
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second)), b.issued
}

// unreserve gives back a token whose wait was abandoned.
func (b *bucket) unreserve() {
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+1)
	b.mu.Unlock()
}

// observe adapts the rate to the outcome of the attempt that paid with
// token seq.
func (b *bucket) observe(seq uint64, throttled bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !throttled {
		b.rate = min(b.initial, b.rate+b.initial/RecoverySteps)
		return
	}
	if seq <= b.cutAt {
		return // taken before the last halving, at the old rate
	}
	b.rate = max(b.floor, b.rate/2)
	if b.tokens > 0 {
		b.tokens /= 2
	}
	b.cutAt = b.issued
	b.cuts++
}

// NewLimiter returns a Limiter over RateLimits().
func NewLimiter() *Limiter {
	return NewLimiterFor(RateLimits())
}

// NewLimiterFor returns a Limiter over the given rows (tests use small ones).
func NewLimiterFor(rows []RateLimit) *Limiter {
	return NewLimiterWithClock(rows, realClock{})
}

// NewLimiterWithClock returns a Limiter over rows that reads time from clock.
func NewLimiterWithClock(rows []RateLimit, clock Clock) *Limiter {
	return &Limiter{rows: rows, clock: clock, buckets: map[BucketKey]*bucket{}}
}

// lookup returns the bucket of (caller, region, service, operation), made on
// first use; nil for a service without a row.
func (l *Limiter) lookup(caller, region, service, operation string) (*bucket, BucketKey) {
	i := rowIndex(l.rows, service, operation)
	if i < 0 {
		return nil, BucketKey{}
	}
	r := l.rows[i]
	key := BucketKey{Caller: caller, Region: region, Service: service, Row: i}
	if r.Global {
		key.Region = ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{initial: r.Rate, floor: min(1, r.Rate), rate: r.Rate, burst: float64(max(r.Burst, 1)), tokens: float64(max(r.Burst, 1))}
		l.buckets[key] = b
	}
	return b, key
}

// Ticket is a token taken from a bucket: report the attempt's outcome with
// Done. The zero Ticket (a service without a row) ignores Done.
type Ticket struct {
	b   *bucket
	seq uint64
}

// Done reports whether the attempt the ticket paid for was throttled.
func (t Ticket) Done(throttled bool) {
	if t.b == nil {
		return
	}
	t.b.observe(t.seq, throttled)
}

// Acquire blocks until the bucket of (caller, region, service, operation)
// has a token, or ctx is done. caller is the account ID the call is made
// in (else the access key). A service without a row is not limited.
func (l *Limiter) Acquire(ctx context.Context, caller, region, service, operation string) (Ticket, error) {
	b, _ := l.lookup(caller, region, service, operation)
	if b == nil {
		return Ticket{}, nil
	}
	wait, seq := b.reserve(l.clock.Now())
	if wait > 0 {
		if deadline, ok := ctx.Deadline(); ok && l.clock.Now().Add(wait).After(deadline) {
			// The wait would outlast ctx's deadline: give up at once and
			// report it as the deadline it is.
			b.unreserve()
			return Ticket{}, fmt.Errorf("client-side rate limit for %s:%s: wait %v exceeds the deadline: %w", service, operation, wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if err := l.clock.Sleep(ctx, wait); err != nil {
			b.unreserve()
			return Ticket{}, fmt.Errorf("client-side rate limit for %s:%s: %w", service, operation, err)
		}
	}
	return Ticket{b: b, seq: seq}, nil
}

// Wait is Acquire without the outcome: the bucket does not adapt.
func (l *Limiter) Wait(ctx context.Context, caller, region, service, operation string) error {
	_, err := l.Acquire(ctx, caller, region, service, operation)
	return err
}

// BucketState is a bucket's current state, for tests and reports.
type BucketState struct {
	Key BucketKey
	// Rate is the current rate (requests per second); Initial the row's.
	Rate, Initial float64
	// Cuts counts the halvings so far.
	Cuts int
}

// Buckets returns the state of every bucket used so far.
func (l *Limiter) Buckets() []BucketState {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]BucketState, 0, len(l.buckets))
	for k, b := range l.buckets {
		b.mu.Lock()
		out = append(out, BucketState{Key: k, Rate: b.rate, Initial: b.initial, Cuts: b.cuts})
		b.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Row < b.Row
	})
	return out
}

// accountKey is the context key of WithAccount.
type accountKey struct{}

// WithAccount returns ctx carrying the ID of the account whose calls are
// made with it: the rate limits key their buckets by it, so that every set
// of credentials for one account (an AssumeRole session and its refreshes)
// shares one bucket per region and row, as AWS counts them.
func WithAccount(ctx context.Context, accountID string) context.Context {
	return context.WithValue(ctx, accountKey{}, accountID)
}

// AccountFrom returns the account ID WithAccount put in ctx, or "".
func AccountFrom(ctx context.Context) string {
	id, _ := ctx.Value(accountKey{}).(string)
	return id
}

// IsThrottle reports whether an attempt's error is AWS throttling: one of
// the SDK's throttling error codes (Throttling, ThrottlingException,
// RequestLimitExceeded, TooManyRequestsException, SlowDown, ...) or an HTTP
// 429 or 503 answer.
func IsThrottle(err error) bool {
	if err == nil {
		return false
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		code := status.HTTPStatusCode()
		return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
	}
	return false
}

// rateLimitID is the middleware's ID in the stack.
const rateLimitID = "PostureRateLimit"

// Install adds the limiter to an SDK client's stack (use it in
// aws.Config.APIOptions). It runs at the end of the Finalize step, after
// signing, so that it sees the access key the request is signed with, and
// after the retry middleware, so that every attempt takes a token and every
// attempt's outcome (throttled or answered) adapts the bucket. The bucket's
// caller is the account WithAccount put in the context, else the account
// encoded in the access key (AccountOfKey), else the access key itself.
func (l *Limiter) Install(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(rateLimitID,
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			caller := AccountFrom(ctx)
			if caller == "" {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					key := AccessKeyID(req.Header.Get("Authorization"))
					if caller = AccountOfKey(key); caller == "" {
						caller = key
					}
				}
			}
			service := ServiceKey(awsmiddleware.GetServiceID(ctx))
			ticket, err := l.Acquire(ctx, caller, awsmiddleware.GetRegion(ctx), service, awsmiddleware.GetOperationName(ctx))
			if err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			out, md, err := next.HandleFinalize(ctx, in)
			switch {
			case err == nil:
				ticket.Done(false)
			case IsThrottle(err):
				ticket.Done(true)
			}
			return out, md, err
		}), middleware.After)
}

// AccessKeyID returns the access key ID of a SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ..."),
// or "" when there is none.
func AccessKeyID(authorization string) string {
	_, rest, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	akid, _, _ := strings.Cut(rest, "/")
	return strings.TrimSpace(akid)
}

// keyAlphabet is the base32 alphabet of access key IDs.
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// AccountOfKey returns the account ID encoded in an AKIA or ASIA access key
// ID, or "" when the key encodes none (keys issued before AWS began encoding
// the account): characters 5 to 12 are the base32 of account/2 with bit 39
// set, and the 13th character's alphabet index is 16 or more when the
// account ID is odd.
func AccountOfKey(key string) string {
	if len(key) < 16 || (key[:4] != "AKIA" && key[:4] != "ASIA") {
		return ""
	}
	var n uint64
	for i := 4; i < 12; i++ {
		d := strings.IndexByte(keyAlphabet, key[i])
		if d < 0 {
			return ""
		}
		n = n<<5 | uint64(d)
	}
	last := strings.IndexByte(keyAlphabet, key[12])
	if last < 0 || n < 1<<39 {
		return ""
	}
	return fmt.Sprintf("%012d", (n-1<<39)*2+uint64(last/16))
}
