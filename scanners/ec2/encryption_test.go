package ec2

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func TestEBSVolumeUnencrypted(t *testing.T) {
	tests := []struct {
		name     string
		vol      Volume
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"unencrypted root volume", Volume{ID: "vol-1", State: "in-use", SizeGiB: 8, AttachedTo: []string{"i-1"}}, model.StatusFail,
			"EBS volume vol-1 (8 GiB, attached to i-1) is not encrypted",
			map[string]any{"encrypted": false, "kms_key_id": "", "attached_instances": []string{"i-1"}, "size_gib": int32(8), "state": "in-use"}},
		{"unencrypted, detached, named", Volume{ID: "vol-2", Name: "scratch", State: "available", SizeGiB: 100}, model.StatusFail,
			"EBS volume vol-2 (100 GiB, not attached) is not encrypted",
			map[string]any{"encrypted": false, "kms_key_id": "", "attached_instances": []string{}, "size_gib": int32(100), "state": "available", "name": "scratch"}},
		{"unencrypted multi-attach", Volume{ID: "vol-3", SizeGiB: 4, AttachedTo: []string{"i-1", "i-2"}}, model.StatusFail,
			"EBS volume vol-3 (4 GiB, attached to 2 instances) is not encrypted",
			map[string]any{"encrypted": false, "kms_key_id": "", "attached_instances": []string{"i-1", "i-2"}, "size_gib": int32(4), "state": ""}},
		{"encrypted with a key", Volume{ID: "vol-4", Encrypted: true, KMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k1", SizeGiB: 8}, model.StatusPass,
			"EBS volume vol-4 is encrypted with arn:aws:kms:eu-west-1:111122223333:key/k1",
			map[string]any{"encrypted": true, "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/k1", "attached_instances": []string{}, "size_gib": int32(8), "state": ""}},
		{"encrypted, key not reported", Volume{ID: "vol-5", Encrypted: true}, model.StatusPass,
			"EBS volume vol-5 is encrypted with a KMS key",
			map[string]any{"encrypted": true, "kms_key_id": "", "attached_instances": []string{}, "size_gib": int32(0), "state": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: "aws", Volumes: []Volume{tt.vol}}
			f := one(t, evalCheck(t, "ec2-ebs-volume-unencrypted", inv), tt.vol.ID)
			if f.Status != tt.status || f.Message != tt.msg {
				t.Errorf("finding = %s %q, want %s %q", f.Status, f.Message, tt.status, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
			if want := "arn:aws:ec2:eu-west-1:111122223333:volume/" + tt.vol.ID; f.ResourceARN != want {
				t.Errorf("ARN = %q, want %q", f.ResourceARN, want)
			}
		})
	}
	if got := evalCheck(t, "ec2-ebs-volume-unencrypted", &Inventory{AccountID: acct, Region: region}); len(got) != 0 {
		t.Errorf("no volumes: %d findings", len(got))
	}
}

func TestEBSDefaultEncryptionOff(t *testing.T) {
	tests := []struct {
		name     string
		setting  *bool
		status   model.Status
		msg      string
		evidence map[string]any
	}{
		{"off", aws.Bool(false), model.StatusFail, "EBS encryption by default is off for account 111122223333 in eu-west-1",
			map[string]any{"ebs_encryption_by_default": false, "region": region}},
		{"on", aws.Bool(true), model.StatusPass, "EBS encryption by default is on for account 111122223333 in eu-west-1",
			map[string]any{"ebs_encryption_by_default": true, "region": region}},
		{"not collected", nil, model.StatusError, "EBS encryption by default was not collected for account 111122223333 in eu-west-1",
			map[string]any{"region": region}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: "aws", EBSEncryptionByDefault: tt.setting}
			f := one(t, evalCheck(t, "ec2-ebs-default-encryption-off", inv), acct)
			if f.Status != tt.status || f.Message != tt.msg || f.ResourceARN != "" {
				t.Errorf("finding = %s %q %q, want %s %q and no ARN", f.Status, f.Message, f.ResourceARN, tt.status, tt.msg)
			}
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
		})
	}
}

func TestEBSSnapshotUnencrypted(t *testing.T) {
	tests := []struct {
		name      string
		snap      Snapshot
		partition string
		status    model.Status
		msg       string
		evidence  map[string]any
	}{
		{"unencrypted", Snapshot{ID: "snap-1", VolumeID: "vol-1", SizeGiB: 8}, "aws", model.StatusFail,
			"EBS snapshot snap-1 (of volume vol-1) is not encrypted",
			map[string]any{"volume_id": "vol-1", "encrypted": false, "kms_key_id": "", "size_gib": int32(8)}},
		{"unencrypted, no volume, named", Snapshot{ID: "snap-2", Name: "backup"}, "aws", model.StatusFail,
			"EBS snapshot snap-2 (of volume unknown) is not encrypted",
			map[string]any{"volume_id": "", "encrypted": false, "kms_key_id": "", "size_gib": int32(0), "name": "backup"}},
		{"public and unencrypted is judged on encryption only", Snapshot{ID: "snap-3", VolumeID: "vol-3", Public: true}, "aws", model.StatusFail,
			"is not encrypted", map[string]any{"volume_id": "vol-3", "encrypted": false, "kms_key_id": "", "size_gib": int32(0)}},
		{"permissions unreadable does not matter here", Snapshot{ID: "snap-4", Encrypted: true, PermissionsError: "AccessDenied"}, "aws", model.StatusPass,
			"EBS snapshot snap-4 is encrypted", map[string]any{"volume_id": "", "encrypted": true, "kms_key_id": "", "size_gib": int32(0)}},
		{"encrypted with a key, GovCloud", Snapshot{ID: "snap-5", VolumeID: "vol-5", Encrypted: true, KMSKeyID: "k1", SizeGiB: 20}, "aws-us-gov", model.StatusPass,
			"EBS snapshot snap-5 is encrypted", map[string]any{"volume_id": "vol-5", "encrypted": true, "kms_key_id": "k1", "size_gib": int32(20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: tt.partition, Snapshots: []Snapshot{tt.snap}}
			f := one(t, evalCheck(t, "ec2-ebs-snapshot-unencrypted", inv), tt.snap.ID)
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", f.Status, f.Message, tt.status)
			}
			mustContain(t, "message", f.Message, tt.msg)
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
			if want := "arn:" + tt.partition + ":ec2:eu-west-1::snapshot/" + tt.snap.ID; f.ResourceARN != want {
				t.Errorf("ARN = %q, want %q", f.ResourceARN, want)
			}
		})
	}
}

// fakeAPI serves fixed pages and records the operations called.
type fakeAPI struct {
	mu        sync.Mutex
	calls     []string
	volumes   [][]types.Volume // pages
	defaultOn *bool
	denied    map[string]bool
	// groups is served by DescribeSecurityGroups; prefixLists (pages) by
	// DescribeManagedPrefixLists; entries (pages per list ID) by
	// GetManagedPrefixListEntries.
	groups      []types.SecurityGroup
	prefixLists [][]types.ManagedPrefixList
	entries     map[string][][]types.PrefixListEntry
}

var errDenied = &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}

func (f *fakeAPI) call(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	if f.denied[op] {
		return errDenied
	}
	return nil
}

func (f *fakeAPI) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return &ec2.DescribeVpcsOutput{}, f.call("DescribeVpcs")
}
func (f *fakeAPI) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return &ec2.DescribeSubnetsOutput{}, f.call("DescribeSubnets")
}
func (f *fakeAPI) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{}, f.call("DescribeRouteTables")
}
func (f *fakeAPI) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: f.groups}, f.call("DescribeSecurityGroups")
}
func (f *fakeAPI) DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	return &ec2.DescribeNetworkAclsOutput{}, f.call("DescribeNetworkAcls")
}
func (f *fakeAPI) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{}, f.call("DescribeInstances")
}
func (f *fakeAPI) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return &ec2.DescribeSnapshotsOutput{}, f.call("DescribeSnapshots")
}
func (f *fakeAPI) DescribeSnapshotAttribute(context.Context, *ec2.DescribeSnapshotAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error) {
	return &ec2.DescribeSnapshotAttributeOutput{}, f.call("DescribeSnapshotAttribute")
}

// DescribeVolumes serves f.volumes page by page, the page index in NextToken.
func (f *fakeAPI) DescribeVolumes(_ context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	if err := f.call("DescribeVolumes"); err != nil {
		return nil, err
	}
	page := 0
	if in.NextToken != nil {
		page = len(aws.ToString(in.NextToken))
	}
	out := &ec2.DescribeVolumesOutput{}
	if page < len(f.volumes) {
		out.Volumes = f.volumes[page]
	}
	if page+1 < len(f.volumes) {
		out.NextToken = aws.String(strings.Repeat("n", page+1))
	}
	return out, nil
}

// pageIndex reads the page index the fake encodes in NextToken.
func pageIndex(token *string) int { return len(aws.ToString(token)) }

// nextToken returns the token of the page after page, nil on the last.
func nextToken(page, pages int) *string {
	if page+1 < pages {
		return aws.String(strings.Repeat("n", page+1))
	}
	return nil
}

func (f *fakeAPI) DescribeManagedPrefixLists(_ context.Context, in *ec2.DescribeManagedPrefixListsInput, _ ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	if err := f.call("DescribeManagedPrefixLists"); err != nil {
		return nil, err
	}
	page, out := pageIndex(in.NextToken), &ec2.DescribeManagedPrefixListsOutput{}
	if page < len(f.prefixLists) {
		out.PrefixLists = f.prefixLists[page]
	}
	out.NextToken = nextToken(page, len(f.prefixLists))
	return out, nil
}

func (f *fakeAPI) GetManagedPrefixListEntries(_ context.Context, in *ec2.GetManagedPrefixListEntriesInput, _ ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	id := aws.ToString(in.PrefixListId)
	if err := f.call("GetManagedPrefixListEntries " + id); err != nil {
		return nil, err
	}
	pages, ok := f.entries[id]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidPrefixListID.NotFound", Message: "The prefix list ID '" + id + "' does not exist"}
	}
	page, out := pageIndex(in.NextToken), &ec2.GetManagedPrefixListEntriesOutput{}
	if page < len(pages) {
		out.Entries = pages[page]
	}
	out.NextToken = nextToken(page, len(pages))
	return out, nil
}

func (f *fakeAPI) GetEbsEncryptionByDefault(context.Context, *ec2.GetEbsEncryptionByDefaultInput, ...func(*ec2.Options)) (*ec2.GetEbsEncryptionByDefaultOutput, error) {
	if err := f.call("GetEbsEncryptionByDefault"); err != nil {
		return nil, err
	}
	return &ec2.GetEbsEncryptionByDefaultOutput{EbsEncryptionByDefault: f.defaultOn}, nil
}

// scanWith runs the EC2 scanner's selected checks over the fake API.
func scanWith(api *fakeAPI, checks ...string) ([]model.Result, model.Coverage) {
	svc := Scanner()
	svc.Collect = func(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
		return collect(ctx, api, scope, gaps)
	}
	selected := map[string]bool{}
	for _, c := range checks {
		selected[c] = true
	}
	return svc.Scan(context.Background(), check.Scope{AccountID: acct, Partition: "aws", Region: region}, selected)
}

func TestCollectVolumesEveryPage(t *testing.T) {
	api := &fakeAPI{volumes: [][]types.Volume{
		{{VolumeId: aws.String("vol-1"), Size: aws.Int32(8), State: types.VolumeStateInUse,
			Attachments: []types.VolumeAttachment{{InstanceId: aws.String("i-1")}, {InstanceId: nil}}}},
		{{VolumeId: aws.String("vol-2"), Size: aws.Int32(10), Encrypted: aws.Bool(true), KmsKeyId: aws.String("k1"),
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}}},
	}}
	results, cov := scanWith(api, "ec2-ebs-volume-unencrypted")
	if cov.Status != model.CoverageOK {
		t.Fatalf("coverage = %+v", cov)
	}
	if len(results) != 2 || results[0].ResourceID != "vol-1" || results[0].Status != model.StatusFail ||
		results[1].ResourceID != "vol-2" || results[1].Status != model.StatusPass {
		t.Fatalf("results = %+v", results)
	}
	if got := results[0].Evidence["attached_instances"]; !reflect.DeepEqual(got, []string{"i-1"}) {
		t.Errorf("attached_instances = %#v", got)
	}
	if results[1].Evidence["name"] != "data" || results[1].Evidence["kms_key_id"] != "k1" {
		t.Errorf("evidence = %#v", results[1].Evidence)
	}
	if !reflect.DeepEqual(api.calls, []string{"DescribeVolumes", "DescribeVolumes"}) {
		t.Errorf("calls = %v, want two pages of DescribeVolumes and nothing else", api.calls)
	}
}

// TestCollectCallsOnlyWhatTheChecksNeed: each new check makes the collector
// call its own APIs and no other.
func TestCollectCallsOnlyWhatTheChecksNeed(t *testing.T) {
	tests := []struct {
		check string
		calls []string
	}{
		{"ec2-instance-outside-vpc", []string{"DescribeInstances"}},
		{"ec2-instance-in-default-vpc", []string{"DescribeInstances", "DescribeVpcs"}},
		{"ec2-ebs-volume-unencrypted", []string{"DescribeVolumes"}},
		{"ec2-ebs-default-encryption-off", []string{"GetEbsEncryptionByDefault"}},
		{"ec2-ebs-snapshot-unencrypted", []string{"DescribeSnapshots"}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			api := &fakeAPI{defaultOn: aws.Bool(false)}
			scanWith(api, tt.check)
			sort.Strings(api.calls)
			if !reflect.DeepEqual(api.calls, tt.calls) {
				t.Errorf("calls = %v, want %v", api.calls, tt.calls)
			}
		})
	}
}

// TestEBSDefaultDeniedIsScopeError: a denied GetEbsEncryptionByDefault is a
// coverage gap and an ERROR for the region, never a FAIL claiming the
// setting is off; the other checks are unaffected.
func TestEBSDefaultDeniedIsScopeError(t *testing.T) {
	api := &fakeAPI{denied: map[string]bool{"GetEbsEncryptionByDefault": true},
		volumes: [][]types.Volume{{{VolumeId: aws.String("vol-1"), Encrypted: aws.Bool(true)}}}}
	results, cov := scanWith(api, "ec2-ebs-default-encryption-off", "ec2-ebs-volume-unencrypted")
	if len(results) != 2 {
		t.Fatalf("results = %+v", results)
	}
	byCheck := map[string]model.Result{}
	for _, r := range results {
		byCheck[r.CheckID] = r
	}
	def, vol := byCheck["ec2-ebs-default-encryption-off"], byCheck["ec2-ebs-volume-unencrypted"]
	if def.Status != model.StatusError ||
		!strings.Contains(def.Message, "GetEbsEncryptionByDefault") || def.Evidence["error_code"] != "UnauthorizedOperation" {
		t.Errorf("default encryption result = %+v", def)
	}
	if vol.Status != model.StatusPass {
		t.Errorf("volume result = %+v", vol)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Part != PartEBSDefaults ||
		cov.Failures[0].Operation != "GetEbsEncryptionByDefault" || cov.Failures[0].Code != "UnauthorizedOperation" {
		t.Errorf("coverage = %+v", cov)
	}
}

// TestEBSDefaultNilAnswerIsOff: an answer without the flag is read as off,
// as the API documents false as its default.
func TestEBSDefaultNilAnswerIsOff(t *testing.T) {
	results, _ := scanWith(&fakeAPI{}, "ec2-ebs-default-encryption-off")
	if len(results) != 1 || results[0].Status != model.StatusFail || results[0].ResourceID != acct || results[0].Region != region {
		t.Errorf("results = %+v", results)
	}
}
