// Package s3 collects the account's S3 buckets (once per account, each
// attributed to its own region) and the account-level public access block,
// and holds the checks that read them.
package s3

// Inventory parts.
const (
	PartBuckets             = "buckets"
	PartBucketACLs          = "bucket-acls"
	PartBucketPolicies      = "bucket-policies"
	PartBucketAccessBlocks  = "bucket-public-access-blocks"
	PartAccountAccessBlock  = "account-public-access-block"
	PartBucketEncryption    = "bucket-encryption"
	allUsersURI             = "http://acs.amazonaws.com/groups/global/AllUsers"
	authenticatedUsersURI   = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	bucketResourceType      = "AWS::S3::Bucket"
	accountBlockResourceTyp = "AWS::S3::AccountPublicAccessBlock"
)

// Inventory is what the S3 scanner collects for one account.
type Inventory struct {
	AccountID string `json:"account_id"`
	Partition string `json:"partition"`
	// AccountBlock is the account-level public access block; nil when none
	// is configured.
	AccountBlock *PublicAccessBlock `json:"account_block,omitempty"`
	// AccountBlockError is set when the account block could not be read.
	AccountBlockError string   `json:"account_block_error,omitempty"`
	Buckets           []Bucket `json:"buckets"`
}

// PublicAccessBlock is the four settings of an S3 public access block.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// AllOn reports whether all four settings are on.
func (b *PublicAccessBlock) AllOn() bool {
	return b != nil && b.BlockPublicAcls && b.IgnorePublicAcls && b.BlockPublicPolicy && b.RestrictPublicBuckets
}

// Off lists the settings that are off (all four when b is nil).
func (b *PublicAccessBlock) Off() []string {
	if b == nil {
		return []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}
	}
	var off []string
	for _, s := range []struct {
		name string
		on   bool
	}{{"BlockPublicAcls", b.BlockPublicAcls}, {"IgnorePublicAcls", b.IgnorePublicAcls}, {"BlockPublicPolicy", b.BlockPublicPolicy}, {"RestrictPublicBuckets", b.RestrictPublicBuckets}} {
		if !s.on {
			off = append(off, s.name)
		}
	}
	return off
}

// Bucket is one S3 bucket in a scanned region, or whose region is unknown.
type Bucket struct {
	Name string `json:"name"`
	// Region is the bucket's region; empty when LocationError is set.
	Region string `json:"region"`
	// LocationError is set when the bucket's region could not be read
	// (GetBucketLocation failed): nothing else was read, and every bucket
	// check reports the bucket ERROR, so that it is not silently left out.
	LocationError string `json:"location_error,omitempty"`
	// Grants is the bucket ACL.
	Grants   []Grant `json:"grants"`
	ACLError string  `json:"acl_error,omitempty"`
	// Policy is the bucket policy document; empty when there is none.
	Policy      string `json:"policy,omitempty"`
	PolicyError string `json:"policy_error,omitempty"`
	// Block is the bucket-level public access block; nil when none.
	Block      *PublicAccessBlock `json:"block,omitempty"`
	BlockError string             `json:"block_error,omitempty"`
	// Encryption is the bucket's default encryption configuration; nil when
	// it has none.
	Encryption      *Encryption `json:"encryption,omitempty"`
	EncryptionError string      `json:"encryption_error,omitempty"`
}

// Encryption is a bucket's default (server-side) encryption configuration.
type Encryption struct {
	Rules []EncryptionRule `json:"rules"`
}

// EncryptionRule is one rule of a default encryption configuration.
type EncryptionRule struct {
	// SSEAlgorithm is "AES256", "aws:kms" or "aws:kms:dsse"; empty when the
	// rule sets no default.
	SSEAlgorithm     string `json:"sse_algorithm,omitempty"`
	KMSMasterKeyID   string `json:"kms_master_key_id,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

// Grant is one entry of a bucket ACL.
type Grant struct {
	// Grantee is the group URI, canonical user ID or email of the grantee.
	Grantee    string `json:"grantee"`
	Type       string `json:"type"`
	Permission string `json:"permission"`
}
