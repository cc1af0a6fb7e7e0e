package s3

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestBucketUnencrypted(t *testing.T) {
	kms := EncryptionRule{SSEAlgorithm: "aws:kms", KMSMasterKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k1", BucketKeyEnabled: true}
	tests := []struct {
		name     string
		bucket   Bucket
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"no configuration", Bucket{Name: "b"}, model.StatusFail, "bucket b has no default encryption configuration",
			map[string]any{"sse_configuration": "no SSE configuration"}},
		{"SSE-S3", Bucket{Name: "b", Encryption: &Encryption{Rules: []EncryptionRule{{SSEAlgorithm: "AES256"}}}}, model.StatusPass,
			"bucket b encrypts new objects by default (AES256)",
			map[string]any{"sse_algorithm": "AES256", "kms_master_key_id": "", "bucket_key_enabled": false}},
		{"SSE-KMS with a bucket key", Bucket{Name: "b", Encryption: &Encryption{Rules: []EncryptionRule{kms}}}, model.StatusPass,
			"bucket b encrypts new objects by default (aws:kms with key arn:aws:kms:eu-west-1:111122223333:key/k1)",
			map[string]any{"sse_algorithm": "aws:kms", "kms_master_key_id": kms.KMSMasterKeyID, "bucket_key_enabled": true}},
		{"rule without a default, then one with", Bucket{Name: "b", Encryption: &Encryption{Rules: []EncryptionRule{{BucketKeyEnabled: true}, kms}}}, model.StatusPass,
			"(aws:kms with key",
			map[string]any{"sse_algorithm": "aws:kms", "kms_master_key_id": kms.KMSMasterKeyID, "bucket_key_enabled": true,
				"rules": []EncryptionRule{{BucketKeyEnabled: true}, kms}}},
		{"configuration with no rule", Bucket{Name: "b", Encryption: &Encryption{}}, model.StatusFail,
			"bucket b has an encryption configuration with no default algorithm",
			map[string]any{"sse_configuration": "no rule sets a default algorithm", "rules": []EncryptionRule(nil)}},
		{"rule without an algorithm", Bucket{Name: "b", Encryption: &Encryption{Rules: []EncryptionRule{{BucketKeyEnabled: true}}}}, model.StatusFail,
			"no default algorithm",
			map[string]any{"sse_configuration": "no rule sets a default algorithm", "rules": []EncryptionRule{{BucketKeyEnabled: true}}}},
		{"unreadable", Bucket{Name: "b", EncryptionError: "AccessDenied: Access Denied"}, model.StatusError,
			"could not read the default encryption of bucket b: AccessDenied: Access Denied",
			map[string]any{"encryption_error": "AccessDenied: Access Denied"}},
		{"unreadable wins over a stale configuration", Bucket{Name: "b", EncryptionError: "SlowDown", Encryption: &Encryption{Rules: []EncryptionRule{kms}}}, model.StatusError,
			"could not read", map[string]any{"encryption_error": "SlowDown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.bucket.Region = "eu-west-1"
			got := evalCheck(t, "s3-bucket-unencrypted", &Inventory{AccountID: acct, Partition: "aws", Buckets: []Bucket{tt.bucket}})
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.Status != tt.status || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("finding = %s %q, want %s %q", f.Status, f.Message, tt.status, tt.msg)
			}
			if f.ResourceID != "b" || f.Region != "eu-west-1" || f.ResourceARN != "arn:aws:s3:::b" {
				t.Errorf("resource = %q %q %q", f.ResourceID, f.Region, f.ResourceARN)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := evalCheck(t, "s3-bucket-unencrypted", &Inventory{AccountID: acct}); len(got) != 0 {
		t.Errorf("no buckets: %d findings", len(got))
	}
}

// tlsPolicy is a policy with one Deny statement for bucket "b".
func tlsPolicy(principal, action, resource, condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"TLS","Effect":"Deny","Principal":` + principal +
		`,"Action":` + action + `,"Resource":` + resource + `,"Condition":` + condition + `}]}`
}

const (
	bothResources = `["arn:aws:s3:::b","arn:aws:s3:::b/*"]`
	boolFalse     = `{"Bool":{"aws:SecureTransport":"false"}}`
)

func TestBucketTLSNotEnforced(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		status  model.Status
		msg     string
		reasons []string
	}{
		{"no policy", "", model.StatusFail, "bucket b has no policy, so requests without TLS are not denied", []string{"the bucket has no policy"}},
		{"whitespace policy", "  ", model.StatusFail, "has no policy", []string{"the bucket has no policy"}},
		{"the standard statement", tlsPolicy(`"*"`, `"s3:*"`, bothResources, boolFalse), model.StatusPass,
			"bucket b denies every request without TLS (TLS)", nil},
		{"AWS * principal, BoolIfExists, JSON bool", tlsPolicy(`{"AWS":"*"}`, `"s3:*"`, bothResources, `{"BoolIfExists":{"aws:SecureTransport":false}}`),
			model.StatusPass, "denies every request without TLS", nil},
		{"case-insensitive operator, key, value and action", tlsPolicy(`"*"`, `["S3:*"]`, bothResources, `{"bool":{"AWS:securetransport":["FALSE"]}}`),
			model.StatusPass, "denies every request without TLS", nil},
		{"Action * on objects only", tlsPolicy(`"*"`, `"*"`, `"arn:aws:s3:::b/*"`, boolFalse), model.StatusPass, "denies", nil},
		{"bucket ARN only", tlsPolicy(`"*"`, `"s3:*"`, `"arn:aws:s3:::b"`, boolFalse), model.StatusPass, "denies", nil},
		{"Resource *", tlsPolicy(`"*"`, `"s3:*"`, `"*"`, boolFalse), model.StatusPass, "denies", nil},
		{"Resource wildcard over every bucket", tlsPolicy(`"*"`, `"s3:*"`, `"arn:aws:s3:::*"`, boolFalse), model.StatusPass, "denies", nil},
		{"no Sid: numbered", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},` +
			`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			model.StatusPass, "(statement 2)", nil},
		{"only GetObject denied", tlsPolicy(`"*"`, `"s3:GetObject"`, bothResources, boolFalse), model.StatusFail,
			"does not deny requests without TLS: TLS: it denies only s3:GetObject, not s3:*", []string{"TLS: it denies only s3:GetObject, not s3:*"}},
		{"one principal", tlsPolicy(`{"AWS":"arn:aws:iam::111122223333:root"}`, `"s3:*"`, bothResources, boolFalse), model.StatusFail,
			"its Principal is not *", []string{"TLS: its Principal is not *"}},
		{"other bucket", tlsPolicy(`"*"`, `"s3:*"`, `["arn:aws:s3:::other","arn:aws:s3:::other/*"]`, boolFalse), model.StatusFail,
			"do not cover arn:aws:s3:::b", []string{"TLS: its resources (arn:aws:s3:::other, arn:aws:s3:::other/*) do not cover arn:aws:s3:::b or its objects"}},
		{"a prefix only", tlsPolicy(`"*"`, `"s3:*"`, `"arn:aws:s3:::b/logs/*"`, boolFalse), model.StatusFail, "do not cover", nil},
		{"SecureTransport true", tlsPolicy(`"*"`, `"s3:*"`, bothResources, `{"Bool":{"aws:SecureTransport":"true"}}`), model.StatusFail,
			`its condition matches aws:SecureTransport "true", not false`, nil},
		{"wrong operator", tlsPolicy(`"*"`, `"s3:*"`, bothResources, `{"StringEquals":{"aws:SecureTransport":"false"}}`), model.StatusFail,
			"its condition uses StringEquals, not Bool, on aws:SecureTransport", nil},
		{"narrowed by another condition", tlsPolicy(`"*"`, `"s3:*"`, bothResources, `{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:SourceVpc":"vpc-1"}}`),
			model.StatusFail, "it has further conditions that narrow the deny", nil},
		{"Allow with SecureTransport true", `{"Statement":[{"Sid":"AllowTLS","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
			model.StatusFail, "no Deny statement has an aws:SecureTransport condition", []string{"no Deny statement has an aws:SecureTransport condition"}},
		{"Deny without a condition", `{"Statement":{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::b"}}`,
			model.StatusFail, "no Deny statement has an aws:SecureTransport condition", nil},
		{"NotPrincipal, NotAction, NotResource", `{"Statement":[{"Sid":"Odd","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":"s3:GetObject","NotResource":"arn:aws:s3:::b/public/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			model.StatusFail, "", []string{"Odd: it uses NotPrincipal, so it does not apply to everyone; it uses NotAction, so it does not deny every action; it uses NotResource"}},
		{"one qualifying statement among failing ones", `{"Statement":[` +
			`{"Sid":"Partial","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},` +
			`{"Sid":"Full","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			model.StatusPass, "(Full)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalCheck(t, "s3-bucket-tls-not-enforced", &Inventory{AccountID: acct, Partition: "aws", Buckets: []Bucket{{Name: "b", Region: "us-east-1", Policy: tt.policy}}})
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.Status != tt.status || !strings.Contains(f.Message, tt.msg) {
				t.Errorf("finding = %s %q, want %s %q", f.Status, f.Message, tt.status, tt.msg)
			}
			if f.ResourceID != "b" || f.Region != "us-east-1" || f.ResourceARN != "arn:aws:s3:::b" {
				t.Errorf("resource = %q %q %q", f.ResourceID, f.Region, f.ResourceARN)
			}
			if f.Evidence["has_policy"] != (strings.TrimSpace(tt.policy) != "") {
				t.Errorf("has_policy = %v", f.Evidence["has_policy"])
			}
			if tt.status == model.StatusPass {
				if _, ok := f.Evidence["statement"].(*TLSStatement); !ok {
					t.Errorf("a passing bucket names its statement: %#v", f.Evidence)
				}
				return
			}
			if tt.reasons != nil && !reflect.DeepEqual(f.Evidence["reasons"], tt.reasons) {
				t.Errorf("reasons = %#v, want %#v", f.Evidence["reasons"], tt.reasons)
			}
		})
	}
}

func TestBucketTLSStatementEvidence(t *testing.T) {
	got := evalCheck(t, "s3-bucket-tls-not-enforced", &Inventory{AccountID: acct, Partition: "aws-cn", Buckets: []Bucket{
		{Name: "b", Region: "cn-north-1", Policy: strings.ReplaceAll(tlsPolicy(`"*"`, `"s3:*"`, bothResources, boolFalse), "arn:aws:", "arn:aws-cn:")},
		{Name: "c", Region: "cn-north-1", Policy: tlsPolicy(`"*"`, `"s3:*"`, bothResources, boolFalse)},
	}})
	if len(got) != 2 {
		t.Fatalf("got %d findings", len(got))
	}
	want := &TLSStatement{Label: "TLS", Actions: []string{"s3:*"}, Resources: []string{"arn:aws-cn:s3:::b", "arn:aws-cn:s3:::b/*"}, Condition: `Bool aws:SecureTransport "false"`}
	if got[0].Status != model.StatusPass || !reflect.DeepEqual(got[0].Evidence["statement"], want) || got[0].ResourceARN != "arn:aws-cn:s3:::b" {
		t.Errorf("b = %s %#v", got[0].Status, got[0].Evidence["statement"])
	}
	// Bucket c's policy names bucket b in the aws partition: it protects neither c nor anything in aws-cn.
	if got[1].Status != model.StatusFail {
		t.Errorf("c = %s %q", got[1].Status, got[1].Message)
	}
}

func TestBucketTLSPolicyUnreadable(t *testing.T) {
	tests := []struct {
		name   string
		bucket Bucket
		msg    string
	}{
		{"denied", Bucket{Name: "b", PolicyError: "AccessDenied: Access Denied"}, "could not read the policy of bucket b: AccessDenied: Access Denied"},
		{"malformed", Bucket{Name: "b", Policy: `{"Statement":[`}, "could not parse the policy of bucket b: parse bucket policy"},
		{"statements malformed", Bucket{Name: "b", Policy: `{"Statement":"x"}`}, "could not parse the policy of bucket b: parse bucket policy statements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalCheck(t, "s3-bucket-tls-not-enforced", &Inventory{AccountID: acct, Buckets: []Bucket{tt.bucket}})
			if len(got) != 1 || got[0].Status != model.StatusError || !strings.Contains(got[0].Message, tt.msg) || got[0].Evidence["policy_error"] == nil {
				t.Errorf("findings = %+v", got)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything/at/all", true},
		{"arn:aws:s3:::b", "arn:aws:s3:::b", true},
		{"arn:aws:s3:::b", "arn:aws:s3:::bb", false},
		{"arn:aws:s3:::b*", "arn:aws:s3:::bucket/*", true},
		{"arn:aws:s3:::?", "arn:aws:s3:::b", true},
		{"arn:aws:s3:::?", "arn:aws:s3:::bb", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/*", true},
		{"arn:aws:s3:::b/logs/*", "arn:aws:s3:::b/*", false},
		{"arn:*:s3:::*/*", "arn:aws:s3:::b/*", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestEncryptionUnreadableIsPerBucket checks the wiring: the encryption
// check Reads the per-bucket part, so a denied GetBucketEncryption for one
// bucket is ERROR for that bucket only, the others are judged, and the
// coverage records the failure with the bucket's name.
func TestEncryptionUnreadableIsPerBucket(t *testing.T) {
	svc := Scanner()
	svc.Collect = func(_ context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		gaps.Add(PartBucketEncryption, "GetBucketEncryption", "denied", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"})
		return &Inventory{AccountID: scope.AccountID, Buckets: []Bucket{
			{Name: "denied", Region: "us-east-1", EncryptionError: "AccessDenied: Access Denied"},
			{Name: "plain", Region: "us-east-1"},
			{Name: "sse", Region: "eu-west-1", Encryption: &Encryption{Rules: []EncryptionRule{{SSEAlgorithm: "AES256"}}}},
		}}
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: acct, Region: model.GlobalRegion},
		map[string]bool{"s3-bucket-unencrypted": true, "s3-bucket-tls-not-enforced": true})
	statuses := map[string]model.Status{}
	for _, r := range results {
		statuses[r.CheckID+"/"+r.Region+"/"+r.ResourceID] = r.Status
	}
	want := map[string]model.Status{
		"s3-bucket-unencrypted/us-east-1/denied":      model.StatusError,
		"s3-bucket-unencrypted/us-east-1/plain":       model.StatusFail,
		"s3-bucket-unencrypted/eu-west-1/sse":         model.StatusPass,
		"s3-bucket-tls-not-enforced/us-east-1/denied": model.StatusFail,
		"s3-bucket-tls-not-enforced/us-east-1/plain":  model.StatusFail,
		"s3-bucket-tls-not-enforced/eu-west-1/sse":    model.StatusFail,
	}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Resource != "denied" ||
		cov.Failures[0].Operation != "GetBucketEncryption" || cov.Failures[0].Code != "AccessDenied" ||
		cov.Error != "GetBucketEncryption denied: AccessDenied: Access Denied" {
		t.Errorf("coverage = %+v", cov)
	}
}

func TestNewChecksReadPerBucketParts(t *testing.T) {
	for id, reads := range map[string][]string{
		"s3-bucket-unencrypted":      {PartBucketEncryption},
		"s3-bucket-tls-not-enforced": {PartBucketPolicies},
	} {
		c, ok := check.Lookup(Checks(), id)
		if !ok {
			t.Fatalf("no check %s", id)
		}
		if !reflect.DeepEqual(c.Needs, []string{PartBuckets}) || !reflect.DeepEqual(c.Reads, reads) {
			t.Errorf("%s: needs %v reads %v, want [%s] %v", id, c.Needs, c.Reads, PartBuckets, reads)
		}
	}
}

func TestAllFalse(t *testing.T) {
	for raw, want := range map[string]bool{
		`"false"`: true, `false`: true, `"False"`: true, `["false", false]`: true,
		`"true"`: false, `true`: false, `[]`: false, `["false", "true"]`: false, `0`: false, `null`: false, `{"a":1}`: false, `not json`: false,
	} {
		if got := allFalse([]byte(raw)); got != want {
			t.Errorf("allFalse(%s) = %v, want %v", raw, got, want)
		}
	}
}
