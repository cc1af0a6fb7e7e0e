// Package cloudtrail collects the CloudTrail trails whose home is one region
// and holds the checks that read them.
//
// A multi-region trail is visible in every region as a "shadow" trail; the
// collector asks for trails without their shadows (IncludeShadowTrails=false),
// so that each trail is reported once, in its home region.
package cloudtrail

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// PartTrails is the inventory part holding the trails.
const PartTrails = "trails"

// Inventory is what the CloudTrail scanner collects in one region.
type Inventory struct {
	AccountID string  `json:"account_id"`
	Region    string  `json:"region"`
	Partition string  `json:"partition"`
	Trails    []Trail `json:"trails"`
}

// Trail is a CloudTrail trail whose home region is the inventory's region.
type Trail struct {
	Name string `json:"name"`
	// ARN is the TrailARN DescribeTrails returned; empty when it gave none.
	ARN                 string `json:"arn,omitempty"`
	HomeRegion          string `json:"home_region"`
	IsMultiRegion       bool   `json:"is_multi_region_trail"`
	IsOrganizationTrail bool   `json:"is_organization_trail"`
	// KMSKeyID is the KMS key that encrypts the log files; empty when they
	// are encrypted with S3-managed keys only.
	KMSKeyID string `json:"kms_key_id,omitempty"`
}

// Scanner returns the CloudTrail scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "cloudtrail", Collect: Collect, List: Checks()}
}

// API is the one CloudTrail call the collector makes.
type API interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
}

// Collect describes the trails whose home is the scope's region.
// DescribeTrails is not paginated: one call returns every trail.
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, cloudtrail.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartTrails) {
		return inv
	}
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil {
		gaps.Add(PartTrails, "DescribeTrails", "", fmt.Errorf("describe CloudTrail trails in %s: %w", scope.Region, err))
		return inv
	}
	for _, t := range out.TrailList {
		home := aws.ToString(t.HomeRegion)
		if home != "" && home != scope.Region {
			// A shadow of a trail that lives in another region, where it is
			// reported.
			continue
		}
		if home == "" {
			home = scope.Region
		}
		inv.Trails = append(inv.Trails, Trail{
			Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), HomeRegion: home,
			IsMultiRegion: aws.ToBool(t.IsMultiRegionTrail), IsOrganizationTrail: aws.ToBool(t.IsOrganizationTrail),
			KMSKeyID: aws.ToString(t.KmsKeyId),
		})
	}
	return inv
}

// Checks returns the CloudTrail checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "cloudtrail-trail-not-kms-encrypted", Title: "CloudTrail trail logs are not encrypted with a KMS key",
				Family: model.FamilyUnencrypted, Service: "cloudtrail", Severity: model.SeverityMedium, ResourceType: "AWS::CloudTrail::Trail",
				Rationale:   "Without SSE-KMS, anyone who can read the log bucket can read the account's audit trail; a KMS key adds a second, separately audited permission and records every decryption.",
				Remediation: "Update the trail with a KmsKeyId (a customer managed key whose policy lets CloudTrail encrypt and your auditors decrypt).",
				References:  []string{"https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-2"},
			},
			Needs: []string{PartTrails},
			Eval:  notKMSEncryptedCheck,
		},
	}
}

func notKMSEncryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, t := range inv.Trails {
		a := t.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "cloudtrail", t.HomeRegion, inv.AccountID, "trail/"+t.Name)
		}
		evidence := map[string]any{"kms_key_id": "absent", "is_multi_region_trail": t.IsMultiRegion, "home_region": t.HomeRegion}
		if t.IsOrganizationTrail {
			evidence["is_organization_trail"] = true
		}
		if t.KMSKeyID == "" {
			out = append(out, check.Fail(t.Name, a, fmt.Sprintf("CloudTrail trail %s has no KMS key: its log files are encrypted with S3-managed keys only", t.Name), evidence))
			continue
		}
		evidence["kms_key_id"] = t.KMSKeyID
		out = append(out, check.Pass(t.Name, a, fmt.Sprintf("CloudTrail trail %s encrypts its log files with KMS key %s", t.Name, t.KMSKeyID), evidence))
	}
	return out
}
