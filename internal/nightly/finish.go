package nightly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/posture-dev/posture/controls"
	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/internal/signing"
	"github.com/posture-dev/posture/reports"
	scandiff "github.com/posture-dev/posture/reports/diff"
	"github.com/posture-dev/posture/scanners"
)

// Descriptor is index/<scan-id>.json and latest.json: one run, as the next
// run's baseline lookup and manifest chain read it.
type Descriptor struct {
	ScanID     string    `json:"scan_id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Cancelled runs stopped before their deadline; they are never a
	// baseline.
	Cancelled bool `json:"cancelled"`
	// Complete is true when the run was not cancelled and every planned
	// account's result arrived (no PartialMissing gap). Gaps the engine
	// recorded (a denied role, a denied service) do not make a run
	// incomplete: they are findings about access, and a later run is
	// compared with them as not observed.
	Complete bool `json:"complete"`
	// Scope is Settings.Scope of the run's request.
	Scope string `json:"scope"`
	// ManifestSHA256 is the SHA-256 of the package's manifest.json, which
	// the next run's manifest chains to.
	ManifestSHA256 string `json:"manifest_sha256"`
	// Package is the package folder's s3:// URI; ScanKey the key of its
	// scan.json.
	Package string `json:"package"`
	ScanKey string `json:"scan_key"`
}

// Summary is the output of a single run and of assemble, and what the SNS
// message says.
type Summary struct {
	ScanID  string `json:"scan_id"`
	Package string `json:"package"`
	Counts  Counts `json:"counts"`
	// SeverityFailed counts the FAIL results by severity.
	SeverityFailed map[string]int `json:"severity_failed"`
	// NewCriticalHigh are the new FAILs of critical or high severity, and
	// findings that newly FAIL at those severities, since the baseline (at
	// most MaxNewInSummary; NewCriticalHighTotal counts them all).
	NewCriticalHigh      []NewFinding `json:"new_critical_high"`
	NewCriticalHighTotal int          `json:"new_critical_high_total"`
	// Gaps counts the coverage gaps.
	Gaps int `json:"gaps"`
	// Baseline is the scan ID the run was compared with; empty without one.
	Baseline string    `json:"baseline"`
	Diff     DiffCount `json:"diff"`
	// Cancelled and Complete are the run's descriptor's.
	Cancelled bool `json:"cancelled"`
	Complete  bool `json:"complete"`
	// NotifyError says why the SNS summary could not be published (the
	// package and latest.json are written all the same).
	NotifyError string `json:"notify_error,omitempty"`
}

// MaxNewInSummary bounds Summary.NewCriticalHigh (a Step Functions state's
// output is at most 256 KiB).
const MaxNewInSummary = 100

// Counts are the results by status.
type Counts struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Muted int `json:"muted"`
}

// DiffCount counts the diff's categories; all zero without a baseline.
type DiffCount struct {
	New         int `json:"new"`
	Resolved    int `json:"resolved"`
	Changed     int `json:"changed"`
	NotObserved int `json:"not_observed"`
}

// NewFinding is one new critical or high finding.
type NewFinding struct {
	CheckID    string `json:"check_id"`
	AccountID  string `json:"account_id"`
	Region     string `json:"region"`
	ResourceID string `json:"resource_id"`
	Severity   string `json:"severity"`
}

// finishInput is an evaluated scan and what its package records.
type finishInput struct {
	scan       *model.Scan
	config     loadedConfig
	regions    []string
	frameworks []string
	scope      string
	complete   bool
	invocation string
	signer     reports.Signer
	// principal is recorded as the caller; empty uses the invocation's.
	principal string
}

// finish is the end of every run, single or fanned out: baseline, manifest
// chain, the package (scanrun.Package, as the CLI writes it) uploaded to
// runs/<id>/, then index/<id>.json, then latest.json (moved last, once every
// package object is written), then the SNS summary.
func (e *env) finish(ctx context.Context, in finishInput) (*Summary, error) {
	scan := in.scan
	id := scan.Scan.ID
	builtin, err := controls.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in frameworks: %w", err)
	}
	frameworks, err := controls.Select(builtin, in.frameworks)
	if err != nil {
		return nil, &SettingError{Variable: EnvFrameworks, Err: err}
	}
	baseline := e.findBaseline(ctx, id, in.scope)
	previous := e.previousManifest(ctx)
	writers, err := reports.ParseFormats(nil)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(os.TempDir(), "posture-"+id+"-")
	if err != nil {
		return nil, fmt.Errorf("package folder: %w", err)
	}
	defer os.RemoveAll(dir)
	pkgDir := filepath.Join(dir, id)
	principal := e.caller
	if in.principal != "" {
		principal = awsenv.Caller{ARN: in.principal}
	}
	outcome, err := scanrun.Package(ctx, scan, pkgDir, scanrun.Evidence{
		Waivers:    in.config.Config.Waivers,
		Frameworks: frameworks,
		Run: scanrun.Description{
			Caller:       principal,
			Invocation:   in.invocation,
			Regions:      in.regions,
			ConfigFile:   in.config.File,
			ConfigSHA256: in.config.SHA256,
			Catalogue:    scanners.Catalogue(scanners.All()),
		},
		Baseline:               baseline,
		Writers:                writers,
		Signer:                 in.signer,
		PreviousManifestSHA256: previous,
	})
	if err != nil {
		return nil, fmt.Errorf("write the package: %w", err)
	}
	runKey := e.key("runs/" + id + "/")
	entries, err := os.ReadDir(pkgDir)
	if err != nil {
		return nil, fmt.Errorf("package folder: %w", err)
	}
	// The reports first, the manifest, SHA256SUMS and the signature last:
	// a package whose upload stopped half-way has no manifest, and reads
	// as incomplete rather than as altered.
	sort.SliceStable(entries, func(i, j int) bool { return !isControlFile(entries[i].Name()) && isControlFile(entries[j].Name()) })
	for _, f := range entries {
		if err := e.store.PutFile(ctx, runKey+f.Name(), filepath.Join(pkgDir, f.Name()), contentType(f.Name())); err != nil {
			return nil, fmt.Errorf("upload the package: %w", err)
		}
	}
	desc := Descriptor{
		ScanID: id, StartedAt: scan.Scan.StartedAt, FinishedAt: scan.Scan.FinishedAt,
		Cancelled: scan.Scan.Cancelled, Complete: in.complete, Scope: in.scope,
		ManifestSHA256: outcome.ManifestSHA256, Package: e.store.URI(runKey), ScanKey: runKey + "scan.json",
	}
	if err := putJSON(ctx, e.store, e.key("index/"+id+".json"), desc); err != nil {
		return nil, err
	}
	if err := putJSON(ctx, e.store, e.key("latest.json"), desc); err != nil {
		return nil, err
	}
	summary := Summarise(scan, outcome.Diff, desc)
	e.logger.Info("run written", "scan_id", id, "package", desc.Package, "files", len(entries), "manifest_sha256", desc.ManifestSHA256,
		"previous_manifest_sha256", previous, "baseline", summary.Baseline, "fail", summary.Counts.Fail, "gaps", summary.Gaps,
		"new", summary.Diff.New, "resolved", summary.Diff.Resolved, "cancelled", desc.Cancelled)
	if e.s.TopicARN != "" {
		subject, message := Message(summary, scan, outcome.Diff)
		_, err := notifier(e.cfg, e.s.TopicARN).Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(e.s.TopicARN), Subject: aws.String(subject), Message: aws.String(message)})
		if err != nil {
			// Not an invocation error: a failed invocation would be run
			// again by its scheduler, scanning everything a second time,
			// while the package and latest.json are already written.
			e.logger.Error("the package is written, but the SNS summary could not be published", "topic", e.s.TopicARN, "error", err)
			summary.NotifyError = err.Error()
		}
	}
	return summary, nil
}

// isControlFile reports whether name is one of the package's integrity
// files (manifest.json, SHA256SUMS, manifest.sig).
func isControlFile(name string) bool {
	return name == reports.ManifestName || name == reports.SumsName || name == reports.SignatureName
}

// findBaseline returns the newest earlier run of the same scope that was
// not cancelled (index/, newest first), or nil. A baseline that cannot be
// read is logged and the run goes on without a diff.
func (e *env) findBaseline(ctx context.Context, current, scope string) *model.Scan {
	prefix := e.key("index/")
	keys, err := e.store.List(ctx, prefix)
	if err != nil {
		e.logger.Error("cannot list earlier runs; the run goes on without a baseline", "error", err)
		return nil
	}
	var ids []string
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json")
		if scanIDShape.MatchString(id) && id < current {
			ids = append(ids, id)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	for _, id := range ids {
		data, err := e.store.Get(ctx, prefix+id+".json")
		if err != nil {
			e.logger.Warn("index entry unreadable; skipped", "scan_id", id, "error", err)
			continue
		}
		var d Descriptor
		if err := json.Unmarshal(data, &d); err != nil || d.ScanID != id {
			e.logger.Warn("index entry corrupt; skipped", "scan_id", id, "error", err)
			continue
		}
		if d.Cancelled || d.Scope != scope {
			e.logger.Debug("not a baseline", "scan_id", id, "cancelled", d.Cancelled, "same_scope", d.Scope == scope)
			continue
		}
		key := e.key("runs/" + id + "/scan.json")
		data, err = e.store.Get(ctx, key)
		if err == nil {
			var scan *model.Scan
			if scan, err = reports.DecodeScanLenient(data); err == nil {
				e.logger.Info("baseline", "scan_id", id, "finished_at", scan.Scan.FinishedAt)
				return scan
			}
		}
		e.logger.Error("the baseline's scan.json cannot be read; the run goes on without a diff", "baseline", id, "key", key, "error", err)
		return nil
	}
	e.logger.Info("no earlier run of the same scope: no baseline, no diff")
	return nil
}

// previousManifest returns latest.json's manifest_sha256, the link of the
// manifest chain, whatever that run's outcome; "" starts the chain.
func (e *env) previousManifest(ctx context.Context) string {
	data, err := e.store.Get(ctx, e.key("latest.json"))
	if errors.Is(err, ErrNotFound) {
		e.logger.Info("no latest.json: this run starts the manifest chain")
		return ""
	}
	if err != nil {
		e.logger.Error("latest.json unreadable: this run starts a new manifest chain", "error", err)
		return ""
	}
	var d Descriptor
	if err := json.Unmarshal(data, &d); err != nil || len(d.ManifestSHA256) != 64 {
		e.logger.Error("latest.json corrupt: this run starts a new manifest chain", "error", err)
		return ""
	}
	return d.ManifestSHA256
}

// Summarise counts a finished run for its output and message.
func Summarise(scan *model.Scan, d *model.Diff, desc Descriptor) *Summary {
	s := &Summary{
		ScanID: scan.Scan.ID, Package: desc.Package, SeverityFailed: map[string]int{},
		NewCriticalHigh: []NewFinding{}, Gaps: len(scan.Gaps()), Cancelled: desc.Cancelled, Complete: desc.Complete,
	}
	for _, sev := range model.Severities() {
		s.SeverityFailed[string(sev)] = 0
	}
	for _, r := range scan.Results {
		switch r.Status {
		case model.StatusPass:
			s.Counts.Pass++
		case model.StatusFail:
			s.Counts.Fail++
			s.SeverityFailed[string(r.Severity)]++
		case model.StatusError:
			s.Counts.Error++
		case model.StatusMuted:
			s.Counts.Muted++
		}
	}
	if d != nil {
		s.Baseline = d.Context.Old.ID
		s.Diff = DiffCount{New: len(d.New), Resolved: len(d.Resolved), Changed: len(d.Changed), NotObserved: len(d.NotObserved)}
		hits := scandiff.NewFailures(d, model.SeverityHigh)
		s.NewCriticalHighTotal = len(hits)
		for i, h := range hits {
			if i == MaxNewInSummary {
				break
			}
			s.NewCriticalHigh = append(s.NewCriticalHigh, NewFinding{CheckID: h.CheckID, AccountID: h.AccountID,
				Region: h.Region, ResourceID: h.ResourceID, Severity: string(h.NewSeverity)})
		}
	}
	return s
}

// Message renders the SNS summary: a subject (ASCII, at most 100
// characters, as SNS requires) and a short plain-text body.
func Message(s *Summary, scan *model.Scan, d *model.Diff) (subject, body string) {
	state := "complete"
	switch {
	case s.Cancelled:
		state = "CANCELLED"
	case s.Gaps > 0:
		state = fmt.Sprintf("%d gaps", s.Gaps)
	}
	subject = fmt.Sprintf("posture %s: %d new critical/high, %d FAIL, %s", s.ScanID, s.NewCriticalHighTotal, s.Counts.Fail, state)
	subject = asciiLine(subject, 100)

	var b strings.Builder
	fmt.Fprintf(&b, "posture nightly scan %s (%s)\n", s.ScanID, strings.ToLower(state))
	fmt.Fprintf(&b, "Scanned %s to %s: %d account(s)\n", stamp(scan.Scan.StartedAt), stamp(scan.Scan.FinishedAt), len(scan.Scan.Accounts))
	fmt.Fprintf(&b, "Package: %s\n", s.Package)
	if d != nil {
		fmt.Fprintf(&b, "Compared with: %s (finished %s, %s earlier)\n", d.Context.Old.ID, stamp(d.Context.Old.FinishedAt), scandiff.Window(d.Context.WindowSeconds))
	} else {
		b.WriteString("Compared with: nothing (no earlier complete run of the same scope): no diff\n")
	}
	fmt.Fprintf(&b, "\nResults: %d PASS, %d FAIL, %d ERROR, %d MUTED\n", s.Counts.Pass, s.Counts.Fail, s.Counts.Error, s.Counts.Muted)
	var sev []string
	for _, v := range model.Severities() {
		sev = append(sev, fmt.Sprintf("%s %d", v, s.SeverityFailed[string(v)]))
	}
	fmt.Fprintf(&b, "FAIL by severity: %s\n", strings.Join(sev, ", "))
	if d != nil {
		fmt.Fprintf(&b, "Since the baseline: %d new, %d resolved, %d changed, %d not observed, %d unchanged\n",
			s.Diff.New, s.Diff.Resolved, s.Diff.Changed, s.Diff.NotObserved, d.UnchangedCount)
		fmt.Fprintf(&b, "\nNew critical/high findings: %d\n", s.NewCriticalHighTotal)
		hits := scandiff.NewFailures(d, model.SeverityHigh)
		for i, h := range hits {
			if i == 20 {
				fmt.Fprintf(&b, "  and %d more (see diff.json)\n", len(hits)-20)
				break
			}
			fmt.Fprintf(&b, "  - %s %s %s %s %s\n", strings.ToUpper(string(h.NewSeverity)), h.CheckID, h.AccountID, h.Region, orDash(h.ResourceID))
		}
	}
	gaps := scan.Gaps()
	fmt.Fprintf(&b, "\nCoverage gaps: %d\n", len(gaps))
	for i, g := range gaps {
		if i == 10 {
			fmt.Fprintf(&b, "  and %d more (see coverage in scan.json)\n", len(gaps)-10)
			break
		}
		code := ""
		if len(g.Failures) > 0 {
			code = g.Failures[0].Code
		}
		fmt.Fprintf(&b, "  - %s %s %s: %s\n", g.AccountID, g.Region, g.Service, orDash(code))
	}
	b.WriteString("\nRead the changes in diff.json and the report-*.pdf \"Changes since the baseline\" section of the package.\n")
	return subject, b.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// asciiLine keeps the printable ASCII characters of s, at most n of them.
func asciiLine(s string, n int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return strings.TrimSpace(string(out))
}

// newKMSSigner is signing.NewKMSSigner as a reports.Signer.
func newKMSSigner(ctx context.Context, cfg aws.Config, key string) (reports.Signer, error) {
	s, err := signing.NewKMSSigner(ctx, cfg, key)
	if err != nil {
		return nil, err
	}
	return s, nil
}
