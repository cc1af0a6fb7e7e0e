package apicount_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
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

// flaky answers GetCallerIdentity, throttling the first attempt of every
// third call (counted by the SDK's invocation ID, so that the count does
// not depend on how the concurrent requests interleave).
type flaky struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *flaky) Do(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	id := r.Header.Get("Amz-Sdk-Invocation-Id")
	if _, ok := f.calls[id]; !ok {
		f.calls[id] = len(f.calls) + 1
	}
	n := f.calls[id]
	f.mu.Unlock()
	if n%3 == 0 && strings.HasPrefix(r.Header.Get("Amz-Sdk-Request"), "attempt=1;") {
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
	// The first attempt of every third call is throttled: 30 successes
	// and 10 throttles.
	if a := snap[0].Attempts; a != 40 {
		t.Errorf("attempts %d, want 40", a)
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
