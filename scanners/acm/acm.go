// Package acm collects the issued and expired ACM certificates of one
// region (their metadata only: never a private key) and holds the expiry
// check.
package acm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/paging"
)

// Inventory parts.
const (
	// PartCertificates is ListCertificates of the ISSUED and EXPIRED
	// certificates.
	PartCertificates = "certificates"
	// PartCertificateDetails is DescribeCertificate, called only for a
	// certificate whose summary lacks NotAfter.
	PartCertificateDetails = "certificate-details"
)

// Inventory is what the ACM scanner collects in one region.
type Inventory struct {
	AccountID    string        `json:"account_id"`
	Region       string        `json:"region"`
	Partition    string        `json:"partition"`
	Certificates []Certificate `json:"certificates"`
}

// Certificate is one ISSUED or EXPIRED certificate.
type Certificate struct {
	ARN        string `json:"arn"`
	DomainName string `json:"domain_name"`
	// Status is ISSUED or EXPIRED (ACM moves a certificate that has expired
	// to EXPIRED).
	Status   string     `json:"status,omitempty"`
	Type     string     `json:"type,omitempty"` // AMAZON_ISSUED, IMPORTED, PRIVATE
	InUse    bool       `json:"in_use"`
	NotAfter *time.Time `json:"not_after,omitempty"`
	// DetailError is set when NotAfter had to be read with DescribeCertificate
	// and that failed.
	DetailError string `json:"detail_error,omitempty"`
}

// API is the part of the ACM client the scanner uses: reads only (never
// ExportCertificate or GetCertificate).
type API interface {
	acm.ListCertificatesAPIClient
	DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, optFns ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
}

// Scanner returns the ACM scanner with its check.
func Scanner() check.Service[Inventory] {
	return check.Service[Inventory]{Name: "acm", Collect: Collect, List: Checks()}
}

// listedStatuses are the certificate statuses listed: ISSUED, and EXPIRED,
// where ACM moves a certificate once it has expired (an ISSUED-only listing
// never sees an expired certificate).
var listedStatuses = []types.CertificateStatus{types.CertificateStatusIssued, types.CertificateStatusExpired}

// Collect lists the region's ISSUED and EXPIRED certificates of every key
// type (by default ListCertificates returns RSA certificates only).
func Collect(ctx context.Context, scope check.Scope, gaps *check.Gaps) *Inventory {
	return collect(ctx, acm.NewFromConfig(scope.Config), scope, gaps)
}

func collect(ctx context.Context, api API, scope check.Scope, gaps *check.Gaps) *Inventory {
	inv := &Inventory{AccountID: scope.AccountID, Region: scope.Region, Partition: scope.Partition}
	if !scope.Wants(PartCertificates) {
		return inv
	}
	in := &acm.ListCertificatesInput{
		CertificateStatuses: listedStatuses,
		Includes:            &types.Filters{KeyTypes: types.KeyAlgorithm("").Values()},
	}
	listed, err := paging.All(ctx, acm.NewListCertificatesPaginator(api, in),
		func(page *acm.ListCertificatesOutput) []types.CertificateSummary { return page.CertificateSummaryList })
	if err != nil {
		gaps.Add(PartCertificates, "ListCertificates", "", err)
		return inv
	}
	for _, c := range listed {
		if c.Status != "" && !slices.Contains(listedStatuses, c.Status) {
			continue
		}
		inv.Certificates = append(inv.Certificates, Certificate{
			ARN: aws.ToString(c.CertificateArn), DomainName: aws.ToString(c.DomainName), Status: string(c.Status), Type: string(c.Type),
			InUse: aws.ToBool(c.InUse), NotAfter: check.UTC(c.NotAfter),
		})
	}
	fanout.Each(ctx, len(inv.Certificates), scope.CallConcurrency, func(ctx context.Context, i int) {
		c := &inv.Certificates[i]
		if c.NotAfter != nil || !scope.Wants(PartCertificateDetails) {
			return
		}
		out, err := api.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(c.ARN)})
		if err != nil {
			gaps.Add(PartCertificateDetails, "DescribeCertificate", c.ARN, err)
			c.DetailError = check.ErrorText(err)
			return
		}
		if out.Certificate != nil {
			c.NotAfter = check.UTC(out.Certificate.NotAfter)
		}
	})
	return inv
}

// CertificateID returns the certificate ID, the last part of its ARN
// (arn:aws:acm:REGION:ACCOUNT:certificate/ID), as the console shows it.
func CertificateID(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Checks returns the ACM checks.
func Checks() []check.Check[Inventory] {
	return []check.Check[Inventory]{
		{
			Meta: check.Meta{
				ID: "acm-certificate-expiring", Title: "ACM certificate has expired or expires soon",
				Family: model.FamilyCredentials, Service: "acm", Severity: model.SeverityHigh, ResourceType: "AWS::CertificateManager::Certificate",
				Rationale:   "An expired certificate breaks TLS for every client of the endpoint that serves it; imported certificates and certificates that fail validation are not renewed by ACM.",
				Remediation: "Renew or re-import the certificate before it expires, or fix the DNS or email validation that blocks ACM's managed renewal.",
				References: []string{
					"https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html",
					"https://docs.aws.amazon.com/securityhub/latest/userguide/acm-controls.html#acm-1",
				},
			},
			Needs:    []string{PartCertificates},
			Reads:    []string{PartCertificateDetails},
			EvalWith: expiringCheck,
		},
	}
}

// expiringCheck fails an expired certificate with severity high and one
// expiring within the warning window (inclusive) with severity medium.
func expiringCheck(inv *Inventory, p check.Params) []check.Finding {
	warn := p.Credentials.CertificateWarningDays
	var out []check.Finding
	for _, c := range inv.Certificates {
		id := CertificateID(c.ARN)
		evidence := map[string]any{"domain_name": c.DomainName, "type": c.Type, "in_use": c.InUse, "warning_days": warn, "source": "ListCertificates"}
		if c.Status != "" {
			evidence["status"] = c.Status
		}
		if c.NotAfter == nil {
			msg := fmt.Sprintf("certificate for %s has no expiry date", c.DomainName)
			if c.DetailError != "" {
				msg = fmt.Sprintf("cannot read the expiry of the certificate for %s: %s", c.DomainName, c.DetailError)
			}
			out = append(out, check.Error(id, c.ARN, msg, evidence))
			continue
		}
		evidence["not_after"] = c.NotAfter.Format(time.RFC3339)
		left := c.NotAfter.Sub(p.Now)
		days := int(left / (24 * time.Hour))
		evidence["days_left"] = days
		switch {
		case !c.NotAfter.After(p.Now) || c.Status == string(types.CertificateStatusExpired):
			f := check.Fail(id, c.ARN, fmt.Sprintf("certificate for %s expired on %s", c.DomainName, c.NotAfter.Format(time.DateOnly)), evidence)
			f.Severity = model.SeverityHigh
			out = append(out, f)
		case left <= time.Duration(warn)*24*time.Hour:
			f := check.Fail(id, c.ARN, fmt.Sprintf("certificate for %s expires on %s, in %d days (warning at %d)", c.DomainName, c.NotAfter.Format(time.DateOnly), days, warn), evidence)
			f.Severity = model.SeverityMedium
			out = append(out, f)
		default:
			out = append(out, check.Pass(id, c.ARN, fmt.Sprintf("certificate for %s expires on %s, in %d days", c.DomainName, c.NotAfter.Format(time.DateOnly), days), evidence))
		}
	}
	return out
}
