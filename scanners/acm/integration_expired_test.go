package acm_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scantest"
	acmscanner "github.com/posture-dev/posture/scanners/acm"
)

// TestACMExpiredCertificateAgainstEmulator: ACM moves an expired certificate
// from ISSUED to EXPIRED, and the emulator does the same (it refuses to
// import an expired one, so this one is imported valid for a few seconds
// and left to expire). ListCertificates filters by status, so the scanner
// finds it only by asking for EXPIRED as well as ISSUED; it fails with
// severity high.
func TestACMExpiredCertificateAgainstEmulator(t *testing.T) {
	srv := emutest.Fresh(t)
	ctx := context.Background()
	c := acm.NewFromConfig(emutest.Config(t, srv.URL, "us-east-1"))
	notAfter := time.Now().Add(3 * time.Second).Truncate(time.Second)
	cert, key := selfSigned(t, "gone.example.com", notAfter)
	out, err := c.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	expired := acmscanner.CertificateID(aws.ToString(out.CertificateArn))
	certLater, keyLater := selfSigned(t, "later.example.com", time.Now().Add(365*day))
	out, err = c.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certLater, PrivateKey: keyLater})
	if err != nil {
		t.Fatal(err)
	}
	later := acmscanner.CertificateID(aws.ToString(out.CertificateArn))
	time.Sleep(time.Until(notAfter) + 500*time.Millisecond)

	// The emulator now reports it EXPIRED: an ISSUED-only listing misses it.
	issued, err := c.ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued}})
	if err != nil {
		t.Fatal(err)
	}
	if len(issued.CertificateSummaryList) != 1 {
		t.Fatalf("the emulator lists %d ISSUED certificates, want 1 (the expired one is EXPIRED)", len(issued.CertificateSummaryList))
	}

	scan := scantest.Scan(t, srv.URL, []string{"us-east-1"}, "acm-certificate-expiring")
	if gaps := scan.Gaps(); len(gaps) > 0 {
		t.Fatalf("coverage gaps: %+v", gaps)
	}
	k := func(id string) scantest.Key {
		return scantest.Key{Check: "acm-certificate-expiring", Region: "us-east-1", Resource: id}
	}
	scantest.ExpectExactly(t, scan, "acm-certificate-expiring", map[scantest.Key]model.Status{
		k(expired): model.StatusFail, k(later): model.StatusPass,
	}, nil)
	r := scantest.Find(t, scan, "acm-certificate-expiring", "us-east-1", expired)
	if r.Severity != model.SeverityHigh || r.Evidence["status"] != "EXPIRED" ||
		r.Message != "certificate for gone.example.com expired on "+notAfter.UTC().Format(time.DateOnly) {
		t.Errorf("expired certificate: %s %q %v", r.Severity, r.Message, r.Evidence)
	}
}
