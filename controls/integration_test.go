package controls_test

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/faultproxy"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
)

func TestMain(m *testing.M) { os.Exit(emutest.Main(m)) }

// publicExposure are the checks the scenario runs: named explicitly, so that
// the controls of other checks are NOT_APPLICABLE ("not evaluated") here
// whatever else the registry holds.
var publicExposure = []string{
	"ec2-sg-open-admin-port", "ec2-sg-open-database-port", "ec2-sg-open-all-ports", "ec2-sg-default-not-restricted",
	"ec2-nacl-open-admin-port", "ec2-instance-internet-exposed", "rds-instance-public", "redshift-cluster-public",
	"s3-bucket-public", "s3-account-public-access-block-off", "ec2-snapshot-public", "rds-snapshot-public",
}

// TestControlStatusesOnTheEmulator seeds one region with an SSH group open to
// the internet, a private DB instance, a private bucket and a bucket whose
// policy cannot be read (denied by the fault proxy), no Redshift cluster;
// scans it with the public-exposure checks and rolls the results up.
func TestControlStatusesOnTheEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	cfg := emutest.Config(t, srv.URL, "us-east-1")
	ec2c := ec2.NewFromConfig(cfg)
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh-open"), Description: aws.String("ssh")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db-private"),
		DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("not-a-real-password-1"), PubliclyAccessible: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	s3c := awsenv.S3(cfg, "us-east-1")
	for _, b := range []string{"ctl-private", "ctl-denied"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := faultproxy.New(srv.URL, faultproxy.Rule{Service: "s3", PathContains: "/ctl-denied", QueryHas: "policy", Fault: faultproxy.AccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	scan := scantest.Scan(t, p.URL, []string{"us-east-1"}, publicExposure...)
	frameworks, err := controls.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	controls.Apply(scan, frameworks)

	byKey := map[string]model.ControlStatus{}
	for _, c := range scan.Controls {
		byKey[controls.Key(c.Framework, c.ControlID)] = c
	}
	total := 0
	for _, fw := range frameworks {
		total += len(fw.Controls)
	}
	if len(scan.Controls) != total {
		t.Errorf("%d control statuses, want one per control of every framework (%d)", len(scan.Controls), total)
	}
	const acct = "123456789012"
	cases := []struct {
		key  string
		want model.ControlStatus
	}{
		// The SSH group fails, the region's default group passes.
		{"cis-aws-5.0.0:5.3", model.ControlStatus{Status: "FAIL", Coverage: model.CoverageFull, Passed: 1, Failed: 1, Accounts: []string{acct},
			Checks: []string{"ec2-sg-open-admin-port"}}},
		// The private DB instance passes.
		{"cis-aws-5.0.0:2.2.3", model.ControlStatus{Status: "PASS", Coverage: model.CoverageFull, Passed: 1, Accounts: []string{},
			Checks: []string{"rds-instance-public"}}},
		// One bucket passes, the other cannot be judged: ERROR wins over PASS.
		{"aws-fsbp:S3.2", model.ControlStatus{Status: "ERROR", Coverage: model.CoverageFull, Passed: 1, Errors: 1, Accounts: []string{acct},
			Checks: []string{"s3-bucket-public"}}},
		// No Redshift cluster: nothing in scope.
		{"aws-fsbp:Redshift.1", model.ControlStatus{Status: "NOT_APPLICABLE", Coverage: model.CoverageFull, Accounts: []string{},
			Checks: []string{"redshift-cluster-public"}, Note: "no resource in scope"}},
		// Its check did not run in this scan.
		{"cis-aws-5.0.0:2.3.1", model.ControlStatus{Status: "NOT_APPLICABLE", Coverage: model.CoverageFull, Accounts: []string{},
			Checks: []string{"efs-filesystem-unencrypted"}, Note: "not evaluated: none of its checks ran in this scan"}},
		// No check covers it.
		{"cis-aws-5.0.0:1.1", model.ControlStatus{Status: "MANUAL", Accounts: []string{}, Checks: []string{},
			Note: "no automated check: needs manual evidence"}},
		// No account-level block public access in the emulator.
		{"cis-aws-3.0.0:2.1.4", model.ControlStatus{Status: "FAIL", Failed: 1, Accounts: []string{acct},
			Checks: []string{"s3-account-public-access-block-off"}}},
	}
	for _, c := range cases {
		got, ok := byKey[c.key]
		want := c.want
		want.Framework, want.ControlID, want.Title = got.Framework, got.ControlID, got.Title
		if want.Status != model.ControlManual && want.Coverage == "" {
			want.Coverage = model.CoveragePartial
		}
		if !ok || got.Title == "" || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.key, got, want)
		}
	}

	r := scantest.Find(t, scan, "ec2-sg-open-admin-port", "us-east-1", aws.ToString(sg.GroupId))
	want := []string{"cis-aws-3.0.0:5.2", "cis-aws-3.0.0:5.3", "cis-aws-5.0.0:5.3", "cis-aws-5.0.0:5.4", "aws-fsbp:EC2.19",
		"soc2:CC6.1", "soc2:CC6.6", "pci-dss-4.0.1:1.3.1", "nist-800-53-r5:AC-4", "nist-800-53-r5:CM-7", "nist-800-53-r5:SC-7",
		"nist-800-53-r5:SC-7(5)", "iso-27001-2022:A.8.20", "iso-27001-2022:A.8.21", "iso-27001-2022:A.8.22",
		"hipaa:164.312(a)(1)", "hipaa:164.312(e)(1)"}
	if r.Status != model.StatusFail || !reflect.DeepEqual(r.Controls, want) {
		t.Errorf("open group: %s, controls\n %q\nwant\n %q", r.Status, r.Controls, want)
	}
	for _, r := range scan.Results {
		if len(r.Controls) == 0 {
			t.Errorf("result %s %s names no control", r.CheckID, r.ResourceID)
		}
	}
}
