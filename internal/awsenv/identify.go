package awsenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Identify asks STS who the configuration's credentials belong to. It is the
// first AWS call of a scan, so it fails fast and says what to do: a
// connection that cannot be made (refused, unknown host, no route) is not
// retried, and missing or rejected credentials are explained with the source
// that was tried (see IdentityError). Throttling and 5xx answers keep the
// configuration's patient retries.
func Identify(ctx context.Context, cfg aws.Config) (Caller, error) {
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if base, ok := o.Retryer.(aws.RetryerV2); ok {
			o.Retryer = failFastRetryer{base}
		}
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, explainIdentityError(ctx, cfg, err)
	}
	c := Caller{AccountID: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	parsed, err := arn.Parse(c.ARN)
	if err != nil {
		return Caller{}, fmt.Errorf("parse caller ARN %q: %w", c.ARN, err)
	}
	c.Partition = parsed.Partition
	return c, nil
}

// failFastRetryer is the configuration's retryer, except that an error
// connecting to the endpoint is not retried.
type failFastRetryer struct{ aws.RetryerV2 }

func (r failFastRetryer) IsErrorRetryable(err error) bool {
	if IsConnectionError(err) {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

// IsConnectionError reports whether err is a failure to reach the endpoint at
// all: a refused connection, an unknown host, an unreachable network, or a
// dial timeout. Such errors do not heal by retrying within seconds.
func IsConnectionError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// IdentityError is a failed sts:GetCallerIdentity, explained: what was tried
// and what the user can do about it.
type IdentityError struct {
	// Problem says what went wrong in a sentence.
	Problem string
	// Advice says what to check or run next.
	Advice string
	Err    error
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("%s\n  %s\n  cause: %v", e.Problem, e.Advice, e.Err)
}

func (e *IdentityError) Unwrap() error { return e.Err }

// credentialAdvice is what to do when no usable credentials were found.
const credentialAdvice = "posture uses the standard AWS credential chain: pass --profile NAME (or set AWS_PROFILE), " +
	"run `aws sso login --profile NAME` for an SSO profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
	"(and AWS_SESSION_TOKEN for temporary credentials)."

// explainIdentityError turns the SDK's error of the identity call into an
// IdentityError; the cancellation of ctx is returned as it is.
func explainIdentityError(ctx context.Context, cfg aws.Config, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("identify caller with sts:GetCallerIdentity: %w", err)
	}
	endpoint := aws.ToString(cfg.BaseEndpoint)
	if endpoint == "" {
		endpoint = "https://sts." + cfg.Region + ".amazonaws.com"
	}
	if IsConnectionError(err) {
		return &IdentityError{
			Problem: fmt.Sprintf("cannot reach AWS STS at %s (region %s) to call sts:GetCallerIdentity", endpoint, cfg.Region),
			Advice: "check the network connection and any proxy (HTTPS_PROXY), the endpoint (--endpoint-url or AWS_ENDPOINT_URL) " +
				"and the region (--region or AWS_REGION).",
			Err: err,
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "get credentials"):
		problem := "no usable AWS credentials were found"
		if strings.Contains(msg, "sso") || strings.Contains(msg, "SSO") {
			problem = "the AWS SSO session could not be used (it may have expired)"
		}
		return &IdentityError{Problem: problem, Advice: credentialAdvice, Err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "AuthFailure",
			"ExpiredToken", "ExpiredTokenException", "InvalidToken", "AccessDenied", "AccessDeniedException":
			source := "the credential chain"
			if creds, cerr := cfg.Credentials.Retrieve(ctx); cerr == nil && creds.Source != "" {
				source = creds.Source
			}
			return &IdentityError{
				Problem: fmt.Sprintf("AWS rejected the credentials from %s (%s)", source, api.ErrorCode()),
				Advice:  "the keys may be wrong, deactivated or expired. " + credentialAdvice,
				Err:     err,
			}
		}
	}
	return fmt.Errorf("identify caller with sts:GetCallerIdentity at %s: %w", endpoint, err)
}

// ProfileNotFoundError is a --profile (or AWS_PROFILE) that no shared config
// or credentials file defines.
type ProfileNotFoundError struct {
	Profile string
	// Known are the profiles the shared files define, sorted.
	Known []string
	Err   error
}

func (e *ProfileNotFoundError) Error() string {
	known := "none (no ~/.aws/config or ~/.aws/credentials profile)"
	if len(e.Known) > 0 {
		known = strings.Join(e.Known, ", ")
	}
	return fmt.Sprintf("AWS profile %q is not defined; profiles found: %s", e.Profile, known)
}

func (e *ProfileNotFoundError) Unwrap() error { return e.Err }

// asProfileNotFound returns a ProfileNotFoundError for the SDK's error about
// a missing profile, else nil.
func asProfileNotFound(err error) error {
	var missing config.SharedConfigProfileNotExistError
	if !errors.As(err, &missing) {
		return nil
	}
	return &ProfileNotFoundError{Profile: missing.Profile, Known: SharedProfiles(), Err: err}
}

// SharedProfiles lists the profile names defined in the shared config and
// credentials files (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/config and ~/.aws/credentials), sorted.
func SharedProfiles() []string {
	home, _ := os.UserHomeDir()
	configFile := os.Getenv("AWS_CONFIG_FILE")
	if configFile == "" {
		configFile = filepath.Join(home, ".aws", "config")
	}
	credentialsFile := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credentialsFile == "" {
		credentialsFile = filepath.Join(home, ".aws", "credentials")
	}
	seen := map[string]bool{}
	for _, f := range []struct {
		path     string
		isConfig bool
	}{{configFile, true}, {credentialsFile, false}} {
		for _, name := range iniSections(f.path) {
			if f.isConfig {
				if name != "default" && !strings.HasPrefix(name, "profile ") {
					continue // [sso-session x], [services x]
				}
				name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			}
			if name != "" {
				seen[name] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// iniSections returns the section names of an INI file; none when it
// cannot be read.
func iniSections(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			out = append(out, strings.TrimSpace(line[1:len(line)-1]))
		}
	}
	return out
}
