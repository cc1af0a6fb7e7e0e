package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
)

// fakeInv is a tiny inventory with two independently collected parts and a
// per-resource detail part.
type fakeInv struct {
	Items       []string
	DetailError map[string]string
	Extras      []string
}

const (
	partItems   = "items"
	partExtras  = "extras"
	partDetails = "item-details"
)

func fakeMeta(id string) Meta {
	return Meta{
		ID: id, Title: "title of " + id, Family: model.FamilyPublicExposure, Service: "fake",
		Severity: model.SeverityHigh, ResourceType: "AWS::Fake::Thing",
		Rationale: "why", Remediation: "how", References: []string{"https://example.com/doc"},
	}
}

// fakeChecks: one check over items, one over extras, one over items that
// also reads per-item details and judges their gaps itself.
func fakeChecks() []Check[fakeInv] {
	return []Check[fakeInv]{
		{
			Meta:  fakeMeta("fake-item-ok"),
			Needs: []string{partItems},
			Eval: func(inv *fakeInv) []Finding {
				var out []Finding
				for _, it := range inv.Items {
					out = append(out, Pass(it, "arn:fake:"+it, "item "+it+" is fine", map[string]any{"item": it}))
				}
				return out
			},
		},
		{
			Meta:  fakeMeta("fake-extra-ok"),
			Needs: []string{partExtras},
			Eval: func(inv *fakeInv) []Finding {
				var out []Finding
				for _, e := range inv.Extras {
					out = append(out, Fail(e, "", "extra "+e+" is bad", nil))
				}
				return out
			},
		},
		{
			Meta:  fakeMeta("fake-item-detail"),
			Needs: []string{partItems},
			Reads: []string{partDetails},
			Eval: func(inv *fakeInv) []Finding {
				var out []Finding
				for _, it := range inv.Items {
					if msg := inv.DetailError[it]; msg != "" {
						out = append(out, Error(it, "", "detail unreadable: "+msg, nil))
						continue
					}
					out = append(out, Pass(it, "", "detail fine", nil))
				}
				return out
			},
		},
	}
}

type gapSpec struct {
	part, op, resource string
	err                error
}

// fakeService returns a service whose collector records what the scope
// wanted, returns items a and b and extra x, and records the given gaps.
func fakeService(gaps []gapSpec, wanted *map[string]bool, calls *int) Service[fakeInv] {
	return Service[fakeInv]{
		Name: "fake",
		Collect: func(_ context.Context, scope Scope, g *Gaps) *fakeInv {
			if calls != nil {
				*calls++
			}
			if wanted != nil {
				*wanted = map[string]bool{}
				for _, p := range []string{partItems, partExtras, partDetails} {
					(*wanted)[p] = scope.Wants(p)
				}
			}
			inv := &fakeInv{Items: []string{"item-a", "item-b"}, Extras: []string{"extra-x"}, DetailError: map[string]string{}}
			for _, gs := range gaps {
				g.Add(gs.part, gs.op, gs.resource, gs.err)
				if gs.resource != "" && gs.part == partDetails {
					inv.DetailError[gs.resource] = ErrorText(gs.err)
				}
				if gs.resource == "" && gs.part == partExtras {
					inv.Extras = nil
				}
			}
			return inv
		},
		List: fakeChecks(),
	}
}

var testScope = Scope{AccountID: "111122223333", Partition: "aws", Region: "eu-west-1", Regions: []string{"eu-west-1"}}

func selectIDs(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func byCheck(results []model.Result) map[string][]model.Result {
	m := map[string][]model.Result{}
	for _, r := range results {
		m[r.CheckID] = append(m[r.CheckID], r)
	}
	return m
}

func TestScanScopeGapInNeededPartYieldsOneError(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform DescribeExtras"}
	svc := fakeService([]gapSpec{{part: partExtras, op: "DescribeExtras", err: denied}}, nil, nil)
	results, cov := svc.Scan(context.Background(), testScope, selectIDs("fake-item-ok", "fake-extra-ok"))
	got := byCheck(results)

	// The check over the collected part is unaffected.
	ok := got["fake-item-ok"]
	if len(ok) != 2 {
		t.Fatalf("fake-item-ok: got %d results, want 2: %+v", len(ok), ok)
	}
	for i, id := range []string{"item-a", "item-b"} {
		r := ok[i]
		if r.Status != model.StatusPass || r.ResourceID != id || r.ResourceARN != "arn:fake:"+id {
			t.Errorf("fake-item-ok[%d] = %s %q %q, want PASS %q", i, r.Status, r.ResourceID, r.ResourceARN, id)
		}
		if r.Evidence["item"] != id {
			t.Errorf("fake-item-ok[%d] evidence = %v", i, r.Evidence)
		}
	}

	// The check over the missing part is exactly one ERROR for the scope.
	errs := got["fake-extra-ok"]
	if len(errs) != 1 {
		t.Fatalf("fake-extra-ok: got %d results, want exactly 1 ERROR: %+v", len(errs), errs)
	}
	e := errs[0]
	if e.Status != model.StatusError || e.ResourceID != "" || e.ResourceARN != "" {
		t.Errorf("scope error = %s %q %q, want ERROR with empty resource", e.Status, e.ResourceID, e.ResourceARN)
	}
	for _, want := range []string{"extras", "DescribeExtras", "AccessDenied: User is not authorized"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("scope error message %q does not mention %q", e.Message, want)
		}
	}
	wantEvidence := map[string]any{"missing_part": "extras", "operation": "DescribeExtras", "error_code": "AccessDenied"}
	if !reflect.DeepEqual(e.Evidence, wantEvidence) {
		t.Errorf("scope error evidence = %v, want %v", e.Evidence, wantEvidence)
	}
	if e.AccountID != testScope.AccountID || e.Region != "eu-west-1" || e.Service != "fake" || e.Severity != model.SeverityHigh ||
		e.Family != model.FamilyPublicExposure || e.ResourceType != "AWS::Fake::Thing" {
		t.Errorf("scope error metadata = %+v", e)
	}
	if e.Fingerprint != model.Fingerprint("fake-extra-ok", testScope.AccountID, "eu-west-1", "") {
		t.Errorf("scope error fingerprint = %s", e.Fingerprint)
	}

	if cov.Status != model.CoverageError || cov.AccountID != testScope.AccountID || cov.Region != "eu-west-1" || cov.Service != "fake" {
		t.Errorf("coverage = %+v, want error for the scope", cov)
	}
	wantFailures := []model.Failure{{Part: "extras", Operation: "DescribeExtras", Code: "AccessDenied", Error: "AccessDenied: User is not authorized to perform DescribeExtras"}}
	if !reflect.DeepEqual(cov.Failures, wantFailures) {
		t.Errorf("coverage failures = %+v, want %+v", cov.Failures, wantFailures)
	}
	if cov.Error != "DescribeExtras: AccessDenied: User is not authorized to perform DescribeExtras" {
		t.Errorf("coverage error = %q", cov.Error)
	}
}

func TestScanCoverageFailuresSortedAndResourceGapsStayPerResource(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	svc := fakeService([]gapSpec{
		{part: partDetails, op: "GetDetail", resource: "item-b", err: throttled},
		{part: partExtras, op: "DescribeExtras", err: errors.New("connection reset")},
		{part: partDetails, op: "GetDetail", resource: "item-a", err: throttled},
	}, nil, nil)
	results, cov := svc.Scan(context.Background(), testScope, selectIDs("fake-item-ok", "fake-extra-ok", "fake-item-detail"))

	got := byCheck(results)
	// Per-resource gaps of a Reads part do not turn the check into a scope ERROR:
	// it judges each resource itself.
	detail := got["fake-item-detail"]
	if len(detail) != 2 {
		t.Fatalf("fake-item-detail: %d results, want 2: %+v", len(detail), detail)
	}
	for i, id := range []string{"item-a", "item-b"} {
		if detail[i].ResourceID != id || detail[i].Status != model.StatusError || detail[i].Message != "detail unreadable: Throttling: Rate exceeded" {
			t.Errorf("fake-item-detail[%d] = %s %q %q", i, detail[i].Status, detail[i].ResourceID, detail[i].Message)
		}
	}
	if n := len(got["fake-item-ok"]); n != 2 {
		t.Errorf("fake-item-ok: %d results, want 2", n)
	}
	if errs := got["fake-extra-ok"]; len(errs) != 1 || errs[0].Status != model.StatusError || errs[0].Evidence["error_code"] != "" {
		t.Errorf("fake-extra-ok = %+v, want one ERROR with empty error_code", errs)
	}

	if cov.Status != model.CoverageError {
		t.Fatalf("coverage status = %s", cov.Status)
	}
	wantFailures := []model.Failure{
		{Part: partExtras, Operation: "DescribeExtras", Error: "connection reset"},
		{Part: partDetails, Operation: "GetDetail", Resource: "item-a", Code: "Throttling", Error: "Throttling: Rate exceeded"},
		{Part: partDetails, Operation: "GetDetail", Resource: "item-b", Code: "Throttling", Error: "Throttling: Rate exceeded"},
	}
	if !reflect.DeepEqual(cov.Failures, wantFailures) {
		t.Errorf("failures =\n%+v\nwant\n%+v", cov.Failures, wantFailures)
	}
	wantErr := "DescribeExtras: connection reset; GetDetail item-a: Throttling: Rate exceeded; GetDetail item-b: Throttling: Rate exceeded"
	if cov.Error != wantErr {
		t.Errorf("coverage error = %q, want %q", cov.Error, wantErr)
	}
}

func TestScanOnlyResourceGapsDoNotErrorNeedsChecks(t *testing.T) {
	// A per-resource gap in a part that a check Needs does not make the
	// check a scope ERROR: only scope-wide gaps do.
	svc := fakeService([]gapSpec{{part: partItems, op: "GetItem", resource: "item-a", err: errors.New("boom")}}, nil, nil)
	results, cov := svc.Scan(context.Background(), testScope, selectIDs("fake-item-ok"))
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(results), results)
	}
	for _, r := range results {
		if r.Status != model.StatusPass || r.ResourceID == "" {
			t.Errorf("result = %s %q, want PASS per item", r.Status, r.ResourceID)
		}
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Resource != "item-a" || cov.Error != "GetItem item-a: boom" {
		t.Errorf("coverage = %+v", cov)
	}
}

func TestScanWantsOnlySelectedParts(t *testing.T) {
	tests := []struct {
		name     string
		selected []string
		want     map[string]bool
	}{
		{"items only", []string{"fake-item-ok"}, map[string]bool{partItems: true, partExtras: false, partDetails: false}},
		{"extras only", []string{"fake-extra-ok"}, map[string]bool{partItems: false, partExtras: true, partDetails: false}},
		{"reads are wanted too", []string{"fake-item-detail"}, map[string]bool{partItems: true, partExtras: false, partDetails: true}},
		{"all", []string{"fake-item-ok", "fake-extra-ok", "fake-item-detail"}, map[string]bool{partItems: true, partExtras: true, partDetails: true}},
		{"unknown IDs select nothing real", []string{"fake-item-ok", "other-check-id"}, map[string]bool{partItems: true, partExtras: false, partDetails: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wanted map[string]bool
			svc := fakeService(nil, &wanted, nil)
			results, cov := svc.Scan(context.Background(), testScope, selectIDs(tt.selected...))
			if !reflect.DeepEqual(wanted, tt.want) {
				t.Errorf("scope wanted %v, want %v", wanted, tt.want)
			}
			sel := selectIDs(tt.selected...)
			for _, r := range results {
				if !sel[r.CheckID] {
					t.Errorf("unselected check %s produced a result", r.CheckID)
				}
			}
			if cov.Status != model.CoverageOK || cov.Error != "" || cov.Failures != nil {
				t.Errorf("coverage = %+v, want ok", cov)
			}
		})
	}
}

func TestScanNothingSelectedCollectsNothing(t *testing.T) {
	calls := 0
	svc := fakeService(nil, nil, &calls)
	for _, sel := range []map[string]bool{nil, {}, {"fake-item-ok": false}, {"not-mine": true}} {
		results, cov := svc.Scan(context.Background(), testScope, sel)
		if results != nil {
			t.Errorf("selected %v: results = %+v, want none", sel, results)
		}
		if cov.Status != model.CoverageOK || cov.Service != "fake" || cov.AccountID != testScope.AccountID || cov.Region != testScope.Region {
			t.Errorf("selected %v: coverage = %+v", sel, cov)
		}
	}
	if calls != 0 {
		t.Errorf("Collect called %d times with no check selected", calls)
	}
}

func TestScanResultFields(t *testing.T) {
	svc := Service[fakeInv]{
		Name: "fake", IsGlobal: true,
		Collect: func(context.Context, Scope, *Gaps) *fakeInv { return &fakeInv{} },
		List: []Check[fakeInv]{{
			Meta: fakeMeta("fake-bucket-thing"),
			Eval: func(*fakeInv) []Finding {
				inRegion := Fail("bkt", "arn:aws:s3:::bkt", "bad", nil)
				inRegion.Region = "eu-central-1"
				return []Finding{inRegion, Pass("acct", "", "ok", map[string]any{"k": "v"})}
			},
		}},
	}
	scope := Scope{AccountID: "111122223333", Region: model.GlobalRegion}
	results, _ := svc.Scan(context.Background(), scope, selectIDs("fake-bucket-thing"))
	if len(results) != 2 {
		t.Fatalf("%d results", len(results))
	}
	r := results[0]
	if r.Region != "eu-central-1" || r.Fingerprint != model.Fingerprint("fake-bucket-thing", "111122223333", "eu-central-1", "bkt") {
		t.Errorf("finding region override: region %q fingerprint %s", r.Region, r.Fingerprint)
	}
	if r.Evidence == nil || len(r.Evidence) != 0 || r.Controls == nil || len(r.Controls) != 0 {
		t.Errorf("nil evidence/controls must become empty, non-nil: %#v %#v", r.Evidence, r.Controls)
	}
	if results[1].Region != model.GlobalRegion || results[1].Evidence["k"] != "v" {
		t.Errorf("second result = %+v", results[1])
	}
	if !svc.Global() || svc.Service() != "fake" {
		t.Errorf("Global/Service = %v %q", svc.Global(), svc.Service())
	}
}

func TestServiceChecksListsMetaInOrder(t *testing.T) {
	svc := fakeService(nil, nil, nil)
	var ids []string
	for _, m := range svc.Checks() {
		ids = append(ids, m.ID)
	}
	want := []string{"fake-item-ok", "fake-extra-ok", "fake-item-detail"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("Checks() = %v, want %v", ids, want)
	}
	var _ Scanner = svc // Service implements Scanner
}

func TestScopeWantsAndInScope(t *testing.T) {
	if !(Scope{}).Wants("anything") {
		t.Error("a scope built outside Scan (no selection) must want every part")
	}
	s := Scope{Regions: []string{"eu-west-1", "us-east-1"}}
	for region, want := range map[string]bool{"eu-west-1": true, "us-east-1": true, "ap-south-1": false, "": false} {
		if got := s.InScope(region); got != want {
			t.Errorf("InScope(%q) = %v, want %v", region, got, want)
		}
	}
	if !(Scope{}).InScope("ap-south-1") {
		t.Error("with no region list every region is in scope")
	}
	if (Scope{Regions: []string{}}).InScope("us-east-1") {
		t.Error("with an empty region list (every requested region disabled in the account) no region is in scope")
	}
}

func TestGaps(t *testing.T) {
	g := &Gaps{}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			g.Add("p", "Op", fmt.Sprintf("r%d", i), errors.New("x"))
		}(i)
	}
	wg.Wait()
	if n := len(g.List()); n != 50 {
		t.Fatalf("List has %d gaps, want 50", n)
	}
	if _, ok := g.Part("p"); ok {
		t.Error("Part must ignore per-resource gaps")
	}
	g.Add("p", "ListP", "", errors.New("first"))
	g.Add("p", "ListP2", "", errors.New("second"))
	gap, ok := g.Part("p")
	if !ok || gap.Operation != "ListP" {
		t.Errorf("Part = %+v %v, want the first scope-wide gap", gap, ok)
	}
	if _, ok := g.Part("q"); ok {
		t.Error("Part(q) found a gap that was never added")
	}
	list := g.List()
	list[0].Part = "mutated"
	if g.List()[0].Part == "mutated" {
		t.Error("List must return a copy")
	}
}

func TestErrorTextAndCode(t *testing.T) {
	apiErr := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}
	wrappedAPI := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVpcs", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}}, Err: apiErr},
		RequestID:     "5e3b1f6a-0000-4c1b-9d9e-1234567890ab",
	}}
	wrappedPlain := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVpcs", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: errors.New("deserialization failed")},
		RequestID:     "5e3b1f6a-0000-4c1b-9d9e-1234567890ab",
	}}
	tests := []struct {
		name     string
		err      error
		wantText string
		wantCode string
	}{
		{"nil", nil, "", ""},
		{"plain", errors.New("dial tcp: connection refused"), "dial tcp: connection refused", ""},
		{"api error", apiErr, "AccessDenied: not authorized", "AccessDenied"},
		{"api error without message", &smithy.GenericAPIError{Code: "Throttling"}, "Throttling", "Throttling"},
		{"api error wrapped with request ID", wrappedAPI, "AccessDenied: not authorized", "AccessDenied"},
		{"fmt-wrapped api error", fmt.Errorf("account 1: %w", apiErr), "AccessDenied: not authorized", "AccessDenied"},
		{"non-api error with request ID", wrappedPlain, "operation error EC2: DescribeVpcs, https response error StatusCode: 500, deserialization failed", ""},
		{"request ID text", errors.New("https response error StatusCode: 503, RequestID: abc-123, service unavailable"), "https response error StatusCode: 503, service unavailable", ""},
		{"S3 request and host IDs", errors.New("operation error S3: GetBucketPolicy, https response error StatusCode: 500, RequestID: R8G9, HostID: aGVsbG8=, deserialization failed"),
			"operation error S3: GetBucketPolicy, https response error StatusCode: 500, deserialization failed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorText(tt.err); got != tt.wantText {
				t.Errorf("ErrorText = %q, want %q", got, tt.wantText)
			}
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
		})
	}
}

func TestFindingConstructors(t *testing.T) {
	ev := map[string]any{"a": 1}
	for _, tt := range []struct {
		f    Finding
		want model.Status
	}{
		{Pass("id", "arn", "m", ev), model.StatusPass},
		{Fail("id", "arn", "m", ev), model.StatusFail},
		{Error("id", "arn", "m", ev), model.StatusError},
	} {
		if tt.f.Status != tt.want || tt.f.ResourceID != "id" || tt.f.ResourceARN != "arn" || tt.f.Message != "m" || tt.f.Evidence["a"] != 1 || tt.f.Region != "" {
			t.Errorf("finding = %+v, want status %s", tt.f, tt.want)
		}
	}
}

func validMeta(id, service string) Meta {
	m := fakeMeta(id)
	m.Service = service
	return m
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		metas   []Meta
		wantErr []string // substrings; nil means valid
	}{
		{"valid", []Meta{validMeta("ec2-sg-open", "ec2"), validMeta("s3-bucket-public", "s3")}, nil},
		{"empty list", nil, nil},
		{"duplicate", []Meta{validMeta("ec2-sg-open", "ec2"), validMeta("ec2-sg-open", "ec2")}, []string{`"ec2-sg-open": duplicate ID`}},
		{"uppercase", []Meta{validMeta("EC2-sg-open", "EC2")}, []string{"not lowercase service-resource-condition"}},
		{"underscore", []Meta{validMeta("ec2_sg_open", "ec2")}, []string{"not lowercase service-resource-condition"}},
		{"single word", []Meta{validMeta("ec2", "ec2")}, []string{"not lowercase service-resource-condition"}},
		{"trailing dash", []Meta{validMeta("ec2-sg-", "ec2")}, []string{"not lowercase service-resource-condition"}},
		{"empty ID", []Meta{validMeta("", "ec2")}, []string{"not lowercase service-resource-condition"}},
		{"ID not prefixed by service", []Meta{validMeta("rds-sg-open", "ec2")}, []string{`must start with its service "ec2"`}},
		{"unknown severity", []Meta{func() Meta { m := validMeta("ec2-sg-open", "ec2"); m.Severity = "severe"; return m }()}, []string{`unknown severity "severe"`}},
		{"empty severity", []Meta{func() Meta { m := validMeta("ec2-sg-open", "ec2"); m.Severity = ""; return m }()}, []string{"unknown severity"}},
		{"unknown family", []Meta{func() Meta { m := validMeta("ec2-sg-open", "ec2"); m.Family = "misc"; return m }()}, []string{`unknown family "misc"`}},
		{"empty family", []Meta{func() Meta { m := validMeta("ec2-sg-open", "ec2"); m.Family = ""; return m }()}, []string{"unknown family"}},
		{"two problems reported together", []Meta{func() Meta { m := validMeta("ec2-sg-open", "ec2"); m.Family = "misc"; m.Severity = "x"; return m }()}, []string{"unknown family", "unknown severity"}},
	}
	missing := map[string]func(*Meta){
		"title":        func(m *Meta) { m.Title = "" },
		"service":      func(m *Meta) { m.Service = "" },
		"resourceType": func(m *Meta) { m.ResourceType = "" },
		"rationale":    func(m *Meta) { m.Rationale = "" },
		"remediation":  func(m *Meta) { m.Remediation = "" },
		"references":   func(m *Meta) { m.References = nil },
	}
	for field, blank := range missing {
		m := validMeta("ec2-sg-open", "ec2")
		blank(&m)
		tests = append(tests, struct {
			name    string
			metas   []Meta
			wantErr []string
		}{"missing " + field, []Meta{m}, []string{"are all required"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.metas)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error mentioning %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidateAcceptsEveryKnownSeverityAndFamily(t *testing.T) {
	var metas []Meta
	families := []model.Family{model.FamilyPublicExposure, model.FamilyOutsideVPC, model.FamilyUnencrypted, model.FamilyCredentials}
	for i, sev := range model.Severities() {
		m := validMeta(fmt.Sprintf("ec2-thing-%d", i), "ec2")
		m.Severity = sev
		m.Family = families[i%len(families)]
		metas = append(metas, m)
	}
	if err := Validate(metas); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}

func TestEvalWithGetsTheScopeParamsAndSeverityOverride(t *testing.T) {
	var got Params
	svc := Service[fakeInv]{
		Name:    "fake",
		Collect: func(context.Context, Scope, *Gaps) *fakeInv { return &fakeInv{} },
		List: []Check[fakeInv]{{
			Meta: fakeMeta("fake-thing-aged"),
			EvalWith: func(_ *fakeInv, p Params) []Finding {
				got = p
				f := Fail("x", "", "expired", nil)
				f.Severity = model.SeverityMedium
				return []Finding{f, Pass("y", "", "fine", nil)}
			},
		}},
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	scope := testScope
	scope.Params = Params{Now: now, Credentials: config.Credentials{MaxKeyAgeDays: 7}}
	results, cov := svc.Scan(context.Background(), scope, selectIDs("fake-thing-aged"))
	if cov.Status != model.CoverageOK || len(results) != 2 {
		t.Fatalf("results %+v coverage %+v", results, cov)
	}
	if !got.Now.Equal(now) || got.Credentials.MaxKeyAgeDays != 7 {
		t.Errorf("EvalWith got params %+v", got)
	}
	if results[0].Severity != model.SeverityMedium || results[1].Severity != model.SeverityHigh {
		t.Errorf("severities %s %s: the finding's override, else the check's", results[0].Severity, results[1].Severity)
	}

	// Without params the scope evaluates with the defaults, now.
	before := time.Now()
	if _, cov := svc.Scan(context.Background(), testScope, selectIDs("fake-thing-aged")); cov.Status != model.CoverageOK {
		t.Fatal(cov)
	}
	if got.Now.Before(before.Add(-time.Second)) || got.Credentials != config.Default().Credentials {
		t.Errorf("default params %+v", got)
	}
}

func TestValidateChecksWantsExactlyOneFunction(t *testing.T) {
	eval := func(*fakeInv) []Finding { return nil }
	evalWith := func(*fakeInv, Params) []Finding { return nil }
	ok := []Check[fakeInv]{{Meta: fakeMeta("fake-a-b"), Eval: eval}, {Meta: fakeMeta("fake-c-d"), EvalWith: evalWith}}
	if err := ValidateChecks(ok); err != nil {
		t.Errorf("valid checks: %v", err)
	}
	if err := (Service[fakeInv]{List: ok}).Validate(); err != nil {
		t.Errorf("Service.Validate: %v", err)
	}
	bad := []Check[fakeInv]{{Meta: fakeMeta("fake-both-set"), Eval: eval, EvalWith: evalWith}, {Meta: fakeMeta("fake-none-set")}}
	err := ValidateChecks(bad)
	for _, want := range []string{`check "fake-both-set": set exactly one of Eval and EvalWith`, `check "fake-none-set": set exactly one`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if c, _ := Lookup(ok, "fake-c-d"); c.Evaluate(&fakeInv{}, Params{}) != nil {
		t.Error("Evaluate")
	}
}

func TestARN(t *testing.T) {
	for _, c := range []struct{ partition, service, region, account, resource, want string }{
		{"", "sqs", "eu-west-1", "123456789012", "jobs", "arn:aws:sqs:eu-west-1:123456789012:jobs"},
		{"aws-cn", "lambda", "cn-north-1", "123456789012", "function:f", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"},
		{"aws-us-gov", "iam", "", "123456789012", "root", "arn:aws-us-gov:iam::123456789012:root"},
		{"aws", "s3", "", "", "bucket", "arn:aws:s3:::bucket"},
	} {
		if got := ARN(c.partition, c.service, c.region, c.account, c.resource); got != c.want {
			t.Errorf("ARN(%q, %q, %q, %q, %q) = %q, want %q", c.partition, c.service, c.region, c.account, c.resource, got, c.want)
		}
	}
	if OrAbsent("") != "absent" || OrAbsent("alias/aws/sns") != "alias/aws/sns" {
		t.Error("OrAbsent")
	}
}

func TestUTC(t *testing.T) {
	if UTC(nil) != nil || UTC(&time.Time{}) != nil {
		t.Error("UTC of nil or the zero time must be nil")
	}
	in := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	got := UTC(&in)
	if got == nil || got.Location() != time.UTC || !got.Equal(in) || got.Hour() != 11 {
		t.Errorf("UTC(%v) = %v, want the same instant in UTC", in, got)
	}
	if got == &in || in.Location() == time.UTC {
		t.Error("UTC must return a new time and leave its argument alone")
	}
}
