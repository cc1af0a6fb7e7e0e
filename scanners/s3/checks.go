package s3

import (
	"fmt"
	"strings"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// Scanner returns the S3 scanner (global: once per account) with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "s3", IsGlobal: true, Collect: Collect, List: Checks()}
}

const blockDoc = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"

// Checks returns the S3 checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "s3-bucket-public", Title: "S3 bucket is public through its ACL or policy",
				Family: model.FamilyPublicExposure, Service: "s3", Severity: model.SeverityHigh, ResourceType: bucketResourceType,
				Rationale:   "A bucket whose ACL grants AllUsers or AuthenticatedUsers, or whose policy allows Principal * without restricting the caller, exposes its objects to anyone on the internet.",
				Remediation: "Remove the public grants and statements, and turn on S3 Block Public Access for the bucket and the account.",
				References:  []string{blockDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-2"},
			},
			Needs: []string{PartBuckets},
			Reads: []string{PartBucketACLs, PartBucketPolicies, PartBucketAccessBlocks, PartAccountAccessBlock},
			Eval:  bucketPublicCheck,
		},
		{
			Meta: check.Meta{
				ID: "s3-account-public-access-block-off", Title: "Account-level S3 Block Public Access is not fully on",
				Family: model.FamilyPublicExposure, Service: "s3", Severity: model.SeverityMedium, ResourceType: accountBlockResourceTyp,
				Rationale:   "With all four account-level settings on, no bucket of the account, present or future, can be made public by mistake.",
				Remediation: "Turn on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets at the account level (s3control PutPublicAccessBlock).",
				References:  []string{blockDoc, "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-1"},
			},
			Needs: []string{PartAccountAccessBlock},
			Eval:  accountBlockCheck,
		},
		{
			Meta: check.Meta{
				ID: "s3-bucket-unencrypted", Title: "S3 bucket has no default encryption",
				Family: model.FamilyUnencrypted, Service: "s3", Severity: model.SeverityHigh, ResourceType: bucketResourceType,
				Rationale:   "Without a default encryption configuration, objects uploaded without encryption headers are stored as their uploader sent them, and nothing states which key protects the bucket's data.",
				Remediation: "Set default encryption on the bucket (PutBucketEncryption), preferably SSE-KMS with a customer-managed key and S3 Bucket Keys enabled.",
				References:  []string{"https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html", "https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html"},
			},
			Needs: []string{PartBuckets},
			Reads: []string{PartBucketEncryption},
			Eval:  bucketUnencryptedCheck,
		},
		{
			Meta: check.Meta{
				ID: "s3-bucket-tls-not-enforced", Title: "S3 bucket policy does not deny requests without TLS",
				Family: model.FamilyUnencrypted, Service: "s3", Severity: model.SeverityMedium, ResourceType: bucketResourceType,
				Rationale:   "Unless the bucket policy denies requests with aws:SecureTransport false, clients can read and write the bucket over plain HTTP, exposing data and credentials-derived signatures in transit.",
				Remediation: "Add a bucket policy statement that denies s3:* to Principal * on the bucket and its objects when aws:SecureTransport is false.",
				References:  []string{"https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-5", "https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule"},
			},
			Needs: []string{PartBuckets},
			Reads: []string{PartBucketPolicies},
			Eval:  bucketTLSCheck,
		},
	}
}

func bucketARN(partition, name string) string {
	return check.ARN(partition, "s3", "", "", name)
}

// unlocated returns the ERROR finding of a bucket whose region could not be
// read: nothing else about it was read, and it may be in a scanned region.
// Its result stays on the account's global scope.
func unlocated(b Bucket) (check.Finding, bool) {
	if b.LocationError == "" {
		return check.Finding{}, false
	}
	return check.Error("", "", fmt.Sprintf("could not find the region of bucket %s (GetBucketLocation): %s", b.Name, b.LocationError),
		map[string]any{"location_error": b.LocationError}), true
}

func blockEvidence(b *PublicAccessBlock) any {
	if b == nil {
		return "not configured"
	}
	return b
}

// bucketPublicCheck decides, for each bucket, whether anyone can reach it:
// a public ACL counts unless IgnorePublicAcls is on (bucket or account), a
// public policy unless RestrictPublicBuckets is on (bucket or account).
// BlockPublicAcls and BlockPublicPolicy only refuse new public settings; they
// do not neutralise existing ones.
func bucketPublicCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, b := range inv.Buckets {
		f, ok := unlocated(b)
		if !ok {
			f = evaluateBucket(inv, b)
		}
		f.ResourceID, f.ResourceARN, f.Region = b.Name, bucketARN(inv.Partition, b.Name), b.Region
		out = append(out, f)
	}
	return out
}

// exposure is how one channel (the ACL or the policy) leaves a bucket.
type exposure int

const (
	safe exposure = iota
	neutralised
	exposed
	unknown
)

// channel decides one channel: readErr when it could not be read, public
// when it grants everyone, blockOn when a known-on block setting neutralises
// it, blockUnknown when a block setting that could neutralise it is unread.
func channel(readErr string, public, blockOn, blockUnknown bool) exposure {
	switch {
	case readErr != "":
		return unknown
	case !public:
		return safe
	case blockOn:
		return neutralised
	case blockUnknown:
		return unknown
	}
	return exposed
}

func evaluateBucket(inv *Inventory, b Bucket) check.Finding {
	evidence := map[string]any{"bucket_block": blockEvidence(b.Block), "account_block": blockEvidence(inv.AccountBlock)}
	var unreadable []string
	if b.ACLError != "" {
		unreadable = append(unreadable, "ACL: "+b.ACLError)
	}
	if b.BlockError != "" {
		unreadable = append(unreadable, "bucket public access block: "+b.BlockError)
	}
	if inv.AccountBlockError != "" {
		unreadable = append(unreadable, "account public access block: "+inv.AccountBlockError)
	}

	var publicGrants []Grant
	for _, g := range b.Grants {
		if g.Grantee == allUsersURI || g.Grantee == authenticatedUsersURI {
			publicGrants = append(publicGrants, g)
		}
	}
	policyErr := b.PolicyError
	analysis, err := AnalysePolicy(b.Policy)
	if policyErr == "" && err != nil {
		policyErr = err.Error()
	}
	publicStmts := analysis.Public
	if policyErr != "" {
		unreadable = append(unreadable, "policy: "+policyErr)
	}
	if len(publicGrants) > 0 {
		evidence["public_grants"] = publicGrants
	}
	if len(publicStmts) > 0 {
		evidence["public_statements"] = publicStmts
	}
	if policyErr == "" && len(analysis.Narrowed) > 0 {
		evidence["narrowed_statements"] = analysis.Narrowed
	}

	blockUnknown := b.BlockError != "" || inv.AccountBlockError != ""
	ignoreACLs := (b.Block != nil && b.Block.IgnorePublicAcls) || (inv.AccountBlock != nil && inv.AccountBlock.IgnorePublicAcls)
	restrictPolicy := (b.Block != nil && b.Block.RestrictPublicBuckets) || (inv.AccountBlock != nil && inv.AccountBlock.RestrictPublicBuckets)
	acl := channel(b.ACLError, len(publicGrants) > 0, ignoreACLs, blockUnknown)
	policy := channel(policyErr, len(publicStmts) > 0, restrictPolicy, blockUnknown)

	var exposures, neutral []string
	if acl == exposed {
		exposures = append(exposures, "the ACL grants "+describeGrants(publicGrants))
	}
	if policy == exposed {
		exposures = append(exposures, "the policy allows everyone ("+describeStatements(publicStmts)+")")
	}
	if acl == neutralised {
		neutral = append(neutral, "public ACL grants are ignored (IgnorePublicAcls)")
	}
	if policy == neutralised {
		neutral = append(neutral, "the public policy is restricted to the account (RestrictPublicBuckets)")
	}
	if len(neutral) > 0 {
		evidence["neutralised"] = neutral
	}
	switch {
	case len(exposures) > 0:
		return check.Fail("", "", fmt.Sprintf("bucket %s is public: %s", b.Name, strings.Join(exposures, "; ")), evidence)
	case acl == unknown || policy == unknown:
		evidence["unreadable"] = unreadable
		return check.Error("", "", fmt.Sprintf("cannot decide whether bucket %s is public: %s", b.Name, strings.Join(unreadable, "; ")), evidence)
	case len(neutral) > 0:
		return check.Pass("", "", fmt.Sprintf("bucket %s has public settings that Block Public Access neutralises: %s", b.Name, strings.Join(neutral, "; ")), evidence)
	}
	if policyErr == "" && len(analysis.Narrowed) > 0 {
		return check.Pass("", "", fmt.Sprintf("bucket %s grants no public access in its ACL or policy: its policy's allows to everyone are confined by deny statements (%s)",
			b.Name, describeNarrowed(analysis.Narrowed)), evidence)
	}
	return check.Pass("", "", fmt.Sprintf("bucket %s grants no public access in its ACL or policy", b.Name), evidence)
}

func describeGrants(grants []Grant) string {
	var parts []string
	for _, g := range grants {
		who := "AllUsers"
		if g.Grantee == authenticatedUsersURI {
			who = "AuthenticatedUsers"
		}
		parts = append(parts, g.Permission+" to "+who)
	}
	return strings.Join(parts, ", ")
}

func describeStatements(stmts []PublicStatement) string {
	var parts []string
	for _, s := range stmts {
		name := s.Sid
		if name == "" {
			name = "statement without Sid"
		}
		parts = append(parts, fmt.Sprintf("%s: %s, %s", name, s.Reason, strings.Join(s.Actions, " ")))
	}
	return strings.Join(parts, "; ")
}

func describeNarrowed(stmts []NarrowedStatement) string {
	var parts []string
	for _, s := range stmts {
		name := s.Sid
		if name == "" {
			name = "statement without Sid"
		}
		parts = append(parts, fmt.Sprintf("%s: %s narrowed by %s", name, strings.Join(s.Actions, " "), strings.Join(s.By, ", ")))
	}
	return strings.Join(parts, "; ")
}

func accountBlockCheck(inv *Inventory) []check.Finding {
	id := inv.AccountID
	evidence := map[string]any{"account_block": blockEvidence(inv.AccountBlock)}
	if inv.AccountBlock.AllOn() {
		return []check.Finding{check.Pass(id, "", fmt.Sprintf("all four S3 Block Public Access settings are on for account %s", id), evidence)}
	}
	off := inv.AccountBlock.Off()
	evidence["settings_off"] = off
	msg := fmt.Sprintf("account %s has no S3 Block Public Access configuration", id)
	if inv.AccountBlock != nil {
		msg = fmt.Sprintf("account %s has S3 Block Public Access settings off: %s", id, strings.Join(off, ", "))
	}
	return []check.Finding{check.Fail(id, "", msg, evidence)}
}

// bucketUnencryptedCheck fails every bucket without a default encryption
// configuration; a bucket whose configuration could not be read is ERROR.
func bucketUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, b := range inv.Buckets {
		f, ok := unlocated(b)
		if !ok {
			f = evaluateEncryption(b)
		}
		f.ResourceID, f.ResourceARN, f.Region = b.Name, bucketARN(inv.Partition, b.Name), b.Region
		out = append(out, f)
	}
	return out
}

func evaluateEncryption(b Bucket) check.Finding {
	if b.EncryptionError != "" {
		return check.Error("", "", fmt.Sprintf("could not read the default encryption of bucket %s: %s", b.Name, b.EncryptionError),
			map[string]any{"encryption_error": b.EncryptionError})
	}
	if b.Encryption == nil {
		return check.Fail("", "", fmt.Sprintf("bucket %s has no default encryption configuration", b.Name),
			map[string]any{"sse_configuration": "no SSE configuration"})
	}
	for _, r := range b.Encryption.Rules {
		if r.SSEAlgorithm == "" {
			continue
		}
		evidence := map[string]any{"sse_algorithm": r.SSEAlgorithm, "kms_master_key_id": r.KMSMasterKeyID, "bucket_key_enabled": r.BucketKeyEnabled}
		if len(b.Encryption.Rules) > 1 {
			evidence["rules"] = b.Encryption.Rules
		}
		with := r.SSEAlgorithm
		if r.KMSMasterKeyID != "" {
			with += " with key " + r.KMSMasterKeyID
		}
		return check.Pass("", "", fmt.Sprintf("bucket %s encrypts new objects by default (%s)", b.Name, with), evidence)
	}
	return check.Fail("", "", fmt.Sprintf("bucket %s has an encryption configuration with no default algorithm", b.Name),
		map[string]any{"sse_configuration": "no rule sets a default algorithm", "rules": b.Encryption.Rules})
}

// bucketTLSCheck fails every bucket whose policy does not deny requests
// without TLS (see TLSEnforcement); a bucket whose policy could not be read
// or parsed is ERROR.
func bucketTLSCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, b := range inv.Buckets {
		f, ok := unlocated(b)
		if !ok {
			f = evaluateTLS(inv.Partition, b)
		}
		f.ResourceID, f.ResourceARN, f.Region = b.Name, bucketARN(inv.Partition, b.Name), b.Region
		out = append(out, f)
	}
	return out
}

func evaluateTLS(partition string, b Bucket) check.Finding {
	hasPolicy := strings.TrimSpace(b.Policy) != ""
	if b.PolicyError != "" {
		return check.Error("", "", fmt.Sprintf("could not read the policy of bucket %s: %s", b.Name, b.PolicyError),
			map[string]any{"policy_error": b.PolicyError})
	}
	stmt, reasons, err := TLSEnforcement(b.Policy, bucketARN(partition, b.Name))
	if err != nil {
		return check.Error("", "", fmt.Sprintf("could not parse the policy of bucket %s: %v", b.Name, err),
			map[string]any{"has_policy": hasPolicy, "policy_error": err.Error()})
	}
	if stmt != nil {
		return check.Pass("", "", fmt.Sprintf("bucket %s denies every request without TLS (%s)", b.Name, stmt.Label),
			map[string]any{"has_policy": true, "statement": stmt})
	}
	evidence := map[string]any{"has_policy": hasPolicy, "reasons": reasons}
	if !hasPolicy {
		return check.Fail("", "", fmt.Sprintf("bucket %s has no policy, so requests without TLS are not denied", b.Name), evidence)
	}
	return check.Fail("", "", fmt.Sprintf("the policy of bucket %s does not deny requests without TLS: %s", b.Name, strings.Join(reasons, "; ")), evidence)
}
