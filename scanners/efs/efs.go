// Package efs collects the EFS file systems of one region and holds the
// checks that read them.
package efs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// PartFileSystems is the inventory part holding the file systems.
const PartFileSystems = "file-systems"

// Inventory is what the EFS scanner collects in one region.
type Inventory struct {
	AccountID   string       `json:"account_id"`
	Region      string       `json:"region"`
	Partition   string       `json:"partition"`
	FileSystems []FileSystem `json:"file_systems"`
}

// FileSystem is an EFS file system.
type FileSystem struct {
	ID string `json:"id"`
	// ARN is the ARN DescribeFileSystems returned; empty when it gave none.
	ARN       string `json:"arn,omitempty"`
	Name      string `json:"name,omitempty"`
	Encrypted bool   `json:"encrypted"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
}

// Scanner returns the EFS scanner with its checks.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "efs", Collect: Collect, List: Checks()}
}

// API is the one EFS call the collector makes, on the read-only
// allow-list (scanners/guard_test.go checks it).
type API interface {
	efs.DescribeFileSystemsAPIClient
}

// Collect lists the region's file systems (every page).
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, efs.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartFileSystems) {
		return inv
	}
	listed, err := paging.All(ctx, efs.NewDescribeFileSystemsPaginator(api, &efs.DescribeFileSystemsInput{}),
		func(page *efs.DescribeFileSystemsOutput) []types.FileSystemDescription { return page.FileSystems })
	if err != nil {
		gaps.Add(PartFileSystems, "DescribeFileSystems", "", fmt.Errorf("describe EFS file systems in %s: %w", scope.Region, err))
		return inv
	}
	for _, fs := range listed {
		inv.FileSystems = append(inv.FileSystems, FileSystem{
			ID: aws.ToString(fs.FileSystemId), ARN: aws.ToString(fs.FileSystemArn), Name: aws.ToString(fs.Name),
			Encrypted: aws.ToBool(fs.Encrypted), KMSKeyID: aws.ToString(fs.KmsKeyId),
		})
	}
	return inv
}

// Checks returns the EFS checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "efs-filesystem-unencrypted", Title: "EFS file system is not encrypted at rest",
				Family: model.FamilyUnencrypted, Service: "efs", Severity: model.SeverityHigh, ResourceType: "AWS::EFS::FileSystem",
				Rationale:   "An unencrypted file system keeps its files, and their backups, in clear text on the storage AWS manages; encryption at rest can only be chosen when the file system is created.",
				Remediation: "Create an encrypted file system (Encrypted=true, ideally with a customer managed KMS key), copy the data across with AWS DataSync or AWS Backup, and delete the unencrypted one.",
				References:  []string{"https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html", "https://docs.aws.amazon.com/securityhub/latest/userguide/efs-controls.html#efs-1"},
			},
			Needs: []string{PartFileSystems},
			Eval:  unencryptedCheck,
		},
	}
}

func unencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, fs := range inv.FileSystems {
		a := fs.ARN
		if a == "" {
			a = check.ARN(inv.Partition, "elasticfilesystem", inv.Region, inv.AccountID, "file-system/"+fs.ID)
		}
		evidence := map[string]any{"encrypted": fs.Encrypted, "kms_key_id": check.OrAbsent(fs.KMSKeyID)}
		if fs.Name != "" {
			evidence["name"] = fs.Name
		}
		if !fs.Encrypted {
			out = append(out, check.Fail(fs.ID, a, fmt.Sprintf("EFS file system %s is not encrypted at rest", fs.ID), evidence))
			continue
		}
		out = append(out, check.Pass(fs.ID, a, fmt.Sprintf("EFS file system %s is encrypted at rest", fs.ID), evidence))
	}
	return out
}
