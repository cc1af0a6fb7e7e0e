package scanners

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// catalogue is DESIGN.md section 4: the v1 checks this build implements, by
// family, with their default severities.
var catalogue = map[model.Family]map[string]model.Severity{
	model.FamilyPublicExposure: {
		"ec2-sg-open-admin-port":             model.SeverityCritical,
		"ec2-sg-open-database-port":          model.SeverityHigh,
		"ec2-sg-open-all-ports":              model.SeverityCritical,
		"ec2-sg-default-not-restricted":      model.SeverityMedium,
		"ec2-nacl-open-admin-port":           model.SeverityMedium,
		"ec2-instance-internet-exposed":      model.SeverityCritical,
		"rds-instance-public":                model.SeverityHigh,
		"redshift-cluster-public":            model.SeverityHigh,
		"s3-bucket-public":                   model.SeverityHigh,
		"s3-account-public-access-block-off": model.SeverityMedium,
		"ec2-snapshot-public":                model.SeverityCritical,
		"rds-snapshot-public":                model.SeverityCritical,
	},
	model.FamilyOutsideVPC: {
		"ec2-instance-outside-vpc":        model.SeverityHigh,
		"ec2-instance-in-default-vpc":     model.SeverityLow,
		"rds-instance-outside-vpc":        model.SeverityHigh,
		"elasticache-cluster-outside-vpc": model.SeverityMedium,
		"lambda-function-outside-vpc":     model.SeverityLow,
		"redshift-cluster-outside-vpc":    model.SeverityMedium,
	},
	model.FamilyUnencrypted: {
		"ec2-ebs-volume-unencrypted":                model.SeverityHigh,
		"ec2-ebs-default-encryption-off":            model.SeverityMedium,
		"ec2-ebs-snapshot-unencrypted":              model.SeverityMedium,
		"s3-bucket-unencrypted":                     model.SeverityHigh,
		"s3-bucket-tls-not-enforced":                model.SeverityMedium,
		"efs-filesystem-unencrypted":                model.SeverityHigh,
		"dynamodb-table-default-key":                model.SeverityLow,
		"sqs-queue-unencrypted":                     model.SeverityMedium,
		"sns-topic-unencrypted":                     model.SeverityMedium,
		"cloudtrail-trail-not-kms-encrypted":        model.SeverityMedium,
		"kinesis-stream-unencrypted":                model.SeverityMedium,
		"rds-instance-unencrypted":                  model.SeverityHigh,
		"rds-cluster-unencrypted":                   model.SeverityHigh,
		"rds-snapshot-unencrypted":                  model.SeverityMedium,
		"redshift-cluster-unencrypted":              model.SeverityHigh,
		"elasticache-replication-group-unencrypted": model.SeverityMedium,
	},
	model.FamilyCredentials: {
		"iam-access-key-unrotated":         model.SeverityMedium,
		"iam-credential-unused":            model.SeverityMedium,
		"iam-user-console-without-mfa":     model.SeverityHigh,
		"iam-user-multiple-active-keys":    model.SeverityLow,
		"iam-root-access-key-present":      model.SeverityCritical,
		"iam-root-mfa-disabled":            model.SeverityCritical,
		"iam-password-policy-weak":         model.SeverityMedium,
		"kms-key-rotation-disabled":        model.SeverityMedium,
		"secretsmanager-rotation-disabled": model.SeverityMedium,
		"secretsmanager-secret-unrotated":  model.SeverityMedium,
		"acm-certificate-expiring":         model.SeverityHigh,
		"iam-server-certificate-expired":   model.SeverityHigh,
	},
}

func TestRegistryValidatesWithExactlyTheCatalogue(t *testing.T) {
	metas := Catalogue(All())
	if err := check.Validate(metas); err != nil {
		t.Fatalf("the registry's checks do not validate:\n%v", err)
	}
	var got, want []string
	for _, m := range metas {
		got = append(got, m.ID)
	}
	severity, family := map[string]model.Severity{}, map[string]model.Family{}
	for _, fam := range []model.Family{model.FamilyPublicExposure, model.FamilyOutsideVPC, model.FamilyUnencrypted, model.FamilyCredentials} {
		var ids []string
		for id, sev := range catalogue[fam] {
			ids = append(ids, id)
			severity[id], family[id] = sev, fam
		}
		sort.Strings(ids)
		want = append(want, ids...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("check IDs =\n%v\nwant\n%v", got, want)
	}
	for _, m := range metas {
		if m.Severity != severity[m.ID] {
			t.Errorf("%s: severity %s, DESIGN.md says %s", m.ID, m.Severity, severity[m.ID])
		}
		if m.Family != family[m.ID] {
			t.Errorf("%s: family %s, DESIGN.md says %s", m.ID, m.Family, family[m.ID])
		}
		if !strings.HasPrefix(m.ResourceType, "AWS::") {
			t.Errorf("%s: resource type %q is not a CloudFormation type", m.ID, m.ResourceType)
		}
		for _, ref := range m.References {
			if !strings.HasPrefix(ref, "https://") {
				t.Errorf("%s: reference %q is not an https URL", m.ID, ref)
			}
		}
	}
}

func TestAllScanners(t *testing.T) {
	services := map[string]bool{}
	for _, s := range All() {
		if services[s.Service()] {
			t.Errorf("service %s registered twice", s.Service())
		}
		services[s.Service()] = true
		if want := s.Service() == "s3" || s.Service() == "iam"; s.Global() != want {
			t.Errorf("%s: Global() = %v, want %v", s.Service(), s.Global(), want)
		}
		if v, ok := s.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				t.Errorf("%s: %v", s.Service(), err)
			}
		}
		for _, m := range s.Checks() {
			if m.Service != s.Service() {
				t.Errorf("check %s has service %s but is in scanner %s", m.ID, m.Service, s.Service())
			}
		}
	}
	if !reflect.DeepEqual(services, map[string]bool{
		"cloudtrail":  true,
		"dynamodb":    true,
		"ec2":         true,
		"efs":         true,
		"elasticache": true,
		"kinesis":     true,
		"lambda":      true,
		"rds":         true,
		"redshift":    true,
		"s3":          true,
		"sns":         true,
		"sqs":         true,

		"acm":            true,
		"iam":            true,
		"kms":            true,
		"secretsmanager": true,
	}) {
		t.Errorf("services = %v", services)
	}
	// Two calls build independent, equal lists: nothing registers itself.
	if a, b := Catalogue(All()), Catalogue(All()); !reflect.DeepEqual(a, b) {
		t.Error("Catalogue(All()) is not stable")
	}
}

func TestCatalogueOrder(t *testing.T) {
	metas := []check.Meta{
		{ID: "z-cred", Family: model.FamilyCredentials},
		{ID: "b-enc", Family: model.FamilyUnencrypted},
		{ID: "a-enc", Family: model.FamilyUnencrypted},
		{ID: "y-pub", Family: model.FamilyPublicExposure},
		{ID: "c-vpc", Family: model.FamilyOutsideVPC},
		{ID: "a-odd", Family: "other"},
	}
	fake := fakeScanner{metas: metas}
	var got []string
	for _, m := range Catalogue([]check.Scanner{fake}) {
		got = append(got, m.ID)
	}
	want := []string{"y-pub", "c-vpc", "a-enc", "b-enc", "z-cred", "a-odd"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

type fakeScanner struct {
	check.Scanner
	metas []check.Meta
}

func (f fakeScanner) Checks() []check.Meta { return f.metas }

func TestSelect(t *testing.T) {
	cat := Catalogue(All())
	all := make([]string, len(cat))
	for i, m := range cat {
		all[i] = m.ID
	}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
		wantErr          string
	}{
		{name: "nothing given: everything", want: all},
		{name: "include", include: []string{"s3-bucket-public", "ec2-sg-open-admin-port"}, want: []string{"ec2-sg-open-admin-port", "s3-bucket-public"}},
		{name: "exclude", exclude: []string{"ec2-instance-internet-exposed"}, want: all[1:]},
		{name: "include and exclude", include: []string{"s3-bucket-public", "rds-instance-public"}, exclude: []string{"rds-instance-public"}, want: []string{"s3-bucket-public"}},
		{name: "unknown include", include: []string{"s3-bucket-public", "s3-bucket-pubic"}, wantErr: "unknown check ID(s): s3-bucket-pubic"},
		{name: "unknown exclude", exclude: []string{"nope"}, wantErr: "unknown check ID(s): nope"},
		{name: "everything excluded", include: []string{"s3-bucket-public"}, exclude: []string{"s3-bucket-public"}, wantErr: "no check selected"},
	}
	if all[0] != "ec2-instance-internet-exposed" {
		t.Fatalf("catalogue starts with %s", all[0])
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(cat, tt.include, tt.exclude)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Select error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select = %v, want %v", got, tt.want)
			}
		})
	}
}
