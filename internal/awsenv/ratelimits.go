package awsenv

// Client-side rate limits, as data.
//
// AWS throttles API calls per account (and for regional services per
// region) with token buckets. A scan is rarely the only user of an account:
// deployment pipelines, consoles and other tools draw on the same buckets.
// So each row below sets our own limit to about HALF of the published rate
// (and half of the published burst where one is published), leaving the
// other half as headroom for the account's other users. Where AWS publishes
// no per-second figure for an operation, the row says so and uses a
// conservative default (DefaultRate) rather than a guessed quota.
//
// The limits are token buckets (golang.org/x/time/rate), one per caller
// identity (the SigV4 access key ID), region (none for global services) and
// row, so that two accounts, or two regions of one account, never share a
// bucket, just as AWS keeps them apart. The middleware that takes a token
// runs once per attempt (retries draw tokens too, as they do at AWS) and
// waits with the request's context: a cancelled scan stops waiting at once.
//
// Rows whose figure was recalled rather than read on the cited page say so
// in their Quota; check them against the page before raising a limit.
//
// Every scanner's service must have a row (ratelimits_test.go checks it
// against the scanner registry). An operation without a row of its own uses
// its service's row (Operations empty).

import (
	"context"
	"fmt"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/time/rate"
)

// DefaultRate and DefaultBurst are used by rows whose service publishes no
// per-second figure: low enough not to be noticed by AWS, high enough that a
// scan of a few hundred resources per scope takes seconds.
const (
	DefaultRate  = 10
	DefaultBurst = 20
)

// RateLimit is one row of the table: our limit for a service, or for some
// operations of it, and the AWS quota it respects.
type RateLimit struct {
	// Service is the SDK service ID, lowercased without spaces: "ec2",
	// "secretsmanager", "s3control", as ServiceKey returns it.
	Service string
	// Operations are the operations this row covers; empty: every
	// operation of the service without a row of its own.
	Operations []string
	// Rate is our sustained limit in requests per second.
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
		{Service: "ec2", Rate: 10, Burst: 50,
			Quota:  "EC2 API request rate limiting, non-mutating (Describe*) actions: bucket 100 tokens, refill 20 per second, per account and region",
			Source: "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"},
		{Service: "iam", Rate: DefaultRate, Burst: DefaultBurst, Global: true,
			Quota:  "IAM API request rate: none published (IAM is a global control plane shared by the whole account)",
			Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"},
		{Service: "sts", Rate: 300, Burst: 300,
			Quota:  "AWS STS request quota: 600 requests per second per account per region (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"},
		{Service: "s3", Rate: 2750, Burst: 1000,
			Quota:  "S3 request rate: 5,500 GET/HEAD requests per second per partitioned prefix (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"},
		{Service: "s3control", Rate: DefaultRate, Burst: DefaultBurst, Global: true,
			Quota:  "S3 Control (account public access block) request rate: none published",
			Source: "https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html"},
		{Service: "rds", Rate: 6, Burst: 150,
			Quota:  "Amazon RDS API request throttling: burst 300 requests, sustained 12 requests per second, per account and region (all RDS API operations share it)",
			Source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html"},
		{Service: "kms", Operations: []string{"ListKeys", "ListAliases"}, Rate: 50, Burst: 50,
			Quota:  "KMS request quotas: ListKeys and ListAliases 100 requests per second each (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Operations: []string{"DescribeKey"}, Rate: 1000, Burst: 100,
			Quota:  "KMS request quotas: DescribeKey 2,000 requests per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Operations: []string{"GetKeyRotationStatus", "GetKeyPolicy"}, Rate: 500, Burst: 100,
			Quota:  "KMS request quotas: GetKeyRotationStatus and GetKeyPolicy 1,000 requests per second each (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "kms", Rate: 25, Burst: 25,
			Quota:  "KMS request quotas: other read operations (e.g. ListResourceTags) 50 requests per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"},
		{Service: "secretsmanager", Operations: []string{"ListSecrets"}, Rate: 50, Burst: 50,
			Quota:  "Secrets Manager quotas: ListSecrets 100 requests per second",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "secretsmanager", Operations: []string{"DescribeSecret"}, Rate: 500, Burst: 100,
			Quota:  "Secrets Manager quotas: DescribeSecret 40,000 requests per second (ours far below half: a scan needs no more)",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "secretsmanager", Rate: 25, Burst: 25,
			Quota:  "Secrets Manager quotas: combined rate of GetResourcePolicy and the other resource-policy APIs 50 per second",
			Source: "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"},
		{Service: "acm", Operations: []string{"ListCertificates"}, Rate: 0.5, Burst: 1,
			Quota:  "ACM API rate quotas: ListCertificates 1 request per second (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html"},
		{Service: "acm", Rate: 5, Burst: 5,
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
		{Service: "kinesis", Operations: []string{"DescribeStreamSummary"}, Rate: 10, Burst: 10,
			Quota:  "Kinesis DescribeStreamSummary: 20 transactions per second per account",
			Source: "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html"},
		{Service: "kinesis", Rate: 2.5, Burst: 2,
			Quota:  "Kinesis ListStreams: 5 transactions per second per account (figure recalled, not yet checked against the page)",
			Source: "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListStreams.html"},
		{Service: "lambda", Operations: []string{"GetFunction", "GetPolicy"}, Rate: 50, Burst: 50,
			Quota:  "Lambda API requests: GetFunction and GetPolicy 100 requests per second each",
			Source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"},
		{Service: "lambda", Rate: 7, Burst: 7,
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
		{Service: "cloudtrail", Rate: DefaultRate, Burst: DefaultBurst,
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

// Limiter holds the token buckets of one run. Its zero value is not usable:
// create it with NewLimiter. It is safe for concurrent use.
type Limiter struct {
	rows []RateLimit

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
}

type bucketKey struct {
	accessKey, region, service string
	row                        int
}

// NewLimiter returns a Limiter over RateLimits().
func NewLimiter() *Limiter {
	return NewLimiterFor(RateLimits())
}

// NewLimiterFor returns a Limiter over the given rows (tests use small ones).
func NewLimiterFor(rows []RateLimit) *Limiter {
	return &Limiter{rows: rows, buckets: map[bucketKey]*rate.Limiter{}}
}

// Wait blocks until the bucket of (accessKey, region, service, operation)
// has a token, or ctx is done. A service without a row is not limited.
func (l *Limiter) Wait(ctx context.Context, accessKey, region, service, operation string) error {
	i := rowIndex(l.rows, service, operation)
	if i < 0 {
		return nil
	}
	r := l.rows[i]
	key := bucketKey{accessKey: accessKey, region: region, service: service, row: i}
	if r.Global {
		key.region = ""
	}
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(r.Rate), max(r.Burst, 1))
		l.buckets[key] = b
	}
	l.mu.Unlock()
	if err := b.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The limiter saw that the wait would outlast ctx's deadline
			// and gave up early: report it as the deadline it is.
			return fmt.Errorf("client-side rate limit for %s:%s: %w (%w)", service, operation, err, context.DeadlineExceeded)
		}
		return fmt.Errorf("client-side rate limit for %s:%s: %w", service, operation, ctx.Err())
	}
	return nil
}

// rateLimitID is the middleware's ID in the stack.
const rateLimitID = "PostureRateLimit"

// Install adds the limiter to an SDK client's stack (use it in
// aws.Config.APIOptions). It runs at the end of the Finalize step, after
// signing, so that it sees the access key the request is signed with, and
// after the retry middleware, so that every attempt takes a token.
func (l *Limiter) Install(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(rateLimitID,
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			accessKey := ""
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				accessKey = AccessKeyID(req.Header.Get("Authorization"))
			}
			service := ServiceKey(awsmiddleware.GetServiceID(ctx))
			if err := l.Wait(ctx, accessKey, awsmiddleware.GetRegion(ctx), service, awsmiddleware.GetOperationName(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
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
