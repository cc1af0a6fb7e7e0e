package reports

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/model"
)

// largeScan builds a scan of n results shaped like a big estate's: 20
// accounts, 4 regions and global, 46 checks over 16 services, eight
// frameworks of 150 controls each (a third of them MANUAL), every result with
// a nested evidence map of about 400 bytes and the controls it maps to, one
// failure in four, muted results with a waiver, and a few gaps.
func largeScan(n int) *model.Scan {
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	services := []string{"ec2", "s3", "rds", "iam", "kms", "lambda", "dynamodb", "sqs", "sns", "efs", "elasticache",
		"redshift", "kinesis", "secretsmanager", "acm", "cloudtrail"}
	regions := []string{"eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2", model.GlobalRegion}
	families := model.Families()
	var checks []model.CheckInfo
	for i := range 46 {
		svc := services[i%len(services)]
		checks = append(checks, model.CheckInfo{
			ID: fmt.Sprintf("%s-check-%02d", svc, i), Title: fmt.Sprintf("%s resource violates rule %d", svc, i),
			Family: families[i%len(families)], Service: svc, Severity: model.Severities()[i%len(model.Severities())],
			ResourceType: "AWS::" + svc + "::Resource", Rationale: "Why this matters, in two sentences of prose. The second one.",
			Remediation: "What to change, and where.", References: []string{"https://docs.aws.amazon.com/" + svc + "/"},
		})
	}
	frameworkIDs := []string{"cis-aws-3.0.0", "cis-aws-5.0.0", "aws-fsbp", "soc2", "pci-dss-4.0.1", "nist-800-53-r5", "iso-27001-2022", "hipaa"}
	scan := &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.4.0"},
		Scan: model.ScanInfo{ID: "scan-large", StartedAt: start, FinishedAt: start.Add(17 * time.Minute),
			Regions: regions[:4], AccountNames: map[string]string{}, Principal: "arn:aws:sts::100000000000:assumed-role/audit/posture"},
		Catalogue: checks,
		Results:   make([]model.Result, 0, n),
		Coverage:  []model.Coverage{},
		Controls:  []model.ControlStatus{},
	}
	var accounts []string
	for a := range 20 {
		id := fmt.Sprintf("1000000000%02d", a)
		accounts = append(accounts, id)
		scan.Scan.AccountNames[id] = fmt.Sprintf("workload-%02d", a)
	}
	scan.Scan.Accounts = accounts
	for _, c := range checks {
		scan.Scan.Checks = append(scan.Scan.Checks, c.ID)
	}
	controlsOf := map[string][]string{} // check -> controls
	for _, fw := range frameworkIDs {
		scan.Frameworks = append(scan.Frameworks, model.Framework{ID: fw, Name: fw + " framework", Version: "1"})
		for k := range 150 {
			c := model.ControlStatus{Framework: fw, ControlID: fmt.Sprintf("%d.%d", k/10+1, k%10+1), Title: fmt.Sprintf("Control %d of %s", k, fw),
				Accounts: []string{}, Checks: []string{}}
			if k%3 == 0 {
				c.Status, c.Note = model.ControlManual, "no automated check: needs manual evidence"
			} else {
				c.Status, c.Coverage = model.ControlFail, model.CoveragePartial
				for j := 0; j < 1+k%3; j++ {
					id := checks[(k*7+j*13)%len(checks)].ID
					c.Checks = append(c.Checks, id)
					controlsOf[id] = append(controlsOf[id], fw+":"+c.ControlID)
				}
				c.Accounts = accounts[:3]
			}
			scan.Controls = append(scan.Controls, c)
		}
	}
	for i := range n {
		c := checks[i%len(checks)]
		acct := accounts[(i/len(checks))%len(accounts)]
		region := regions[(i/(len(checks)*len(accounts)))%len(regions)]
		id := fmt.Sprintf("%s-%08x", c.Service, i*2654435761%(1<<32))
		status := model.StatusPass
		switch {
		case i%4 == 0:
			status = model.StatusFail
		case i%97 == 0:
			status = model.StatusMuted
		case i%251 == 0:
			status = model.StatusError
		}
		r := model.Result{
			CheckID: c.ID, Status: status, Severity: c.Severity, Family: c.Family, AccountID: acct, AccountName: scan.Scan.AccountNames[acct],
			Region: region, Service: c.Service, ResourceType: c.ResourceType, ResourceID: id,
			ResourceARN: "arn:aws:" + c.Service + ":" + region + ":" + acct + ":resource/" + id,
			Message:     fmt.Sprintf("%s %s: %s", c.Service, id, c.Title),
			Evidence: map[string]any{
				"rule":                map[string]any{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0", "description": "ssh from anywhere"},
				"group_name":          "launch-wizard-" + id,
				"vpc_id":              "vpc-0123456789abcdef0",
				"tags":                map[string]any{"Name": id, "env": "prod", "owner": "team-" + acct[10:]},
				"block_public_access": map[string]any{"BlockPublicAcls": true, "IgnorePublicAcls": false, "BlockPublicPolicy": true, "RestrictPublicBuckets": false},
				"encrypted":           i%2 == 0,
				"kms_key_id":          "arn:aws:kms:" + region + ":" + acct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
			},
			Controls: controlsOf[c.ID], Fingerprint: model.Fingerprint(c.ID, acct, region, id), FirstSeen: &start,
		}
		if status == model.StatusMuted {
			r.WaiverID = "W-1"
		}
		scan.Results = append(scan.Results, r)
	}
	for _, a := range accounts {
		for _, region := range regions {
			for _, svc := range services {
				c := model.Coverage{AccountID: a, Region: region, Service: svc, Status: model.CoverageOK, Resources: n / 1600, Results: n / 1600}
				if svc == "kms" && region == "us-west-2" {
					c.Status, c.Error = model.CoverageError, "ListKeys: AccessDenied"
					c.Failures = []model.Failure{{Part: "keys", Operation: "ListKeys", Code: "AccessDenied", Error: "AccessDenied: not authorized"}}
				}
				scan.Coverage = append(scan.Coverage, c)
			}
		}
	}
	scan.Waivers = []model.Waiver{{ID: "W-1", Check: checks[0].ID, Resources: []string{"*"}, Expires: "2027-01-31", State: model.WaiverActive, Muted: n / 97}}
	return scan
}

// BenchmarkXLSX100k renders evidence.xlsx for 100,000 results. Measure the
// peak RSS with
//
//	/usr/bin/time -v go test -run '^$' -bench BenchmarkXLSX100k -benchtime 1x ./reports
func BenchmarkXLSX100k(b *testing.B) {
	in := Input{Scan: largeScan(100_000)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := (XLSX{}).Write(io.Discard, in); err != nil {
			b.Fatal(err)
		}
	}
}
