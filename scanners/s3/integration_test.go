package s3_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

const account = "123456789012"

type bucketSpec struct {
	name, region string
	acl          s3types.BucketCannedACL
	policy       string
	blockAll     bool
}

func publicPolicy(bucket, principal, condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":` + principal +
		`,"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"` + condition + `}]}`
}

// perimeterPolicy allows everyone to read the bucket's objects and denies
// every S3 action on the bucket unless the condition (one negated operator
// and its key, as JSON) spares the caller.
func perimeterPolicy(bucket, negated string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"},` +
		`{"Sid":"Perimeter","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"],"Condition":{` + negated + `}}]}`
}

func createBuckets(t *testing.T, url string, specs []bucketSpec) {
	ctx := context.Background()
	for _, b := range specs {
		c := awsenv.S3(emutest.Config(t, url, b.region), b.region)
		in := &s3.CreateBucketInput{Bucket: aws.String(b.name)}
		if b.region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(b.region)}
		}
		if _, err := c.CreateBucket(ctx, in); err != nil {
			t.Fatalf("create bucket %s: %v", b.name, err)
		}
		if b.acl != "" {
			if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b.name), ACL: b.acl}); err != nil {
				t.Fatalf("put ACL %s: %v", b.name, err)
			}
		}
		if b.policy != "" {
			if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.name), Policy: aws.String(b.policy)}); err != nil {
				t.Fatalf("put policy %s: %v", b.name, err)
			}
		}
		if b.blockAll {
			_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b.name), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			if err != nil {
				t.Fatalf("put public access block %s: %v", b.name, err)
			}
		}
	}
}

func putAccountBlock(t *testing.T, url string, ignoreACLs, restrict, blockACLs, blockPolicy bool) {
	c := awsenv.S3Control(emutest.Config(t, url, "us-east-1"))
	_, err := c.PutPublicAccessBlock(context.Background(), &s3control.PutPublicAccessBlockInput{AccountId: aws.String(account),
		PublicAccessBlockConfiguration: &controltypes.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(blockACLs), IgnorePublicAcls: aws.Bool(ignoreACLs), BlockPublicPolicy: aws.Bool(blockPolicy), RestrictPublicBuckets: aws.Bool(restrict)}})
	if err != nil {
		t.Fatalf("put account public access block: %v", err)
	}
}

func TestS3ChecksAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	createBuckets(t, srv.URL, []bucketSpec{
		{name: "acme-public-acl", region: "us-east-1", acl: s3types.BucketCannedACLPublicRead},
		{name: "acme-authenticated-acl", region: "us-east-1", acl: s3types.BucketCannedACLAuthenticatedRead},
		{name: "acme-public-policy", region: "us-east-1", policy: publicPolicy("acme-public-policy", `"*"`, "")},
		{name: "acme-office-only", region: "us-east-1", policy: publicPolicy("acme-office-only", `"*"`, `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)},
		{name: "acme-neutralised", region: "us-east-1", acl: s3types.BucketCannedACLPublicRead, policy: publicPolicy("acme-neutralised", `"*"`, ""), blockAll: true},
		{name: "acme-private", region: "us-east-1"},
		{name: "acme-vpce-perimeter", region: "us-east-1", policy: perimeterPolicy("acme-vpce-perimeter", `"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}`)},
		{name: "acme-wildcard-org", region: "us-east-1", policy: publicPolicy("acme-wildcard-org", `"*"`, `,"Condition":{"StringLike":{"aws:PrincipalOrgID":"o-*"}}`)},
		{name: "acme-internet-halves", region: "us-east-1", policy: publicPolicy("acme-internet-halves", `"*"`, `,"Condition":{"IpAddress":{"aws:SourceIp":["0.0.0.0/1","128.0.0.0/1"]}}`)},
		{name: "acme-perimeter-wildcard", region: "us-east-1", policy: perimeterPolicy("acme-perimeter-wildcard", `"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}`)},
		{name: "acme-eu-public", region: "eu-west-1", policy: publicPolicy("acme-eu-public", `{"AWS":"*"}`, "")},
		{name: "acme-eu-private", region: "eu-west-1"},
		{name: "acme-sydney-public", region: "ap-southeast-2", acl: s3types.BucketCannedACLPublicRead},
	})
	regions := []string{"us-east-1", "eu-west-1"}
	const P, F = model.StatusPass, model.StatusFail
	key := func(check, region, id string) scantest.Key {
		return scantest.Key{Check: check, Region: region, Resource: id}
	}

	// No account block: the bucket settings decide; the Sydney bucket is in
	// no scanned region and has no result at all.
	scan := scantest.Scan(t, srv.URL, regions, "s3-bucket-public", "s3-account-public-access-block-off")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}
	scantest.ExpectExactly(t, scan, "s3-bucket-public", map[scantest.Key]model.Status{
		key("s3-bucket-public", "us-east-1", "acme-public-acl"):         F,
		key("s3-bucket-public", "us-east-1", "acme-authenticated-acl"):  F,
		key("s3-bucket-public", "us-east-1", "acme-public-policy"):      F,
		key("s3-bucket-public", "us-east-1", "acme-office-only"):        P,
		key("s3-bucket-public", "us-east-1", "acme-neutralised"):        P,
		key("s3-bucket-public", "us-east-1", "acme-private"):            P,
		key("s3-bucket-public", "us-east-1", "acme-vpce-perimeter"):     P,
		key("s3-bucket-public", "us-east-1", "acme-wildcard-org"):       F,
		key("s3-bucket-public", "us-east-1", "acme-internet-halves"):    F,
		key("s3-bucket-public", "us-east-1", "acme-perimeter-wildcard"): F,
		key("s3-bucket-public", "eu-west-1", "acme-eu-public"):          F,
		key("s3-bucket-public", "eu-west-1", "acme-eu-private"):         P,
	}, nil)
	scantest.ExpectExactly(t, scan, "s3-account-public-access-block-off", map[scantest.Key]model.Status{
		key("s3-account-public-access-block-off", "global", account): F,
	}, nil)
	acl := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "acme-public-acl")
	if acl.Message != "bucket acme-public-acl is public: the ACL grants READ to AllUsers" || acl.ResourceARN != "arn:aws:s3:::acme-public-acl" {
		t.Errorf("public ACL result: %q %s", acl.Message, acl.ResourceARN)
	}
	perimeter := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "acme-vpce-perimeter")
	if perimeter.Evidence["narrowed_statements"] == nil || !strings.Contains(perimeter.Message, "narrowed by Perimeter (denies unless aws:SourceVpce has a fixed value)") {
		t.Errorf("perimeter bucket: %q %v", perimeter.Message, perimeter.Evidence)
	}
	neutral := scantest.Find(t, scan, "s3-bucket-public", "us-east-1", "acme-neutralised")
	if n, _ := neutral.Evidence["neutralised"].([]string); len(n) != 2 {
		t.Errorf("neutralised evidence: %v", neutral.Evidence)
	}

	// A partial account block that ignores public ACLs and restricts public
	// policies neutralises every bucket, but is still not the full block.
	putAccountBlock(t, srv.URL, true, true, false, false)
	scan = scantest.Scan(t, srv.URL, regions, "s3-bucket-public", "s3-account-public-access-block-off")
	for k, st := range scantest.Statuses(scan, "s3-bucket-public") {
		if st != P {
			t.Errorf("%s: got %s with the account block neutralising, want PASS", k, st)
		}
	}
	partial := scantest.Find(t, scan, "s3-account-public-access-block-off", "global", account)
	if partial.Status != F || partial.Message != "account 123456789012 has S3 Block Public Access settings off: BlockPublicAcls, BlockPublicPolicy" {
		t.Errorf("partial account block: %s %q", partial.Status, partial.Message)
	}

	putAccountBlock(t, srv.URL, true, true, true, true)
	scan = scantest.Scan(t, srv.URL, regions, "s3-account-public-access-block-off")
	if r := scantest.Find(t, scan, "s3-account-public-access-block-off", "global", account); r.Status != P {
		t.Errorf("full account block: %s %q", r.Status, r.Message)
	}
}
