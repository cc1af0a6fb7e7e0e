// Package awsenv builds the AWS configuration the scanner runs with (the
// standard credential chain, an emulator endpoint, a patient standard
// retryer, one shared HTTP client, the read-only guard on every client),
// finds out who the caller is, and computes the regions to scan. The
// adaptive client-side rate limits are in ratelimits.go.
package awsenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/posture-dev/posture/internal/readonly"
)

// DefaultMaxAttempts is how many times a throttled or failed call is tried
// before its scope is recorded as a gap. The SDK's default is 3; a scan of
// many accounts meets throttling and should slow down rather than lose data.
const DefaultMaxAttempts = 10

// DefaultMaxBackoff caps the wait between two attempts of one call.
const DefaultMaxBackoff = 20 * time.Second

// Options selects the credentials and endpoint.
type Options struct {
	// Profile is a named profile of the shared config files; empty uses
	// AWS_PROFILE or the default chain.
	Profile string
	// Region is the region for calls that need one before regions are
	// resolved; empty uses AWS_REGION, else us-east-1.
	Region string
	// EndpointURL points every client at an emulator; empty uses
	// AWS_ENDPOINT_URL when set, else the real AWS endpoints.
	EndpointURL string
	// MaxAttempts overrides DefaultMaxAttempts when positive.
	MaxAttempts int
	// MaxBackoff overrides DefaultMaxBackoff when positive (tests against
	// a fault-injecting proxy use a few milliseconds).
	MaxBackoff time.Duration
	// NoRateLimits turns the client-side rate limits (RateLimits) off, for
	// benchmarks against the emulator, which has no quotas to respect.
	NoRateLimits bool
}

// Load builds the base configuration for the caller's account.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	backoff := opts.MaxBackoff
	if backoff <= 0 {
		backoff = DefaultMaxBackoff
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithHTTPClient(SharedHTTPClient()),
		config.WithRetryer(func() aws.Retryer { return NewRetryerWith(attempts, backoff) }),
	}
	if opts.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		loaders = append(loaders, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		if pnf := asProfileNotFound(err); pnf != nil {
			return aws.Config{}, pnf
		}
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if opts.EndpointURL != "" {
		if _, err := url.ParseRequestURI(opts.EndpointURL); err != nil {
			return aws.Config{}, fmt.Errorf("endpoint URL %q: %w", opts.EndpointURL, err)
		}
		cfg.BaseEndpoint = aws.String(opts.EndpointURL)
	}
	cfg.APIOptions = append(cfg.APIOptions, readonly.Install)
	if !opts.NoRateLimits {
		// One Limiter per Load: every client built from cfg, or from a
		// copy of it with other credentials, shares its buckets.
		cfg.APIOptions = append(cfg.APIOptions, NewLimiter().Install)
	}
	return cfg, nil
}

// NewRetryer returns NewRetryerWith(maxAttempts, DefaultMaxBackoff).
func NewRetryer(maxAttempts int) aws.Retryer {
	return NewRetryerWith(maxAttempts, DefaultMaxBackoff)
}

// NewRetryerWith returns the SDK's standard retryer with maxAttempts
// attempts, exponential backoff with jitter capped at maxBackoff, and no
// client-side retry quota (ratelimit.None), so that sustained throttling
// slows calls down instead of failing them early. Slowing the send rate is
// the rate limits' job (Limiter: their buckets halve on a throttle), not the
// retryer's: the SDK's adaptive mode cut its rate to 0.5 requests/s under
// random throttling and made a scan 5 to 15 times slower (BENCHMARKS.md).
func NewRetryerWith(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		so.Backoff = backoff{other: retry.NewExponentialJitterBackoff(maxBackoff), throttleCap: min(maxBackoff, maxThrottleBackoff)}
		so.RateLimiter = ratelimit.None
	})
}

// Backoff after a throttle: a short jittered wait, growing from
// throttleBackoffBase and capped at maxThrottleBackoff (see backoff).
const (
	throttleBackoffBase = 50 * time.Millisecond
	maxThrottleBackoff  = time.Second
)

// backoff is the wait before a retry. A throttled call is retried after a
// short jittered wait (up to throttleBackoffBase x 2^(attempt-1), at most
// throttleCap): the rate limiter's bucket, halved on the throttle, is what
// slows the calls down, so a long wait here would only leave the halved
// rate unused. Other failures (5xx, dropped connections) back off
// exponentially with jitter up to the configured maximum.
type backoff struct {
	other       retry.BackoffDelayer
	throttleCap time.Duration
}

// BackoffDelay implements retry.BackoffDelayer.
func (b backoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	if !IsThrottle(err) {
		return b.other.BackoffDelay(attempt, err)
	}
	limit := b.throttleCap
	if attempt >= 1 && attempt < 16 {
		limit = min(limit, throttleBackoffBase<<(attempt-1))
	}
	if limit <= 0 {
		return 0, nil
	}
	return time.Duration(rand.Int64N(int64(limit) + 1)), nil
}

// HTTP client settings. A run has one HTTP client (SharedHTTPClient) for
// every AWS client of every account and region, so connections are pooled
// across them. Up to DefaultAccountConcurrency x DefaultScopeConcurrency x
// fanout.DefaultLimit (4 x 8 x 8 = 256) calls are in flight at once; against
// AWS they spread over one host per service and region, against an emulator
// they all go to one host, hence the generous per-host idle pool.
const (
	maxIdleConns        = 1024
	maxIdleConnsPerHost = 128
	idleConnTimeout     = 90 * time.Second
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	// responseHeaderTimeout bounds the wait for a response's headers: a
	// call that hangs longer is failed and retried.
	responseHeaderTimeout = 60 * time.Second
)

// SharedHTTPClient returns the process's one HTTP client for AWS calls. It
// is built on first use and the same instance is returned to every caller,
// so every configuration Load builds shares one connection pool. Its
// transport refuses any request that is not on the read-only allow-list
// (readonly.GuardTransport).
var SharedHTTPClient = sync.OnceValue(func() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = dialTimeout
		}).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = maxIdleConns
			t.MaxIdleConnsPerHost = maxIdleConnsPerHost
			t.IdleConnTimeout = idleConnTimeout
			t.TLSHandshakeTimeout = tlsHandshakeTimeout
			t.ResponseHeaderTimeout = responseHeaderTimeout
			// The second read-only check: every request is checked on
			// the wire before it is sent, so that a client built without
			// the guard middleware is still refused.
			readonly.GuardTransport(t)
		})
})

// Caller is the identity behind a configuration.
type Caller struct {
	AccountID string
	ARN       string
	Partition string
}

// S3 returns an S3 client for region. Against a custom endpoint (an emulator)
// it uses path-style addressing, as bucket-name host prefixes do not resolve
// on loopback.
func S3(cfg aws.Config, region string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Region = region
		if cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// S3Control returns an S3 Control client. Against a custom endpoint the SDK
// would prefix the account ID to the host ("123456789012.127.0.0.1"), which
// does not resolve on loopback: the default resolution is kept (its path and
// signing properties) and only the scheme and host are put back.
func S3Control(cfg aws.Config) *s3control.Client {
	return s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		if o.BaseEndpoint == nil {
			return
		}
		o.EndpointResolverV2 = baseHostResolver{next: s3control.NewDefaultEndpointResolverV2(), base: aws.ToString(o.BaseEndpoint)}
	})
}

// baseHostResolver resolves with next, then restores base's scheme and host.
type baseHostResolver struct {
	next s3control.EndpointResolverV2
	base string
}

func (r baseHostResolver) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.next.ResolveEndpoint(ctx, p)
	if err != nil {
		return ep, err
	}
	u, err := url.Parse(r.base)
	if err != nil {
		return ep, fmt.Errorf("parse endpoint %q: %w", r.base, err)
	}
	ep.URI.Scheme, ep.URI.Host = u.Scheme, u.Host
	return ep, nil
}
