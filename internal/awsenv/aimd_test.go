package awsenv_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/posture-dev/posture/internal/awsenv"
)

// fakeClock is a Clock whose Sleep advances its time at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) advance(d time.Duration) { _ = c.Sleep(context.Background(), d) }

// rateOf returns the current rate of the only bucket of l.
func rateOf(t *testing.T, l *awsenv.Limiter) float64 {
	t.Helper()
	b := l.Buckets()
	if len(b) != 1 {
		t.Fatalf("%d buckets, want 1: %+v", len(b), b)
	}
	return b[0].Rate
}

func acquire(t *testing.T, l *awsenv.Limiter) awsenv.Ticket {
	t.Helper()
	tk, err := l.Acquire(context.Background(), "111122223333", "us-east-1", "ec2", "DescribeVpcs")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestBucketHalvesOnThrottleAndRecoversAdditively(t *testing.T) {
	clock := newFakeClock()
	l := awsenv.NewLimiterWithClock([]awsenv.RateLimit{{Service: "ec2", Rate: 20, Burst: 4}}, clock)

	inFlight := acquire(t, l) // sent before the first halving
	acquire(t, l).Done(true)
	if r := rateOf(t, l); r != 10 {
		t.Fatalf("after a throttle: rate %v, want 10", r)
	}
	inFlight.Done(true) // sent at the old rate: says nothing about the new one
	if r := rateOf(t, l); r != 10 {
		t.Fatalf("a throttle of an attempt sent before the halving halved again: %v", r)
	}

	// The halving halved the tokens too (2 left of the burst of 4: 1), and
	// the bucket refills at 10 per second: 1 attempt at once, 10 more in 1 s.
	begin := clock.Now()
	for range 11 {
		acquire(t, l)
	}
	if d := clock.Now().Sub(begin); math.Abs(d.Seconds()-1) > 0.01 {
		t.Errorf("11 attempts at 10/s with 1 token left after the halving took %v, want 1s", d)
	}

	for _, want := range []float64{5, 2.5, 1.25, 1, 1} { // floor: 1 per second
		acquire(t, l).Done(true)
		if r := rateOf(t, l); r != want {
			t.Fatalf("rate %v, want %v", r, want)
		}
	}
	// Each success adds Rate/RecoverySteps = 2 per second, up to the row's rate.
	for i, want := range []float64{3, 5, 7, 9, 11, 13, 15, 17, 19, 20, 20} {
		acquire(t, l).Done(false)
		if r := rateOf(t, l); r != want {
			t.Fatalf("success %d: rate %v, want %v", i+1, r, want)
		}
	}
	if b := l.Buckets()[0]; b.Cuts != 6 || b.Initial != 20 {
		t.Errorf("bucket state %+v, want 6 cuts from 20", b)
	}

	// Recovered: the bucket refills at 20 per second again.
	clock.advance(time.Minute)
	begin = clock.Now()
	for range 4 + 20 { // the burst, then 20 at 20/s
		acquire(t, l)
	}
	if d := clock.Now().Sub(begin); math.Abs(d.Seconds()-1) > 0.01 {
		t.Errorf("burst + 20 attempts at 20/s took %v, want 1s", d)
	}
}

func TestLimiterGivesUpAWaitBeyondTheDeadline(t *testing.T) {
	clock := newFakeClock()
	l := awsenv.NewLimiterWithClock([]awsenv.RateLimit{{Service: "ec2", Rate: 1, Burst: 1}}, clock)
	acquire(t, l)
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(500*time.Millisecond))
	defer cancel()
	if _, err := l.Acquire(ctx, "111122223333", "us-east-1", "ec2", "DescribeVpcs"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("a 1 s wait with a 0.5 s deadline: err %v", err)
	}
	// The abandoned token was given back: the next wait is 1 s, not 2.
	begin := clock.Now()
	acquire(t, l)
	if d := clock.Now().Sub(begin); d != time.Second {
		t.Errorf("wait after an abandoned one: %v, want 1s", d)
	}
}

func TestIsThrottle(t *testing.T) {
	status := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: fmt.Errorf("status %d", code)}
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&smithy.GenericAPIError{Code: "Throttling"}, true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{&smithy.GenericAPIError{Code: "RequestLimitExceeded"}, true},
		{&smithy.GenericAPIError{Code: "TooManyRequestsException"}, true},
		{&smithy.GenericAPIError{Code: "SlowDown"}, true},
		{status(429), true},
		{status(503), true},
		{status(500), false},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{context.Canceled, false},
	} {
		if got := awsenv.IsThrottle(c.err); got != c.want {
			t.Errorf("IsThrottle(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// keyFor returns an access key ID with prefix that encodes account, as AWS
// encodes it (the inverse of AccountOfKey), followed by suffix.
func keyFor(prefix string, account uint64, suffix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	n := account/2 | 1<<39
	var b strings.Builder
	b.WriteString(prefix)
	for i := 7; i >= 0; i-- {
		b.WriteByte(alphabet[(n>>(5*i))&31])
	}
	b.WriteByte(alphabet[(account%2)*16+3])
	b.WriteString(suffix)
	return b.String()
}

func TestAccountOfKey(t *testing.T) {
	for _, acct := range []uint64{123456789012, 111122223333, 200000000001, 1} {
		for _, prefix := range []string{"AKIA", "ASIA"} {
			key := keyFor(prefix, acct, "XYZ")
			if got, want := awsenv.AccountOfKey(key), fmt.Sprintf("%012d", acct); got != want {
				t.Errorf("AccountOfKey(%q) = %q, want %q", key, got, want)
			}
		}
	}
	for _, key := range []string{"", "AKIDRATELIMIT", "AROAEXAMPLEEXAMPLE1", "AKIAIOSFODNN7EXAMPLE", "AKIA1!!!!!!!!!!!!!"} {
		if got := awsenv.AccountOfKey(key); got != "" {
			t.Errorf("AccountOfKey(%q) = %q, want none", key, got)
		}
	}
}

// throttlingSTS answers the first n requests with a Throttling error, then
// GetCallerIdentity responses.
type throttlingSTS struct {
	n     int32
	calls atomic.Int32
}

func (f *throttlingSTS) Do(*http.Request) (*http.Response, error) {
	if f.calls.Add(1) <= f.n {
		body := `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`
		return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
	return (&fakeSTS{}).Do(nil)
}

// TestMiddlewareAdaptsTheAccountsBucket: every attempt takes a token from
// the bucket of the account (not of the access key: a refreshed session
// keeps its bucket), each throttled attempt halves it, a success adds back.
func TestMiddlewareAdaptsTheAccountsBucket(t *testing.T) {
	clock := newFakeClock()
	l := awsenv.NewLimiterWithClock([]awsenv.RateLimit{{Service: "sts", Rate: 100, Burst: 100}}, clock)
	fake := &throttlingSTS{n: 2}
	client := func(key string) *sts.Client {
		return sts.NewFromConfig(aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "token"),
			HTTPClient:  fake,
			Retryer:     func() aws.Retryer { return awsenv.NewRetryerWith(5, time.Millisecond) },
			APIOptions:  []func(*middleware.Stack) error{l.Install},
		})
	}
	ctx := context.Background()
	// Two sessions of account 200000000001 (as after a credential refresh).
	if _, err := client(keyFor("ASIA", 200000000001, "AAA")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// 2 throttled attempts: 100 -> 50 -> 25; 1 success: +10.
	if r := rateOf(t, l); r != 35 {
		t.Errorf("rate after 2 throttles and a success: %v, want 35", r)
	}
	if _, err := client(keyFor("ASIA", 200000000001, "BBB")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if r := rateOf(t, l); r != 45 {
		t.Errorf("the refreshed session did not share the account's bucket: rate %v, want 45", r)
	}
	if k := l.Buckets()[0].Key; k.Caller != "200000000001" || k.Region != "us-east-1" || k.Service != "sts" {
		t.Errorf("bucket key %+v", k)
	}

	// The account in the context wins over the key; a key that encodes no
	// account has a bucket of its own.
	_, _ = client("AKIDNOACCOUNT").GetCallerIdentity(awsenv.WithAccount(ctx, "333344445555"), &sts.GetCallerIdentityInput{})
	_, _ = client("AKIDNOACCOUNT").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var callers []string
	for _, b := range l.Buckets() {
		callers = append(callers, b.Key.Caller)
	}
	if got := strings.Join(callers, " "); got != "200000000001 333344445555 AKIDNOACCOUNT" {
		t.Errorf("bucket callers %q", got)
	}
}
