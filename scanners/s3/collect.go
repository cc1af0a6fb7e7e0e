package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/paging"
)

// API is the part of the S3 client the collector calls, each call on the
// read-only allow-list (scanners/guard_test.go checks it): never GetObject,
// nor any other read of contents.
type API interface {
	s3.ListBucketsAPIClient
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
}

// ControlAPI is the one S3 Control call the collector makes (the account's
// public access block), on the allow-list.
type ControlAPI interface {
	GetPublicAccessBlock(ctx context.Context, in *s3control.GetPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

// Collect lists the account's buckets (every page), keeps those in a scanned
// region, and reads each one's ACL, policy, public access block and default
// encryption (no list call returns them), plus the account's public access
// block. Each per-bucket call is made only when a selected check reads it.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Partition: scope.Partition}
	if scope.Wants(PartAccountAccessBlock) {
		collectAccountBlock(ctx, awsenv.S3Control(scope.Config), inv, gaps)
	}
	if !scope.Wants(PartBuckets) {
		return inv
	}
	home := awsenv.S3(scope.Config, scope.Config.Region)
	buckets, err := listBuckets(ctx, home, scope.CallConcurrency, gaps)
	if err != nil {
		gaps.Add(PartBuckets, "ListBuckets", "", err)
		return inv
	}
	for _, b := range buckets {
		// A bucket of unknown region may be in a scanned one: keep it, so
		// that its checks report it ERROR rather than leave it out.
		if b.LocationError != "" || scope.InScope(b.Region) {
			inv.Buckets = append(inv.Buckets, b)
		}
	}
	clients := map[string]API{}
	for _, b := range inv.Buckets {
		if b.LocationError == "" && clients[b.Region] == nil {
			clients[b.Region] = awsenv.S3(scope.Config, b.Region)
		}
	}
	fanout.Each(ctx, len(inv.Buckets), scope.CallConcurrency, func(ctx context.Context, i int) {
		b := &inv.Buckets[i]
		if b.LocationError == "" {
			collectBucket(ctx, clients[b.Region], scope, b, gaps)
		}
	})
	return inv
}

// listBucketsPageSize is the page size asked of ListBuckets (MaxBuckets,
// 1-10,000).
const listBucketsPageSize = 1000

// listBuckets returns every bucket with its region: the region ListBuckets
// reports, else GetBucketLocation. A bucket whose location cannot be read is
// recorded as a gap and returned with LocationError set and no region. At
// most limit GetBucketLocation calls run at once.
func listBuckets(ctx context.Context, api API, limit int, gaps *check.Gaps) ([]Bucket, error) {
	var buckets []Bucket
	// Without MaxBuckets, ListBuckets answers in one piece, and AWS refuses
	// that for accounts with more than 10,000 buckets: ask for pages.
	listed, err := paging.All(ctx, s3.NewListBucketsPaginator(api, &s3.ListBucketsInput{MaxBuckets: aws.Int32(listBucketsPageSize)}),
		func(page *s3.ListBucketsOutput) []types.Bucket { return page.Buckets })
	if err != nil {
		return nil, err
	}
	for _, b := range listed {
		buckets = append(buckets, Bucket{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)})
	}
	fanout.Each(ctx, len(buckets), limit, func(ctx context.Context, i int) {
		b := &buckets[i]
		if b.Region != "" {
			return
		}
		out, err := api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b.Name)})
		if err != nil {
			gaps.Add(PartBuckets, "GetBucketLocation", b.Name, err)
			b.LocationError = check.ErrorText(err)
			return
		}
		b.Region = normaliseLocation(string(out.LocationConstraint))
	})
	return buckets, nil
}

// normaliseLocation maps GetBucketLocation's LocationConstraint to a region:
// empty means us-east-1 and the legacy "EU" means eu-west-1.
func normaliseLocation(c string) string {
	switch c {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return c
}

func collectBucket(ctx context.Context, api API, scope check.Scope, b *Bucket, gaps *check.Gaps) {
	if scope.Wants(PartBucketACLs) {
		out, err := api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name)})
		if err != nil {
			gaps.Add(PartBucketACLs, "GetBucketAcl", b.Name, err)
			b.ACLError = check.ErrorText(err)
		} else {
			for _, g := range out.Grants {
				if g.Grantee == nil {
					continue
				}
				grantee := aws.ToString(g.Grantee.URI)
				if grantee == "" {
					grantee = aws.ToString(g.Grantee.ID)
				}
				if grantee == "" {
					grantee = aws.ToString(g.Grantee.EmailAddress)
				}
				b.Grants = append(b.Grants, Grant{Grantee: grantee, Type: string(g.Grantee.Type), Permission: string(g.Permission)})
			}
		}
	}
	if scope.Wants(PartBucketPolicies) {
		out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.Name)})
		switch {
		case isCode(err, "NoSuchBucketPolicy"):
		case err != nil:
			gaps.Add(PartBucketPolicies, "GetBucketPolicy", b.Name, err)
			b.PolicyError = check.ErrorText(err)
		default:
			b.Policy = aws.ToString(out.Policy)
		}
	}
	if scope.Wants(PartBucketAccessBlocks) {
		out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.Name)})
		switch {
		case isCode(err, "NoSuchPublicAccessBlockConfiguration"):
		case err != nil:
			gaps.Add(PartBucketAccessBlocks, "GetPublicAccessBlock", b.Name, err)
			b.BlockError = check.ErrorText(err)
		case out.PublicAccessBlockConfiguration != nil:
			c := out.PublicAccessBlockConfiguration
			b.Block = &PublicAccessBlock{
				BlockPublicAcls: aws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls),
				BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets),
			}
		}
	}
	if scope.Wants(PartBucketEncryption) {
		out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.Name)})
		switch {
		case isCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
		case err != nil:
			gaps.Add(PartBucketEncryption, "GetBucketEncryption", b.Name, err)
			b.EncryptionError = check.ErrorText(err)
		case out.ServerSideEncryptionConfiguration != nil:
			enc := &Encryption{Rules: []EncryptionRule{}}
			for _, r := range out.ServerSideEncryptionConfiguration.Rules {
				rule := EncryptionRule{BucketKeyEnabled: aws.ToBool(r.BucketKeyEnabled)}
				if d := r.ApplyServerSideEncryptionByDefault; d != nil {
					rule.SSEAlgorithm, rule.KMSMasterKeyID = string(d.SSEAlgorithm), aws.ToString(d.KMSMasterKeyID)
				}
				enc.Rules = append(enc.Rules, rule)
			}
			b.Encryption = enc
		}
	}
}

func collectAccountBlock(ctx context.Context, api ControlAPI, inv *Inventory, gaps *check.Gaps) {
	out, err := api.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(inv.AccountID)})
	switch {
	case isCode(err, "NoSuchPublicAccessBlockConfiguration"):
	case err != nil:
		gaps.Add(PartAccountAccessBlock, "GetPublicAccessBlock", "", fmt.Errorf("account %s: %w", inv.AccountID, err))
		inv.AccountBlockError = check.ErrorText(err)
	case out.PublicAccessBlockConfiguration != nil:
		c := out.PublicAccessBlockConfiguration
		inv.AccountBlock = &PublicAccessBlock{
			BlockPublicAcls: aws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls),
			BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets),
		}
	}
}

// isCode reports whether err is an AWS error with the given code. A missing
// configuration is reported by S3 as such an error, and means "not
// configured", as real AWS returns it for buckets that never had one.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
