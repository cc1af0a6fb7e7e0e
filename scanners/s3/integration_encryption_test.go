package s3_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

// encSpec is a bucket with an optional default encryption rule and policy.
type encSpec struct {
	name, region string
	sse          s3types.ServerSideEncryption // empty: no default encryption
	kmsKey       string
	bucketKey    bool
	policy       string
}

func createEncryptedBuckets(t *testing.T, url string, specs []encSpec) {
	ctx := context.Background()
	var plain []bucketSpec
	for _, b := range specs {
		plain = append(plain, bucketSpec{name: b.name, region: b.region, policy: b.policy})
	}
	createBuckets(t, url, plain)
	for _, b := range specs {
		if b.sse == "" {
			continue
		}
		c := awsenv.S3(emutest.Config(t, url, b.region), b.region)
		def := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: b.sse}
		if b.kmsKey != "" {
			def.KMSMasterKeyID = aws.String(b.kmsKey)
		}
		if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b.name),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{
				{ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: aws.Bool(b.bucketKey)}}}}); err != nil {
			t.Fatalf("put bucket encryption %s: %v", b.name, err)
		}
	}
}

// tlsDeny is the standard statement that denies every request without TLS.
func tlsDeny(bucket, principal, action, operator, value string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DenyWithoutTLS","Effect":"Deny","Principal":` + principal +
		`,"Action":"` + action + `","Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]` +
		`,"Condition":{"` + operator + `":{"aws:SecureTransport":` + value + `}}}]}`
}

const kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// TestS3EncryptionChecksAgainstEmulator: buckets with and without default
// encryption and with policies that do and do not enforce TLS, in two
// scanned regions and one unscanned region. New buckets in the emulator have
// no default encryption (ServerSideEncryptionConfigurationNotFoundError).
func TestS3EncryptionChecksAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	createEncryptedBuckets(t, srv.URL, []encSpec{
		{name: "enc-none-use1", region: "us-east-1"},
		{name: "enc-sse-s3-use1", region: "us-east-1", sse: s3types.ServerSideEncryptionAes256,
			policy: tlsDeny("enc-sse-s3-use1", `"*"`, "s3:*", "Bool", `"false"`)},
		{name: "enc-kms-use1", region: "us-east-1", sse: s3types.ServerSideEncryptionAwsKms, kmsKey: kmsKey, bucketKey: true,
			policy: tlsDeny("enc-kms-use1", `"*"`, "s3:GetObject", "Bool", `"false"`)},
		{name: "enc-none-euw1", region: "eu-west-1",
			policy: `{"Version":"2012-10-17","Statement":[{"Sid":"AllowTLS","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::enc-none-euw1/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`},
		{name: "enc-kms-euw1", region: "eu-west-1", sse: s3types.ServerSideEncryptionAwsKms,
			policy: tlsDeny("enc-kms-euw1", `{"AWS":"*"}`, "*", "BoolIfExists", `false`)},
		{name: "enc-none-apse2", region: "ap-southeast-2"},
	})
	const P, F = model.StatusPass, model.StatusFail
	key := func(check, region, id string) scantest.Key {
		return scantest.Key{Check: check, Region: region, Resource: id}
	}

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, "s3-bucket-unencrypted", "s3-bucket-tls-not-enforced")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	const enc, tls = "s3-bucket-unencrypted", "s3-bucket-tls-not-enforced"
	scantest.ExpectExactly(t, scan, enc, map[scantest.Key]model.Status{
		key(enc, "us-east-1", "enc-none-use1"):   F,
		key(enc, "us-east-1", "enc-sse-s3-use1"): P,
		key(enc, "us-east-1", "enc-kms-use1"):    P,
		key(enc, "eu-west-1", "enc-none-euw1"):   F,
		key(enc, "eu-west-1", "enc-kms-euw1"):    P,
	}, nil)
	scantest.ExpectExactly(t, scan, tls, map[scantest.Key]model.Status{
		key(tls, "us-east-1", "enc-none-use1"):   F, // no policy
		key(tls, "us-east-1", "enc-sse-s3-use1"): P,
		key(tls, "us-east-1", "enc-kms-use1"):    F, // denies only s3:GetObject
		key(tls, "eu-west-1", "enc-none-euw1"):   F, // an Allow with SecureTransport true denies nothing
		key(tls, "eu-west-1", "enc-kms-euw1"):    P, // {"AWS":"*"}, Action *, BoolIfExists with a JSON false
	}, nil)

	none := scantest.Find(t, scan, enc, "us-east-1", "enc-none-use1")
	if none.Message != "bucket enc-none-use1 has no default encryption configuration" || none.Evidence["sse_configuration"] != "no SSE configuration" ||
		none.ResourceARN != "arn:aws:s3:::enc-none-use1" {
		t.Errorf("unencrypted bucket: %q %v", none.Message, none.Evidence)
	}
	kms := scantest.Find(t, scan, enc, "us-east-1", "enc-kms-use1")
	if kms.Evidence["sse_algorithm"] != "aws:kms" || kms.Evidence["kms_master_key_id"] != kmsKey || kms.Evidence["bucket_key_enabled"] != true {
		t.Errorf("KMS bucket evidence: %v", kms.Evidence)
	}
	if r := scantest.Find(t, scan, enc, "us-east-1", "enc-sse-s3-use1"); r.Evidence["sse_algorithm"] != "AES256" || r.Evidence["bucket_key_enabled"] != false {
		t.Errorf("SSE-S3 bucket evidence: %v", r.Evidence)
	}
	noPolicy := scantest.Find(t, scan, tls, "us-east-1", "enc-none-use1")
	if noPolicy.Evidence["has_policy"] != false || noPolicy.Message != "bucket enc-none-use1 has no policy, so requests without TLS are not denied" {
		t.Errorf("no-policy bucket: %q %v", noPolicy.Message, noPolicy.Evidence)
	}
	partial := scantest.Find(t, scan, tls, "us-east-1", "enc-kms-use1")
	if reasons, _ := partial.Evidence["reasons"].([]string); !reflect.DeepEqual(reasons, []string{"DenyWithoutTLS: it denies only s3:GetObject, not s3:*"}) || partial.Evidence["has_policy"] != true {
		t.Errorf("partial deny: %v", partial.Evidence)
	}
	enforced := scantest.Find(t, scan, tls, "us-east-1", "enc-sse-s3-use1")
	if enforced.Message != "bucket enc-sse-s3-use1 denies every request without TLS (DenyWithoutTLS)" || enforced.Evidence["statement"] == nil {
		t.Errorf("enforced: %q %v", enforced.Message, enforced.Evidence)
	}
}

// TestGetBucketEncryptionDeniedForOneBucket: with GetBucketEncryption
// denied (AccessDenied) for one bucket by a fault proxy, that bucket's
// s3-bucket-unencrypted result is ERROR, the other buckets are judged as
// without the fault, and the coverage records the one failure.
func TestGetBucketEncryptionDeniedForOneBucket(t *testing.T) {
	srv := emutest.Fresh(t)
	createEncryptedBuckets(t, srv.URL, []encSpec{
		{name: "fault-enc-denied", region: "us-east-1", sse: s3types.ServerSideEncryptionAes256},
		{name: "fault-enc-none", region: "us-east-1"},
		{name: "fault-enc-sse", region: "eu-west-1", sse: s3types.ServerSideEncryptionAes256},
	})
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "s3", PathContains: "/fault-enc-denied", QueryHas: "encryption", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	const enc, tls = "s3-bucket-unencrypted", "s3-bucket-tls-not-enforced"
	scan := scantest.Scan(t, p.URL, []string{"us-east-1", "eu-west-1"}, enc, tls)
	key := func(check, region, id string) scantest.Key {
		return scantest.Key{Check: check, Region: region, Resource: id}
	}
	scantest.ExpectExactly(t, scan, enc, map[scantest.Key]model.Status{
		key(enc, "us-east-1", "fault-enc-denied"): model.StatusError,
		key(enc, "us-east-1", "fault-enc-none"):   model.StatusFail,
		key(enc, "eu-west-1", "fault-enc-sse"):    model.StatusPass,
	}, nil)
	// The denial touches only the encryption call: every bucket's policy was read.
	scantest.ExpectExactly(t, scan, tls, map[scantest.Key]model.Status{
		key(tls, "us-east-1", "fault-enc-denied"): model.StatusFail,
		key(tls, "us-east-1", "fault-enc-none"):   model.StatusFail,
		key(tls, "eu-west-1", "fault-enc-sse"):    model.StatusFail,
	}, nil)
	denied := scantest.Find(t, scan, enc, "us-east-1", "fault-enc-denied")
	if denied.Message != "could not read the default encryption of bucket fault-enc-denied: AccessDenied: Access Denied" ||
		denied.Evidence["encryption_error"] != "AccessDenied: Access Denied" {
		t.Errorf("denied bucket: %q %v", denied.Message, denied.Evidence)
	}

	gaps := scan.Gaps()
	if len(gaps) != 1 {
		t.Fatalf("want one coverage gap, got %+v", gaps)
	}
	g := gaps[0]
	if g.Service != "s3" || g.Region != model.GlobalRegion || g.Status != model.CoverageError || len(g.Failures) != 1 {
		t.Fatalf("gap: %+v", g)
	}
	f := g.Failures[0]
	if f.Part != "bucket-encryption" || f.Operation != "GetBucketEncryption" || f.Resource != "fault-enc-denied" || f.Code != "AccessDenied" {
		t.Errorf("failure: %+v", f)
	}
	if !strings.Contains(g.Error, "GetBucketEncryption fault-enc-denied: AccessDenied") {
		t.Errorf("coverage error: %q", g.Error)
	}
	if n := p.Injected()[faultproxy.AccessDenied]; n != 1 {
		t.Errorf("the proxy injected %d faults, want 1 (AccessDenied is not retried)", n)
	}

	// Without s3-bucket-unencrypted selected, GetBucketEncryption is not
	// called at all: no fault, no gap.
	scan = scantest.Scan(t, p.URL, []string{"us-east-1", "eu-west-1"}, tls)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Errorf("gaps without the encryption check: %+v", gaps)
	}
	if n := p.Injected()[faultproxy.AccessDenied]; n != 1 {
		t.Errorf("a scan without s3-bucket-unencrypted called GetBucketEncryption (%d faults injected in all)", n)
	}
}
