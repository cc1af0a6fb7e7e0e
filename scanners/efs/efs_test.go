package efs

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const checkID = "efs-filesystem-unencrypted"

func TestFileSystemUnencrypted(t *testing.T) {
	c, ok := check.Lookup(Checks(), checkID)
	if !ok {
		t.Fatalf("check %s not found", checkID)
	}
	if !reflect.DeepEqual(c.Needs, []string{PartFileSystems}) || c.Severity != model.SeverityHigh || c.Family != model.FamilyUnencrypted {
		t.Errorf("check = %+v", c.Meta)
	}
	tests := []struct {
		name      string
		fs        FileSystem
		partition string
		status    model.Status
		arn, msg  string
		evidence  map[string]any
	}{
		{"unencrypted", FileSystem{ID: "fs-1", ARN: "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1", Name: "home"}, "aws",
			model.StatusFail, "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1", "EFS file system fs-1 is not encrypted at rest",
			map[string]any{"encrypted": false, "kms_key_id": "absent", "name": "home"}},
		{"encrypted with a key", FileSystem{ID: "fs-1", Encrypted: true, KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k"}, "aws",
			model.StatusPass, "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1", "EFS file system fs-1 is encrypted at rest",
			map[string]any{"encrypted": true, "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/k"}},
		{"encrypted, no key reported", FileSystem{ID: "fs-1", Encrypted: true}, "",
			model.StatusPass, "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1", "EFS file system fs-1 is encrypted at rest",
			map[string]any{"encrypted": true, "kms_key_id": "absent"}},
		{"China partition, ARN built", FileSystem{ID: "fs-1"}, "aws-cn",
			model.StatusFail, "arn:aws-cn:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1", "EFS file system fs-1 is not encrypted at rest",
			map[string]any{"encrypted": false, "kms_key_id": "absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: "111122223333", Region: "eu-west-1", Partition: tt.partition, FileSystems: []FileSystem{tt.fs}}
			got := c.Eval(inv)
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			f := got[0]
			if f.ResourceID != "fs-1" || f.ResourceARN != tt.arn || f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q %q %q, want %s %q %q", f.Status, f.ResourceID, f.ResourceARN, f.Message, tt.status, tt.arn, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
	if got := c.Eval(&Inventory{Region: "eu-west-1"}); len(got) != 0 {
		t.Errorf("no file systems: %d findings", len(got))
	}
}

// fakeAPI serves pages of file systems, keyed by the request's Marker.
type fakeAPI struct {
	pages map[string]*efs.DescribeFileSystemsOutput
	err   error
}

func (f fakeAPI) DescribeFileSystems(_ context.Context, in *efs.DescribeFileSystemsInput, _ ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.pages[aws.ToString(in.Marker)], nil
}

func TestCollectEveryPage(t *testing.T) {
	scope := check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}
	api := fakeAPI{pages: map[string]*efs.DescribeFileSystemsOutput{
		"": {FileSystems: []types.FileSystemDescription{
			{FileSystemId: aws.String("fs-1"), FileSystemArn: aws.String("arn:fs-1"), Name: aws.String("home"), Encrypted: aws.Bool(true), KmsKeyId: aws.String("k")},
		}, NextMarker: aws.String("m2")},
		"m2": {FileSystems: []types.FileSystemDescription{{FileSystemId: aws.String("fs-2")}}},
	}}
	gaps := &check.Gaps{}
	inv := collect(context.Background(), api, scope, gaps)
	want := []FileSystem{{ID: "fs-1", ARN: "arn:fs-1", Name: "home", Encrypted: true, KMSKeyID: "k"}, {ID: "fs-2"}}
	if !reflect.DeepEqual(inv.FileSystems, want) || len(gaps.List()) != 0 {
		t.Errorf("file systems = %+v (gaps %+v), want %+v", inv.FileSystems, gaps.List(), want)
	}
}

func TestListFailureIsAScopeError(t *testing.T) {
	scope := check.Scope{AccountID: "111122223333", Region: "eu-west-1", Partition: "aws"}
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, fakeAPI{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, scope, gaps)
	}
	results, cov := svc.Scan(context.Background(), scope, map[string]bool{checkID: true})
	if len(results) != 1 || results[0].Status != model.StatusError || results[0].ResourceID != "" || results[0].Evidence["error_code"] != "AccessDeniedException" {
		t.Errorf("results = %+v, want one scope ERROR", results)
	}
	if cov.Status != model.CoverageError || cov.Error != "DescribeFileSystems: AccessDeniedException: no" {
		t.Errorf("coverage = %+v", cov)
	}
}
