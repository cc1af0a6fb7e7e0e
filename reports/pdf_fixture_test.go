package reports

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/scanners"
)

// Resource names from the scanned accounts that the PDF must keep intact:
// Latin-1, Greek and Cyrillic (DejaVu draws them), and CJK (it does not).
const (
	unicodeBucket = "données-ß-Ωμέγα-Жёлтый"
	cjkBucket     = "données-ß-日本"
	longARN       = "arn:aws:s3:::acme-prod-data-lake-raw-ingest-eu-west-1-0123456789abcdef/very/long/prefix/that/keeps/going/without/any/space/at/all"
)

// fixture describes the realistic scan the PDF tests render.
type fixture struct {
	// perCheck is how many resources each check evaluates per account and
	// region (the population size knob of the benchmark).
	perCheck  int
	cancelled bool
	// gaps adds an RDS AccessDenied gap and an unreachable account.
	gaps bool
	// frameworks limits the frameworks rolled up (nil: every built-in one).
	frameworks []string
}

func pick(s string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32() % n
}

// realisticScan builds a scan of three accounts and two regions over the
// whole check catalogue, rolled up with the built-in framework catalogues,
// with coverage counts that reconcile with the results.
func realisticScan(tb testing.TB, fx fixture) *model.Scan {
	tb.Helper()
	frameworks, err := controls.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	if fx.frameworks != nil {
		frameworks, err = controls.Select(frameworks, fx.frameworks)
		if err != nil {
			tb.Fatal(err)
		}
	}
	var catalogue []model.CheckInfo
	var checkIDs []string
	for _, m := range scanners.Catalogue(scanners.All()) {
		catalogue = append(catalogue, m.Info())
		checkIDs = append(checkIDs, m.ID)
	}
	sort.Slice(catalogue, func(i, j int) bool { return catalogue[i].ID < catalogue[j].ID })
	start := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	names := map[string]string{"111111111111": "prod", "222222222222": "staging-Ωμέγα", "333333333333": "sandbox"}
	regions := []string{"eu-west-1", "us-east-1"}
	scan := &model.Scan{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.Tool{Name: "posture", Version: "1.4.0"},
		Scan: model.ScanInfo{
			ID: "20260314T092653Z-5eed1234", StartedAt: start, FinishedAt: start.Add(97 * time.Second),
			Accounts: accounts, Regions: regions, Checks: checkIDs, AccountNames: names,
			Thresholds:       map[string]int{"credentials.max_key_age_days": 90, "credentials.unused_days": 45},
			Principal:        "arn:aws:sts::111111111111:assumed-role/SecurityAudit/auditor@example.com",
			Invocation:       "posture scan --accounts 111111111111,222222222222,333333333333 --regions eu-west-1,us-east-1 --config posture.yaml --format json,csv,pdf --out evidence",
			RequestedRegions: regions, ConfigFile: "posture.yaml",
			ConfigSHA256: "9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
			Cancelled:    fx.cancelled,
		},
		Coverage:  []model.Coverage{},
		Results:   []model.Result{},
		Catalogue: catalogue,
		Waivers: []model.Waiver{
			{ID: "legacy-sg", Check: "ec2-sg-open-admin-port", Resources: []string{"sg-legacy-*"}, Reason: "bastion replaced in Q2",
				Owner: "platform-team@example.com", Ticket: "SEC-1042", Expires: "2026-06-30", ApprovedBy: "ciso@example.com", State: model.WaiverActive, Muted: 2},
			{ID: "old-bucket", Check: "s3-bucket-public", Reason: "static site", Owner: "web@example.com", Expires: "2025-12-31", State: model.WaiverExpired},
		},
	}
	type scope struct{ account, region, service string }
	cov := map[scope]*model.Coverage{}
	var scopes []scope
	addScope := func(s scope) *model.Coverage {
		if c, ok := cov[s]; ok {
			return c
		}
		c := &model.Coverage{AccountID: s.account, Region: s.region, Service: s.service, Status: model.CoverageOK}
		cov[s] = c
		scopes = append(scopes, s)
		return c
	}
	gap := func(s scope, part, op, code, msg string) {
		c := addScope(s)
		c.Status = model.CoverageError
		c.Error = op + ": " + code + ": " + msg
		c.Failures = append(c.Failures, model.Failure{Part: part, Operation: op, Code: code, Error: code + ": " + msg})
	}
	if fx.gaps {
		gap(scope{"222222222222", "us-east-1", "rds"}, "db-instances", "DescribeDBInstances", "AccessDenied",
			"User: arn:aws:sts::222222222222:assumed-role/PostureScanner/posture-1.4.0 is not authorized to perform: rds:DescribeDBInstances")
		gap(scope{"333333333333", model.GlobalRegion, model.ServiceAccount}, "account", "AssumeRole", "AccessDenied",
			"not authorized to perform sts:AssumeRole on arn:aws:iam::333333333333:role/OrganizationAccountAccessRole")
	}
	if fx.cancelled {
		gap(scope{"111111111111", "us-east-1", "s3"}, "buckets", "ListBuckets", model.CodeCancelled, "scan cancelled before the scope was collected")
	}
	add := func(res model.Result) {
		res.Fingerprint = model.Fingerprint(res.CheckID, res.AccountID, res.Region, res.ResourceID)
		res.Evidence = map[string]any{"observed": "fixture"}
		res.Controls = []string{}
		scan.Results = append(scan.Results, res)
	}
	for _, info := range catalogue {
		regionsOf := regions
		if info.Service == "iam" {
			regionsOf = []string{model.GlobalRegion}
		}
		for _, acct := range accounts {
			for _, region := range regionsOf {
				base := model.Result{CheckID: info.ID, Severity: info.Severity, Family: info.Family, AccountID: acct,
					AccountName: names[acct], Region: region, Service: info.Service, ResourceType: info.ResourceType}
				s := scope{acct, region, info.Service}
				if acct == "333333333333" && fx.gaps {
					if region == regionsOf[0] {
						res := base
						res.Region = model.GlobalRegion
						res.Status = model.StatusError
						res.Message = "not evaluated: the account could not be reached (AccessDenied on AssumeRole)"
						add(res)
					}
					continue
				}
				if c, ok := cov[s]; ok && c.Status != model.CoverageOK {
					res := base
					res.Status = model.StatusError
					res.Message = "not evaluated: " + c.Failures[0].Part + " could not be collected"
					add(res)
					continue
				}
				addScope(s)
				if info.Service == "redshift" {
					continue // no cluster anywhere: its controls are NOT_APPLICABLE
				}
				for i := range fx.perCheck {
					res := base
					res.ResourceID = fmt.Sprintf("%s-%s-%04d", strings.SplitN(info.ResourceType, "::", 3)[len(strings.SplitN(info.ResourceType, "::", 3))-1], region, i)
					res.ResourceARN = "arn:aws:" + info.Service + ":" + region + ":" + acct + ":" + res.ResourceID
					res.Status = model.StatusPass
					res.Message = "meets the check"
					if pick(info.ID, 3) == 0 && pick(res.CheckID+acct+region+res.ResourceID, 5) < 2 {
						res.Status = model.StatusFail
						res.Message = "fails: " + info.Title
					}
					add(res)
				}
			}
		}
	}
	// The names an auditor must find intact, a long ARN as an ID, and the
	// waived failures.
	special := []struct {
		check, id string
		status    model.Status
		waiver    string
	}{
		{"s3-bucket-public", unicodeBucket, model.StatusFail, ""},
		{"s3-bucket-public", cjkBucket, model.StatusFail, ""},
		{"s3-bucket-public", longARN, model.StatusFail, ""},
		{"ec2-sg-open-admin-port", "sg-legacy-0a1b2c3d", model.StatusMuted, "legacy-sg"},
		{"ec2-sg-open-admin-port", "sg-legacy-9f8e7d6c", model.StatusMuted, "legacy-sg"},
	}
	for _, sp := range special {
		svc := strings.SplitN(sp.check, "-", 2)[0]
		res := model.Result{CheckID: sp.check, Status: sp.status, Severity: model.SeverityHigh, Family: model.FamilyPublicExposure,
			AccountID: "111111111111", AccountName: "prod", Region: "eu-west-1", Service: svc, ResourceType: "AWS::S3::Bucket",
			ResourceID: sp.id, ResourceARN: "arn:aws:s3:::" + sp.id, Message: "the bucket policy allows everyone: {\"Principal\":\"*\",\"Action\":\"s3:GetObject\"}", WaiverID: sp.waiver}
		if sp.status == model.StatusMuted {
			res.Message = "port 22 open to 0.0.0.0/0 (waived)"
		}
		addScope(scope{"111111111111", "eu-west-1", svc})
		add(res)
	}
	for _, res := range scan.Results {
		s := scope{res.AccountID, res.Region, res.Service}
		c, ok := cov[s]
		if !ok {
			c = cov[scope{res.AccountID, model.GlobalRegion, model.ServiceAccount}]
		}
		c.Results++
		if res.Status == model.StatusError {
			c.Errors++
		} else {
			c.Resources++
		}
	}
	sort.Slice(scopes, func(i, j int) bool {
		a, b := scopes[i], scopes[j]
		if a.account != b.account {
			return a.account < b.account
		}
		if a.region != b.region {
			return a.region < b.region
		}
		return a.service < b.service
	})
	for _, s := range scopes {
		scan.Coverage = append(scan.Coverage, *cov[s])
	}
	controls.Apply(scan, frameworks)
	if err := Validate(scan); err != nil {
		tb.Fatalf("fixture is not a valid scan: %v", err)
	}
	return scan
}

// sampleDiff is a diff of the fixture against an earlier scan.
func sampleDiff(scan *model.Scan) *model.Diff {
	old := model.ScanRef{ID: "20260313T092653Z-0ld0", StartedAt: scan.Scan.StartedAt.Add(-24 * time.Hour),
		FinishedAt: scan.Scan.FinishedAt.Add(-24 * time.Hour), ToolVersion: "1.3.0"}
	entry := func(check, id string, oldS, newS model.Status) model.DiffEntry {
		return model.DiffEntry{Fingerprint: model.Fingerprint(check, "111111111111", "eu-west-1", id), CheckID: check,
			AccountID: "111111111111", AccountName: "prod", Region: "eu-west-1", Service: strings.SplitN(check, "-", 2)[0],
			ResourceID: id, OldStatus: oldS, NewStatus: newS, NewSeverity: model.SeverityHigh, Message: "changed by the fixture"}
	}
	return &model.Diff{
		SchemaVersion: 1,
		Context: model.DiffContext{Old: old, New: model.ScanRef{ID: scan.Scan.ID, StartedAt: scan.Scan.StartedAt, FinishedAt: scan.Scan.FinishedAt, ToolVersion: scan.Tool.Version},
			WindowSeconds: 86400, Warnings: []string{"thresholds differ: credentials.unused_days 30 -> 45"}},
		New:      []model.DiffEntry{entry("s3-bucket-public", unicodeBucket, "", model.StatusFail)},
		Resolved: []model.DiffEntry{entry("s3-bucket-public", "resolved-bucket-fixed", model.StatusFail, model.StatusPass)},
		Changed:  []model.DiffEntry{entry("ec2-sg-open-admin-port", "sg-legacy-0a1b2c3d", model.StatusFail, model.StatusMuted)},
		NotObserved: []model.DiffEntry{func() model.DiffEntry {
			e := entry("rds-instance-public", "db-gone", model.StatusFail, "")
			e.Reason = "coverage gap (AccessDenied)"
			return e
		}()},
		UnchangedCount: 1234,
		Controls: []model.DiffFramework{{Framework: "cis-aws-3.0.0", Changes: []model.ControlChange{
			{ControlID: "2.1.4", Title: "S3 Block Public Access on buckets", Old: model.ControlPass, New: model.ControlFail}},
			Transitions: map[model.ControlState]map[model.ControlState]int{model.ControlPass: {model.ControlFail: 1}}}},
	}
}
