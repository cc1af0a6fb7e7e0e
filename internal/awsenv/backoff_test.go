package awsenv

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// A throttled call is retried after a short wait (the bucket, halved, does
// the slowing down); a server error backs off exponentially as before.
func TestRetryBackoff(t *testing.T) {
	b := backoff{other: retry.NewExponentialJitterBackoff(20 * time.Second), throttleCap: time.Second}
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException"}
	for attempt := 1; attempt <= 10; attempt++ {
		want := min(time.Second, throttleBackoffBase<<(attempt-1))
		for i := 0; i < 50; i++ {
			d, err := b.BackoffDelay(attempt, throttle)
			if err != nil || d < 0 || d > want {
				t.Fatalf("throttle, attempt %d: %s, %v; want at most %s", attempt, d, err, want)
			}
		}
	}
	var longest time.Duration
	for i := 0; i < 200; i++ {
		d, _ := b.BackoffDelay(5, &smithy.GenericAPIError{Code: "InternalError"})
		longest = max(longest, d)
	}
	if longest <= time.Second {
		t.Errorf("a server error at attempt 5 waited at most %s; want the exponential backoff (up to 20 s)", longest)
	}
}
