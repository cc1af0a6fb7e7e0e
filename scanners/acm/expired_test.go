package acm

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// recordingAPI answers ListCertificates from a fixed list, filtered by the
// requested statuses as ACM does, and records each request.
type recordingAPI struct {
	certs    []types.CertificateSummary
	requests []*acm.ListCertificatesInput
}

func (r *recordingAPI) ListCertificates(_ context.Context, in *acm.ListCertificatesInput, _ ...func(*acm.Options)) (*acm.ListCertificatesOutput, error) {
	r.requests = append(r.requests, in)
	out := &acm.ListCertificatesOutput{}
	for _, c := range r.certs {
		for _, s := range in.CertificateStatuses {
			if c.Status == s {
				out.CertificateSummaryList = append(out.CertificateSummaryList, c)
			}
		}
	}
	return out, nil
}

func (r *recordingAPI) DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error) {
	panic("not called: every summary has NotAfter")
}

// TestCollectListsExpiredCertificates: the list call asks for ISSUED and
// EXPIRED certificates (ACM moves an expired certificate to EXPIRED), and
// keeps each one's status.
func TestCollectListsExpiredCertificates(t *testing.T) {
	past, future := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	api := &recordingAPI{certs: []types.CertificateSummary{
		{CertificateArn: aws.String("arn:aws:acm:us-east-1:111122223333:certificate/old"), DomainName: aws.String("old.example.com"), Status: types.CertificateStatusExpired, NotAfter: &past},
		{CertificateArn: aws.String("arn:aws:acm:us-east-1:111122223333:certificate/new"), DomainName: aws.String("new.example.com"), Status: types.CertificateStatusIssued, NotAfter: &future},
		{CertificateArn: aws.String("arn:aws:acm:us-east-1:111122223333:certificate/revoked"), DomainName: aws.String("revoked.example.com"), Status: types.CertificateStatusRevoked, NotAfter: &future},
	}}
	inv := collect(context.Background(), api, check.Scope{AccountID: "111122223333", Region: "us-east-1", Partition: "aws"}, &check.Gaps{})
	if len(api.requests) != 1 || !reflect.DeepEqual(api.requests[0].CertificateStatuses, []types.CertificateStatus{types.CertificateStatusIssued, types.CertificateStatusExpired}) {
		t.Fatalf("ListCertificates requests: %+v", api.requests)
	}
	var got []string
	for _, c := range inv.Certificates {
		got = append(got, CertificateID(c.ARN)+" "+c.Status)
	}
	if want := []string{"old EXPIRED", "new ISSUED"}; !reflect.DeepEqual(got, want) {
		t.Errorf("certificates %v, want %v", got, want)
	}
}

// TestExpiredCertificateIsHigh: an EXPIRED certificate fails with severity
// high and its status in the evidence.
func TestExpiredCertificateIsHigh(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	notAfter := now.Add(-40 * 24 * time.Hour)
	inv := &Inventory{Certificates: []Certificate{{ARN: "arn:aws:acm:us-east-1:111122223333:certificate/old", DomainName: "old.example.com",
		Status: "EXPIRED", Type: "IMPORTED", NotAfter: &notAfter}}}
	c, _ := check.Lookup(Checks(), "acm-certificate-expiring")
	f := c.Evaluate(inv, check.DefaultParams(now))
	if len(f) != 1 || f[0].Status != model.StatusFail || f[0].Severity != model.SeverityHigh || f[0].Evidence["status"] != "EXPIRED" ||
		f[0].Message != "certificate for old.example.com expired on 2026-04-22" || f[0].Evidence["days_left"] != -40 {
		t.Errorf("findings %+v", f)
	}
}
