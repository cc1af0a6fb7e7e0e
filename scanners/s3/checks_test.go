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

const acct = "111122223333"

func evalCheck(t *testing.T, id string, inv *Inventory) []check.Finding {
	t.Helper()
	c, ok := check.Lookup(Checks(), id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c.Eval(inv)
}

var (
	ownerGrant    = Grant{Grantee: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", Type: "CanonicalUser", Permission: "FULL_CONTROL"}
	allUsersRead  = Grant{Grantee: allUsersURI, Type: "Group", Permission: "READ"}
	authUsersRead = Grant{Grantee: authenticatedUsersURI, Type: "Group", Permission: "READ"}
	logDelivery   = Grant{Grantee: "http://acs.amazonaws.com/groups/s3/LogDelivery", Type: "Group", Permission: "WRITE"}
)

const (
	publicPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	orgPolicy    = `{"Version":"2012-10-17","Statement":[{"Sid":"Org","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`
)

func TestBucketPublic(t *testing.T) {
	allOn := &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	tests := []struct {
		name         string
		bucket       Bucket
		accountBlock *PublicAccessBlock
		accountErr   string
		status       model.Status
		msg          []string // substrings of the message
		neutralised  []string
		unreadable   []string
		grants       []Grant // expected public_grants evidence
		stmts        []PublicStatement
	}{
		{name: "private", bucket: Bucket{Grants: []Grant{ownerGrant}},
			status: model.StatusPass, msg: []string{"grants no public access in its ACL or policy"}},
		{name: "log delivery group is not public", bucket: Bucket{Grants: []Grant{ownerGrant, logDelivery}},
			status: model.StatusPass},
		{name: "ACL AllUsers", bucket: Bucket{Grants: []Grant{ownerGrant, allUsersRead}},
			status: model.StatusFail, msg: []string{"is public: the ACL grants READ to AllUsers"}, grants: []Grant{allUsersRead}},
		{name: "ACL AuthenticatedUsers", bucket: Bucket{Grants: []Grant{authUsersRead}},
			status: model.StatusFail, msg: []string{"the ACL grants READ to AuthenticatedUsers"}, grants: []Grant{authUsersRead}},
		{name: "policy Principal *", bucket: Bucket{Policy: publicPolicy},
			status: model.StatusFail, msg: []string{"the policy allows everyone (PublicRead: Principal is *, s3:GetObject)"},
			stmts: []PublicStatement{{Sid: "PublicRead", Actions: []string{"s3:GetObject"}, Reason: "Principal is *"}}},
		{name: "policy with restricting condition", bucket: Bucket{Policy: orgPolicy},
			status: model.StatusPass, msg: []string{"grants no public access"}},
		{name: "policy with a statement without Sid", bucket: Bucket{Policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"*"}}`},
			status: model.StatusFail, msg: []string{"statement without Sid: Principal is *, s3:ListBucket"},
			stmts: []PublicStatement{{Actions: []string{"s3:ListBucket"}, Reason: "Principal is *"}}},
		{name: "ACL and policy both public", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: publicPolicy},
			status: model.StatusFail, msg: []string{"the ACL grants READ to AllUsers; the policy allows everyone"}},
		{name: "malformed policy", bucket: Bucket{Grants: []Grant{ownerGrant}, Policy: `{"Statement":[`},
			status: model.StatusError, msg: []string{"cannot decide whether bucket", "policy: parse bucket policy"},
			unreadable: []string{"policy: parse bucket policy: unexpected end of JSON input"}},
		{name: "malformed policy but public ACL", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: `not json`},
			status: model.StatusFail, msg: []string{"the ACL grants READ to AllUsers"}},
		{name: "policy unreadable", bucket: Bucket{PolicyError: "AccessDenied: Access Denied"},
			status: model.StatusError, msg: []string{"policy: AccessDenied: Access Denied"}, unreadable: []string{"policy: AccessDenied: Access Denied"}},
		{name: "ACL unreadable", bucket: Bucket{ACLError: "AccessDenied: Access Denied"},
			status: model.StatusError, msg: []string{"cannot decide whether bucket", "ACL: AccessDenied: Access Denied"}, unreadable: []string{"ACL: AccessDenied: Access Denied"}},
		{name: "ACL unreadable but public policy", bucket: Bucket{ACLError: "AccessDenied", Policy: publicPolicy},
			status: model.StatusFail, msg: []string{"the policy allows everyone"}},
		{name: "ACL unreadable but IgnorePublicAcls on: still unknown", bucket: Bucket{ACLError: "AccessDenied", Block: &PublicAccessBlock{IgnorePublicAcls: true}},
			status: model.StatusError},
		{name: "bucket IgnorePublicAcls neutralises the ACL", bucket: Bucket{Grants: []Grant{allUsersRead}, Block: &PublicAccessBlock{IgnorePublicAcls: true}},
			status: model.StatusPass, msg: []string{"public settings that Block Public Access neutralises"},
			neutralised: []string{"public ACL grants are ignored (IgnorePublicAcls)"}, grants: []Grant{allUsersRead}},
		{name: "bucket IgnorePublicAcls does not neutralise the policy", bucket: Bucket{Policy: publicPolicy, Block: &PublicAccessBlock{IgnorePublicAcls: true}},
			status: model.StatusFail, msg: []string{"the policy allows everyone"}},
		{name: "bucket RestrictPublicBuckets neutralises the policy", bucket: Bucket{Policy: publicPolicy, Block: &PublicAccessBlock{RestrictPublicBuckets: true}},
			status: model.StatusPass, neutralised: []string{"the public policy is restricted to the account (RestrictPublicBuckets)"}},
		{name: "bucket RestrictPublicBuckets does not neutralise the ACL", bucket: Bucket{Grants: []Grant{allUsersRead}, Block: &PublicAccessBlock{RestrictPublicBuckets: true}},
			status: model.StatusFail, msg: []string{"the ACL grants READ to AllUsers"}},
		{name: "BlockPublicAcls and BlockPublicPolicy alone neutralise nothing", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: publicPolicy,
			Block: &PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true}},
			status: model.StatusFail, msg: []string{"the ACL grants READ to AllUsers; the policy allows everyone"}},
		{name: "bucket block all on neutralises both", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: publicPolicy, Block: allOn},
			status: model.StatusPass, neutralised: []string{"public ACL grants are ignored (IgnorePublicAcls)", "the public policy is restricted to the account (RestrictPublicBuckets)"}},
		{name: "account IgnorePublicAcls and RestrictPublicBuckets neutralise both", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: publicPolicy},
			accountBlock: &PublicAccessBlock{IgnorePublicAcls: true, RestrictPublicBuckets: true},
			status:       model.StatusPass, neutralised: []string{"public ACL grants are ignored (IgnorePublicAcls)", "the public policy is restricted to the account (RestrictPublicBuckets)"}},
		{name: "account BlockPublicAcls and BlockPublicPolicy neutralise nothing", bucket: Bucket{Grants: []Grant{allUsersRead}},
			accountBlock: &PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true},
			status:       model.StatusFail, msg: []string{"the ACL grants READ to AllUsers"}},
		{name: "account IgnorePublicAcls with bucket policy public", bucket: Bucket{Grants: []Grant{allUsersRead}, Policy: publicPolicy},
			accountBlock: &PublicAccessBlock{IgnorePublicAcls: true},
			status:       model.StatusFail, msg: []string{"the policy allows everyone"}, neutralised: []string{"public ACL grants are ignored (IgnorePublicAcls)"}},
		{name: "account block unreadable with public ACL", bucket: Bucket{Grants: []Grant{allUsersRead}},
			accountErr: "AccessDenied: Access Denied",
			status:     model.StatusError, msg: []string{"account public access block: AccessDenied: Access Denied"},
			unreadable: []string{"account public access block: AccessDenied: Access Denied"}},
		{name: "account block unreadable with private bucket", bucket: Bucket{Grants: []Grant{ownerGrant}},
			accountErr: "AccessDenied: Access Denied",
			status:     model.StatusPass, msg: []string{"grants no public access"}},
		{name: "account block unreadable but bucket block ignores ACLs", bucket: Bucket{Grants: []Grant{allUsersRead}, Block: &PublicAccessBlock{IgnorePublicAcls: true}},
			accountErr: "AccessDenied",
			status:     model.StatusPass, neutralised: []string{"public ACL grants are ignored (IgnorePublicAcls)"}},
		{name: "bucket block unreadable with public policy", bucket: Bucket{Policy: publicPolicy, BlockError: "AccessDenied: Access Denied"},
			status: model.StatusError, unreadable: []string{"bucket public access block: AccessDenied: Access Denied"}},
		{name: "bucket block unreadable but account restricts", bucket: Bucket{Policy: publicPolicy, BlockError: "AccessDenied"},
			accountBlock: allOn, status: model.StatusPass, neutralised: []string{"the public policy is restricted to the account (RestrictPublicBuckets)"}},
		{name: "bucket block unreadable with private bucket", bucket: Bucket{Grants: []Grant{ownerGrant}, BlockError: "AccessDenied"},
			status: model.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bucket
			b.Name, b.Region = "acme-data", "eu-central-1"
			inv := &Inventory{AccountID: acct, Partition: "aws", AccountBlock: tt.accountBlock, AccountBlockError: tt.accountErr, Buckets: []Bucket{b}}
			got := evalCheck(t, "s3-bucket-public", inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "acme-data" || f.ResourceARN != "arn:aws:s3:::acme-data" || f.Region != "eu-central-1" {
				t.Errorf("identity = %q %q %q", f.ResourceID, f.ResourceARN, f.Region)
			}
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s; evidence %v", f.Status, f.Message, tt.status, f.Evidence)
			}
			if !strings.Contains(f.Message, "acme-data") {
				t.Errorf("message %q does not name the bucket", f.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(f.Message, m) {
					t.Errorf("message %q does not contain %q", f.Message, m)
				}
			}
			if got, _ := f.Evidence["neutralised"].([]string); !reflect.DeepEqual(got, tt.neutralised) {
				t.Errorf("neutralised = %#v, want %#v", got, tt.neutralised)
			}
			if tt.unreadable != nil {
				got, _ := f.Evidence["unreadable"].([]string)
				if !reflect.DeepEqual(got, tt.unreadable) {
					t.Errorf("unreadable = %#v, want %#v", got, tt.unreadable)
				}
			}
			if tt.grants != nil {
				if got, _ := f.Evidence["public_grants"].([]Grant); !reflect.DeepEqual(got, tt.grants) {
					t.Errorf("public_grants = %#v, want %#v", got, tt.grants)
				}
			}
			if tt.stmts != nil {
				if got, _ := f.Evidence["public_statements"].([]PublicStatement); !reflect.DeepEqual(got, tt.stmts) {
					t.Errorf("public_statements = %#v, want %#v", got, tt.stmts)
				}
			}
			wantBucketBlock := any("not configured")
			if b.Block != nil {
				wantBucketBlock = b.Block
			}
			if !reflect.DeepEqual(f.Evidence["bucket_block"], wantBucketBlock) {
				t.Errorf("bucket_block evidence = %#v", f.Evidence["bucket_block"])
			}
			wantAccountBlock := any("not configured")
			if tt.accountBlock != nil {
				wantAccountBlock = tt.accountBlock
			}
			if !reflect.DeepEqual(f.Evidence["account_block"], wantAccountBlock) {
				t.Errorf("account_block evidence = %#v", f.Evidence["account_block"])
			}
		})
	}
}

func TestBucketPublicEachBucketInItsRegion(t *testing.T) {
	inv := &Inventory{AccountID: acct, Partition: "aws-cn", Buckets: []Bucket{
		{Name: "a-private", Region: "cn-north-1"},
		{Name: "b-public", Region: "cn-northwest-1", Grants: []Grant{allUsersRead}},
		{Name: "c-broken", Region: "cn-north-1", Policy: "{"},
	}}
	got := evalCheck(t, "s3-bucket-public", inv)
	want := []struct {
		id, region, arn string
		status          model.Status
	}{
		{"a-private", "cn-north-1", "arn:aws-cn:s3:::a-private", model.StatusPass},
		{"b-public", "cn-northwest-1", "arn:aws-cn:s3:::b-public", model.StatusFail},
		{"c-broken", "cn-north-1", "arn:aws-cn:s3:::c-broken", model.StatusError},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].ResourceID != w.id || got[i].Region != w.region || got[i].ResourceARN != w.arn || got[i].Status != w.status {
			t.Errorf("finding %d = %s %q %q %q, want %s %q %q %q", i, got[i].Status, got[i].ResourceID, got[i].Region, got[i].ResourceARN, w.status, w.id, w.region, w.arn)
		}
	}
}

// TestBucketPublicThroughAdapter checks that results carry the bucket's own
// region (not "global") and a fingerprint over that region.
func TestBucketPublicThroughAdapter(t *testing.T) {
	inv := &Inventory{AccountID: acct, Partition: "aws", AccountBlock: &PublicAccessBlock{}, Buckets: []Bucket{{Name: "eu-bucket", Region: "eu-west-1", Grants: []Grant{allUsersRead}}}}
	svc := Scanner()
	svc.Collect = func(_ context.Context, _ check.Scope, _ *check.Gaps) *Inventory { return inv }
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: acct, Partition: "aws", Region: model.GlobalRegion},
		map[string]bool{"s3-bucket-public": true, "s3-account-public-access-block-off": true})
	if cov.Status != model.CoverageOK {
		t.Errorf("coverage = %+v", cov)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(results), results)
	}
	bucket, account := results[0], results[1]
	if bucket.CheckID != "s3-bucket-public" || bucket.Region != "eu-west-1" || bucket.Status != model.StatusFail ||
		bucket.Fingerprint != model.Fingerprint("s3-bucket-public", acct, "eu-west-1", "eu-bucket") {
		t.Errorf("bucket result = %+v", bucket)
	}
	if account.CheckID != "s3-account-public-access-block-off" || account.Region != model.GlobalRegion || account.ResourceID != acct || account.Status != model.StatusFail {
		t.Errorf("account result = %+v", account)
	}
}

func TestAccountPublicAccessBlockOff(t *testing.T) {
	all := []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}
	tests := []struct {
		name   string
		block  *PublicAccessBlock
		status model.Status
		off    []string
		msg    string
	}{
		{"none configured", nil, model.StatusFail, all, "account 111122223333 has no S3 Block Public Access configuration"},
		{"configured all off", &PublicAccessBlock{}, model.StatusFail, all,
			"account 111122223333 has S3 Block Public Access settings off: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets"},
		{"partial", &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true}, model.StatusFail,
			[]string{"RestrictPublicBuckets"}, "account 111122223333 has S3 Block Public Access settings off: RestrictPublicBuckets"},
		{"partial, two off", &PublicAccessBlock{IgnorePublicAcls: true, RestrictPublicBuckets: true}, model.StatusFail,
			[]string{"BlockPublicAcls", "BlockPublicPolicy"}, "account 111122223333 has S3 Block Public Access settings off: BlockPublicAcls, BlockPublicPolicy"},
		{"all on", &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			model.StatusPass, nil, "all four S3 Block Public Access settings are on for account 111122223333"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalCheck(t, "s3-account-public-access-block-off", &Inventory{AccountID: acct, AccountBlock: tt.block})
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != acct || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q, want %s %q %q", f.Status, f.ResourceID, f.Message, tt.status, acct, tt.msg)
			}
			off, _ := f.Evidence["settings_off"].([]string)
			if !reflect.DeepEqual(off, tt.off) {
				t.Errorf("settings_off = %#v, want %#v", off, tt.off)
			}
		})
	}
}

// TestAccountBlockUnreadableIsScopeError checks the wiring: the account
// check Needs the account block, so a collection gap makes it ERROR, never a
// FAIL claiming the block is missing.
func TestAccountBlockUnreadableIsScopeError(t *testing.T) {
	svc := Scanner()
	svc.Collect = func(_ context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		gaps.Add(PartAccountAccessBlock, "GetPublicAccessBlock", "", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"})
		return &Inventory{AccountID: scope.AccountID, AccountBlockError: "AccessDenied: Access Denied",
			Buckets: []Bucket{{Name: "private", Region: "us-east-1"}, {Name: "public", Region: "us-east-1", Grants: []Grant{allUsersRead}}}}
	}
	results, cov := svc.Scan(context.Background(), check.Scope{AccountID: acct, Region: model.GlobalRegion},
		map[string]bool{"s3-bucket-public": true, "s3-account-public-access-block-off": true})
	statuses := map[string]model.Status{}
	for _, r := range results {
		statuses[r.CheckID+"/"+r.ResourceID] = r.Status
	}
	want := map[string]model.Status{
		"s3-bucket-public/private":            model.StatusPass,
		"s3-bucket-public/public":             model.StatusError,
		"s3-account-public-access-block-off/": model.StatusError,
	}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Code != "AccessDenied" {
		t.Errorf("coverage = %+v", cov)
	}
}

func TestPublicAccessBlockHelpers(t *testing.T) {
	var nilBlock *PublicAccessBlock
	if nilBlock.AllOn() {
		t.Error("nil block is not all on")
	}
	if got := len(nilBlock.Off()); got != 4 {
		t.Errorf("nil block: %d settings off, want 4", got)
	}
	on := &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	if !on.AllOn() || on.Off() != nil {
		t.Errorf("all-on block: AllOn %v Off %v", on.AllOn(), on.Off())
	}
}
