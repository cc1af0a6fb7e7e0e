package ec2_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

const account = "123456789012"

// storesSeed names what seedStores created in one region.
type storesSeed struct {
	region              string
	defaultVPC          string
	iVPC, iDefault      string // an instance in a subnet of a new VPC, one launched without a subnet
	iTerminated         string
	rootVPC, rootDef    string // their root volumes
	volPlain, volEnc    string
	snapPlain, snapEnc  string
	encryptionByDefault bool
}

// seedStores creates instances, volumes and snapshots in one region. The
// emulator puts an instance launched without a subnet into the default VPC
// and gives every instance an unencrypted 8 GiB root volume, which it
// deletes when the instance is terminated.
func seedStores(t *testing.T, url, region string, encryptionByDefault bool) storesSeed {
	ctx := context.Background()
	c := ec2.NewFromConfig(emutest.Config(t, url, region))
	s := storesSeed{region: region, encryptionByDefault: encryptionByDefault}

	vpcs := must[*ec2.DescribeVpcsOutput](t, "describe default vpc")(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}}))
	s.defaultVPC = aws.ToString(vpcs.Vpcs[0].VpcId)
	vpc := aws.ToString(must[*ec2.CreateVpcOutput](t, "create vpc")(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})).Vpc.VpcId)
	subnet := aws.ToString(must[*ec2.CreateSubnetOutput](t, "create subnet")(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(vpc), CidrBlock: aws.String("10.1.1.0/24")})).Subnet.SubnetId)

	run := func(subnetID string) (instance, root string) {
		in := &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		if subnetID != "" {
			in.SubnetId = aws.String(subnetID)
		}
		out := must[*ec2.RunInstancesOutput](t, "run instance")(c.RunInstances(ctx, in))
		instance = aws.ToString(out.Instances[0].InstanceId)
		vols := must[*ec2.DescribeVolumesOutput](t, "root volume")(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{
			Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{instance}}}}))
		if len(vols.Volumes) != 1 {
			t.Fatalf("instance %s has %d volumes, want its root volume", instance, len(vols.Volumes))
		}
		return instance, aws.ToString(vols.Volumes[0].VolumeId)
	}
	s.iVPC, s.rootVPC = run(subnet)
	s.iDefault, s.rootDef = run("")
	s.iTerminated, _ = run("")
	must[*ec2.TerminateInstancesOutput](t, "terminate")(c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{s.iTerminated}}))

	volume := func(size int32, encrypted bool) string {
		return aws.ToString(must[*ec2.CreateVolumeOutput](t, "volume")(c.CreateVolume(ctx, &ec2.CreateVolumeInput{
			AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(size), Encrypted: aws.Bool(encrypted)})).VolumeId)
	}
	s.volPlain, s.volEnc = volume(5, false), volume(6, true)
	snap := func(vol string) string {
		return aws.ToString(must[*ec2.CreateSnapshotOutput](t, "snapshot")(c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})).SnapshotId)
	}
	s.snapPlain, s.snapEnc = snap(s.volPlain), snap(s.volEnc)

	if encryptionByDefault {
		must[*ec2.EnableEbsEncryptionByDefaultOutput](t, "enable EBS encryption by default")(c.EnableEbsEncryptionByDefault(ctx, &ec2.EnableEbsEncryptionByDefaultInput{}))
	}
	return s
}

// TestEC2VPCAndEncryptionChecksAgainstEmulator: instances in a VPC and in
// the default VPC, encrypted and unencrypted volumes and snapshots, and EBS
// encryption by default on in one region and off in the other. EC2-Classic
// cannot be created in the emulator: the FAIL case of
// ec2-instance-outside-vpc is proved by unit tests, its PASS case here.
func TestEC2VPCAndEncryptionChecksAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	seeds := []storesSeed{
		seedStores(t, srv.URL, "us-east-1", true),
		seedStores(t, srv.URL, "eu-west-1", false),
	}
	checks := []string{"ec2-instance-outside-vpc", "ec2-instance-in-default-vpc", "ec2-ebs-volume-unencrypted",
		"ec2-ebs-default-encryption-off", "ec2-ebs-snapshot-unencrypted"}
	scan := scantest.Scan(t, srv.URL, []string{"us-east-1", "eu-west-1"}, checks...)
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("unexpected coverage gaps: %+v", gaps)
	}

	const P, F = model.StatusPass, model.StatusFail
	want := map[string]map[scantest.Key]model.Status{}
	for _, c := range checks {
		want[c] = map[scantest.Key]model.Status{}
	}
	add := func(checkID, region, resource string, st model.Status) {
		want[checkID][scantest.Key{Check: checkID, Region: region, Resource: resource}] = st
	}
	for _, s := range seeds {
		r := s.region
		// The terminated instance has no result; its root volume is gone.
		add("ec2-instance-outside-vpc", r, s.iVPC, P)
		add("ec2-instance-outside-vpc", r, s.iDefault, P)
		add("ec2-instance-in-default-vpc", r, s.iVPC, P)
		add("ec2-instance-in-default-vpc", r, s.iDefault, F)
		add("ec2-ebs-volume-unencrypted", r, s.rootVPC, F)
		add("ec2-ebs-volume-unencrypted", r, s.rootDef, F)
		add("ec2-ebs-volume-unencrypted", r, s.volPlain, F)
		add("ec2-ebs-volume-unencrypted", r, s.volEnc, P)
		add("ec2-ebs-snapshot-unencrypted", r, s.snapPlain, F)
		add("ec2-ebs-snapshot-unencrypted", r, s.snapEnc, P)
		if s.encryptionByDefault {
			add("ec2-ebs-default-encryption-off", r, account, P)
		} else {
			add("ec2-ebs-default-encryption-off", r, account, F)
		}
	}
	for _, c := range checks {
		scantest.ExpectExactly(t, scan, c, want[c], nil)
	}

	// Evidence names what was seen.
	for _, s := range seeds {
		inDefault := scantest.Find(t, scan, "ec2-instance-in-default-vpc", s.region, s.iDefault)
		if inDefault.Evidence["default_vpc_id"] != s.defaultVPC || inDefault.Evidence["vpc_id"] != s.defaultVPC ||
			inDefault.Message != "instance "+s.iDefault+" runs in the default VPC "+s.defaultVPC {
			t.Errorf("%s in-default-vpc: %q %v", s.region, inDefault.Message, inDefault.Evidence)
		}
		if r := scantest.Find(t, scan, "ec2-instance-in-default-vpc", s.region, s.iVPC); r.Evidence["default_vpc_id"] != s.defaultVPC {
			t.Errorf("%s VPC instance evidence: %v", s.region, r.Evidence)
		}
		root := scantest.Find(t, scan, "ec2-ebs-volume-unencrypted", s.region, s.rootDef)
		if !reflect.DeepEqual(root.Evidence["attached_instances"], []string{s.iDefault}) || root.Evidence["size_gib"] != int32(8) ||
			root.Evidence["encrypted"] != false || root.Evidence["kms_key_id"] != "" ||
			root.ResourceARN != "arn:aws:ec2:"+s.region+":"+account+":volume/"+s.rootDef {
			t.Errorf("%s root volume: %s %v", s.region, root.ResourceARN, root.Evidence)
		}
		enc := scantest.Find(t, scan, "ec2-ebs-volume-unencrypted", s.region, s.volEnc)
		if k, _ := enc.Evidence["kms_key_id"].(string); k == "" || enc.Evidence["size_gib"] != int32(6) {
			t.Errorf("%s encrypted volume evidence: %v", s.region, enc.Evidence)
		}
		snap := scantest.Find(t, scan, "ec2-ebs-snapshot-unencrypted", s.region, s.snapPlain)
		if snap.Evidence["volume_id"] != s.volPlain || snap.ResourceARN != "arn:aws:ec2:"+s.region+"::snapshot/"+s.snapPlain {
			t.Errorf("%s snapshot: %s %v", s.region, snap.ResourceARN, snap.Evidence)
		}
		def := scantest.Find(t, scan, "ec2-ebs-default-encryption-off", s.region, account)
		if def.Evidence["ebs_encryption_by_default"] != s.encryptionByDefault || def.ResourceARN != "" || def.ResourceType != "AWS::::Account" {
			t.Errorf("%s default encryption: %+v", s.region, def)
		}
	}
}
