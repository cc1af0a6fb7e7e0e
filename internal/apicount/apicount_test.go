package apicount_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/posture-dev/posture/internal/apicount"
)

// flaky answers GetCallerIdentity, throttling every third request.
type flaky struct{ n atomic.Int32 }

func (f *flaky) Do(*http.Request) (*http.Response, error) {
	if f.n.Add(1)%3 == 0 {
		body := `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`
		return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
	body := `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn>` +
		`<UserId>X</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestCountsCallsAndAttemptsConcurrently(t *testing.T) {
	var c apicount.Counter
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:  &flaky{},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.MaxBackoff = time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
		APIOptions: []func(*middleware.Stack) error{c.Install},
	}
	client := sts.NewFromConfig(cfg)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	snap := c.Snapshot()
	if len(snap) != 1 || snap[0].Service != "STS" || snap[0].Operation != "GetCallerIdentity" || snap[0].Calls != 30 {
		t.Fatalf("snapshot %+v, want 30 STS GetCallerIdentity calls", snap)
	}
	// Every third request is throttled: the N requests sent hold 30
	// successes and N/3 throttles (N is 44 or 45, by the order of the races).
	if a := snap[0].Attempts; a-a/3 != 30 {
		t.Errorf("attempts %d, want 44 or 45", a)
	}
	if calls, attempts := c.Total(); calls != 30 || attempts != snap[0].Attempts {
		t.Errorf("total %d/%d", calls, attempts)
	}
}

// TestNamesEveryService: some clients register their service metadata late
// in Initialize; the counter must still see the service and operation.
func TestNamesEveryService(t *testing.T) {
	var c apicount.Counter
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:  &flaky{}, // any answer will do: the call is counted before it is parsed
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		APIOptions:  []func(*middleware.Stack) error{c.Install},
	}
	_, _ = cloudtrail.NewFromConfig(cfg).DescribeTrails(context.Background(), &cloudtrail.DescribeTrailsInput{})
	snap := c.Snapshot()
	if len(snap) != 1 || snap[0].Service != "CloudTrail" || snap[0].Operation != "DescribeTrails" || snap[0].Calls != 1 || snap[0].Attempts != 1 {
		t.Errorf("snapshot %+v, want one CloudTrail DescribeTrails call and attempt", snap)
	}
}
