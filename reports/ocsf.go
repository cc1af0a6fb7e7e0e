package reports

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// OCSFVersion is the OCSF schema version findings.ocsf.json follows: the
// Compliance Finding class as of 1.3.0, the version that added its
// `resources` array (and deprecated the single `resource`).
const OCSFVersion = "1.3.0"

// The OCSF identifiers of a Compliance Finding's creation.
const (
	ocsfCategoryFindings  = 2    // category_uid: Findings
	ocsfClassCompliance   = 2003 // class_uid: Compliance Finding
	ocsfActivityCreate    = 1    // activity_id: Create
	ocsfTypeComplianceNew = ocsfClassCompliance*100 + ocsfActivityCreate
)

// The OCSF finding status_id values used (the finding's triage state).
const (
	ocsfStatusNew        = 1
	ocsfStatusSuppressed = 3
)

// The OCSF compliance.status_id values: the outcome of the check.
const (
	ocsfCompliancePass    = 1 // passed for the evaluated resource
	ocsfComplianceWarning = 2 // no result, for lack of information
	ocsfComplianceFail    = 3 // failed
)

// OCSF writes findings.ocsf.json: one OCSF Compliance Finding (class 2003)
// per result, as a JSON array, for Security Hub, Security Lake or a SIEM.
type OCSF struct{}

// Format implements Writer.
func (OCSF) Format() string { return "ocsf" }

// FileName is the file the format is written to.
func (OCSF) FileName() string { return "findings.ocsf.json" }

// Files implements Writer.
func (f OCSF) Files(in Input) []File {
	return []File{{Name: f.FileName(), Render: func(w io.Writer) error { return f.Write(w, in.Scan) }}}
}

// OCSFFinding is one Compliance Finding event.
type OCSFFinding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	// Time is the scan's finish, milliseconds since the epoch.
	Time       int64  `json:"time"`
	SeverityID int    `json:"severity_id"`
	Severity   string `json:"severity"`
	// StatusID is the finding's triage state: New (1), or Suppressed (3)
	// for a result MUTED by a waiver.
	StatusID    int              `json:"status_id"`
	Status      string           `json:"status"`
	Message     string           `json:"message,omitempty"`
	Metadata    OCSFMetadata     `json:"metadata"`
	FindingInfo OCSFFindingInfo  `json:"finding_info"`
	Compliance  OCSFCompliance   `json:"compliance"`
	Cloud       OCSFCloud        `json:"cloud"`
	Resources   []OCSFResource   `json:"resources,omitempty"`
	Remediation *OCSFRemediation `json:"remediation,omitempty"`
	Unmapped    map[string]any   `json:"unmapped,omitempty"`
}

// OCSFMetadata is the event's metadata object.
type OCSFMetadata struct {
	Version  string      `json:"version"`
	Product  OCSFProduct `json:"product"`
	Profiles []string    `json:"profiles"`
	// UID identifies this event: the scan ID and the finding's fingerprint
	// (the same finding in another scan is another event).
	UID string `json:"uid"`
	// CorrelationUID is the scan ID, shared by every event of a scan.
	CorrelationUID string `json:"correlation_uid"`
	LogName        string `json:"log_name"`
}

// OCSFProduct names the tool.
type OCSFProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

// OCSFFindingInfo is the finding_info object.
type OCSFFindingInfo struct {
	// UID is the result's fingerprint: the same finding across scans.
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Desc  string   `json:"desc"`
	Types []string `json:"types"`
	// FirstSeenTime is when the finding was first observed, epoch ms.
	FirstSeenTime int64 `json:"first_seen_time,omitempty"`
}

// OCSFCompliance is the compliance object.
type OCSFCompliance struct {
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	StatusDetail string `json:"status_detail,omitempty"`
	// Control is the check ID.
	Control string `json:"control"`
	// Standards are the frameworks whose controls the check evidences.
	Standards []string `json:"standards"`
	// Requirements are those controls, "<framework>:<control>".
	Requirements []string `json:"requirements"`
}

// OCSFCloud is the cloud object.
type OCSFCloud struct {
	Provider string      `json:"provider"`
	Account  OCSFAccount `json:"account"`
	Region   string      `json:"region"`
}

// OCSFAccount is the AWS account of a finding.
type OCSFAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

// OCSFResource is one resource_details object.
type OCSFResource struct {
	// UID is the ARN, or the resource ID when there is no ARN.
	UID    string `json:"uid"`
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	Region string `json:"region"`
}

// OCSFRemediation is the remediation object.
type OCSFRemediation struct {
	Desc string `json:"desc"`
}

var ocsfSeverity = map[model.Severity]string{
	model.SeverityCritical: "Critical", model.SeverityHigh: "High", model.SeverityMedium: "Medium",
	model.SeverityLow: "Low", model.SeverityInfo: "Informational",
}

// OCSFFindings maps every result of a scan to a Compliance Finding, in the
// scan's order.
func OCSFFindings(scan *model.Scan) []OCSFFinding {
	catalogue := map[string]model.CheckInfo{}
	for _, c := range scan.Catalogue {
		catalogue[c.ID] = c
	}
	when := scan.Scan.FinishedAt.UnixMilli()
	out := make([]OCSFFinding, 0, len(scan.Results))
	for _, r := range scan.Results {
		info, known := catalogue[r.CheckID]
		title := info.Title
		if !known {
			title = r.CheckID
		}
		f := OCSFFinding{
			ActivityID: ocsfActivityCreate, ActivityName: "Create",
			CategoryUID: ocsfCategoryFindings, CategoryName: "Findings",
			ClassUID: ocsfClassCompliance, ClassName: "Compliance Finding",
			TypeUID: ocsfTypeComplianceNew, TypeName: "Compliance Finding: Create",
			Time:       when,
			SeverityID: r.Severity.Rank(), Severity: ocsfSeverity[r.Severity],
			StatusID: ocsfStatusNew, Status: "New",
			Message: r.Message,
			Metadata: OCSFMetadata{
				Version:        OCSFVersion,
				Product:        OCSFProduct{Name: scan.Tool.Name, VendorName: "posture-dev", Version: scan.Tool.Version},
				Profiles:       []string{"cloud"},
				UID:            scan.Scan.ID + "/" + r.Fingerprint,
				CorrelationUID: scan.Scan.ID,
				LogName:        "posture-scan",
			},
			FindingInfo: OCSFFindingInfo{UID: r.Fingerprint, Title: title, Desc: r.Message, Types: []string{string(r.Family)}},
			Compliance:  OCSFCompliance{Control: r.CheckID, Standards: []string{}, Requirements: []string{}},
			Cloud: OCSFCloud{Provider: "AWS", Region: r.Region,
				Account: OCSFAccount{UID: r.AccountID, Name: accountName(scan, r), Type: "AWS Account", TypeID: 10}},
			Unmapped: map[string]any{"evidence": r.Evidence, "service": r.Service, "scan_id": scan.Scan.ID},
		}
		if r.FirstSeen != nil {
			f.FindingInfo.FirstSeenTime = r.FirstSeen.UnixMilli()
		}
		switch r.Status {
		case model.StatusPass:
			f.Compliance.StatusID, f.Compliance.Status = ocsfCompliancePass, "Pass"
		case model.StatusFail:
			f.Compliance.StatusID, f.Compliance.Status = ocsfComplianceFail, "Fail"
		case model.StatusMuted:
			f.Compliance.StatusID, f.Compliance.Status = ocsfComplianceFail, "Fail"
			f.Compliance.StatusDetail = "waived by " + r.WaiverID
			f.StatusID, f.Status = ocsfStatusSuppressed, "Suppressed"
			f.Unmapped["waiver_id"] = r.WaiverID
		default: // ERROR: the check could not be evaluated
			f.Compliance.StatusID, f.Compliance.Status = ocsfComplianceWarning, "Warning"
			f.Compliance.StatusDetail = r.Message
		}
		seen := map[string]bool{}
		for _, c := range r.Controls {
			f.Compliance.Requirements = append(f.Compliance.Requirements, c)
			if fw, _, ok := strings.Cut(c, ":"); ok && !seen[fw] {
				seen[fw] = true
				f.Compliance.Standards = append(f.Compliance.Standards, fw)
			}
		}
		if r.ResourceID != "" { // an ERROR of a whole scope has no resource
			uid := r.ResourceARN
			if uid == "" {
				uid = r.ResourceID
			}
			f.Resources = []OCSFResource{{UID: uid, Name: r.ResourceID, Type: r.ResourceType, Region: r.Region}}
		}
		if info.Remediation != "" {
			f.Remediation = &OCSFRemediation{Desc: info.Remediation}
		}
		out = append(out, f)
	}
	return out
}

// accountName is the account's name in Organizations, when known.
func accountName(scan *model.Scan, r model.Result) string {
	if r.AccountName != "" {
		return r.AccountName
	}
	return scan.Scan.AccountNames[r.AccountID]
}

// Write implements Writer: an indented JSON array, results in the scan's
// order.
func (OCSF) Write(w io.Writer, scan *model.Scan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(OCSFFindings(scan))
}
