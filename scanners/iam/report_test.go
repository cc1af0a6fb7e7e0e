package iam

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// A report as AWS writes it (columns of 2024), with the root row, N/A,
// not_supported and no_information values.
const awsReport = `user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111122223333:root,2019-01-01T00:00:00+00:00,not_supported,2026-05-01T08:00:00+00:00,not_supported,not_supported,true,true,2020-01-01T00:00:00+00:00,2026-04-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111122223333:user/alice,2024-01-01T00:00:00+00:00,true,no_information,2024-01-02T00:00:00+00:00,N/A,false,true,2024-01-03T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
bob,arn:aws:iam::111122223333:user/bob,2024-02-01T00:00:00+00:00,false,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,true,2025-01-01T00:00:00+00:00,2026-05-30T10:00:00+00:00,eu-west-1,ec2,false,N/A,false,N/A
`

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParseReport(t *testing.T) {
	gen := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rep, err := ParseReport([]byte(awsReport), gen)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Root == nil || !rep.Root.MFAActive || rep.Root.PasswordEnabled || !rep.Root.Keys[0].Active || rep.Root.Keys[1].Active ||
		!rep.Root.Keys[0].LastRotated.Equal(*ts("2020-01-01T00:00:00Z")) || !rep.Root.PasswordLastUsed.Equal(*ts("2026-05-01T08:00:00Z")) {
		t.Errorf("root row %+v", rep.Root)
	}
	if len(rep.Users) != 2 || !rep.GeneratedAt.Equal(gen) {
		t.Fatalf("users %+v", rep.Users)
	}
	alice, ok := rep.User("alice")
	if !ok || !alice.PasswordEnabled || alice.PasswordLastUsed != nil || !alice.PasswordLastChanged.Equal(*ts("2024-01-02T00:00:00Z")) ||
		alice.MFAActive || !alice.Keys[0].Active || alice.Keys[0].LastUsed != nil || alice.Keys[1].LastRotated != nil {
		t.Errorf("alice %+v", alice)
	}
	bob, _ := rep.User("bob")
	if bob.PasswordEnabled || bob.PasswordLastChanged != nil || !bob.Keys[1].Active || !bob.Keys[1].LastUsed.Equal(*ts("2026-05-30T10:00:00Z")) {
		t.Errorf("bob %+v", bob)
	}
	if _, ok := rep.User("carol"); ok {
		t.Error("carol found")
	}
}

func TestParseReportByColumnName(t *testing.T) {
	// Columns reordered, an unknown column added: parsed by name.
	content := "mfa_active,extra,access_key_2_last_used_date,access_key_2_last_rotated,access_key_2_active,access_key_1_last_used_date,access_key_1_last_rotated,access_key_1_active,password_last_changed,password_last_used,password_enabled,user_creation_time,arn,user\n" +
		"true,x,N/A,N/A,false,2026-01-01T00:00:00+00:00,2025-01-01T00:00:00+00:00,true,N/A,N/A,false,2024-01-01T00:00:00+00:00,arn:aws:iam::1:user/dave,dave\n"
	rep, err := ParseReport([]byte(content), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := rep.User("dave")
	if !ok || !d.MFAActive || !d.Keys[0].Active || !d.Keys[0].LastUsed.Equal(*ts("2026-01-01T00:00:00Z")) || d.ARN != "arn:aws:iam::1:user/dave" {
		t.Errorf("dave %+v", d)
	}
}

func TestParseReportErrors(t *testing.T) {
	header := strings.SplitN(awsReport, "\n", 2)[0]
	tests := []struct{ content, want string }{
		{"", "empty report"},
		{"user,arn\nx,y\n", "missing columns user_creation_time, password_enabled"},
		{header + "\n" + strings.Replace(strings.Split(awsReport, "\n")[2], "2024-01-02T00:00:00+00:00", "yesterday", 1) + "\n", `line 2 (alice): password_last_changed: not a timestamp: "yesterday"`},
		{header + "\n" + strings.Replace(strings.Split(awsReport, "\n")[2], ",false,true,", ",maybe,true,", 1) + "\n", `mfa_active: not a boolean: "maybe"`},
		{header + "\nshort,row\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		if _, err := ParseReport([]byte(tt.content), time.Time{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}

// fakeReportAPI answers GenerateCredentialReport with states in turn (the
// last one repeats) and GetCredentialReport with getErrs in turn, then the
// report.
type fakeReportAPI struct {
	states    []types.ReportStateType
	genErr    error
	getErrs   []error
	generated int
	fetched   int
}

func (f *fakeReportAPI) GenerateCredentialReport(ctx context.Context, _ *iam.GenerateCredentialReportInput, _ ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.generated++
	if f.genErr != nil {
		return nil, f.genErr
	}
	s := f.states[min(f.generated, len(f.states))-1]
	return &iam.GenerateCredentialReportOutput{State: s}, nil
}

func (f *fakeReportAPI) GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	f.fetched++
	if f.fetched <= len(f.getErrs) {
		return nil, f.getErrs[f.fetched-1]
	}
	return &iam.GetCredentialReportOutput{Content: []byte(awsReport), GeneratedTime: aws.Time(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)), ReportFormat: types.ReportFormatTypeTextCsv}, nil
}

func TestFetchReportPollsUntilComplete(t *testing.T) {
	api := &fakeReportAPI{
		states:  []types.ReportStateType{types.ReportStateTypeStarted, types.ReportStateTypeInprogress, types.ReportStateTypeComplete},
		getErrs: []error{&types.CredentialReportNotReadyException{Message: aws.String("not ready")}},
	}
	wait := ReportWait{Timeout: 5 * time.Second, Poll: time.Millisecond, MaxPoll: 2 * time.Millisecond}
	rep, err := FetchReport(context.Background(), api, wait)
	if err != nil {
		t.Fatal(err)
	}
	// STARTED, INPROGRESS, COMPLETE (then not ready), COMPLETE (fetched).
	if api.generated != 4 || api.fetched != 2 || rep.Root == nil || len(rep.Users) != 2 {
		t.Errorf("generated %d fetched %d report %+v", api.generated, api.fetched, rep)
	}
}

func TestFetchReportThatNeverCompletesIsABoundedError(t *testing.T) {
	api := &fakeReportAPI{states: []types.ReportStateType{types.ReportStateTypeStarted, types.ReportStateTypeInprogress}}
	begin := time.Now()
	_, err := FetchReport(context.Background(), api, ReportWait{Timeout: 150 * time.Millisecond, Poll: 10 * time.Millisecond, MaxPoll: 40 * time.Millisecond})
	elapsed := time.Since(begin)
	var re *ReportError
	if !errors.As(err, &re) || re.Operation != "GenerateCredentialReport" ||
		err.Error() != "the credential report did not complete within 150ms (last state: INPROGRESS)" {
		t.Fatalf("error %v", err)
	}
	if elapsed > 2*time.Second || api.generated < 3 || api.fetched != 0 {
		t.Errorf("elapsed %s, %d generate calls, %d fetches", elapsed, api.generated, api.fetched)
	}
}

func TestFetchReportErrors(t *testing.T) {
	denied := errors.New("AccessDenied: no")
	_, err := FetchReport(context.Background(), &fakeReportAPI{genErr: denied}, ReportWait{Timeout: time.Second})
	var re *ReportError
	if !errors.As(err, &re) || re.Operation != "GenerateCredentialReport" || !errors.Is(err, denied) {
		t.Errorf("generate denied: %v", err)
	}
	api := &fakeReportAPI{states: []types.ReportStateType{types.ReportStateTypeComplete}, getErrs: []error{denied}}
	_, err = FetchReport(context.Background(), api, ReportWait{Timeout: time.Second})
	if !errors.As(err, &re) || re.Operation != "GetCredentialReport" || !errors.Is(err, denied) {
		t.Errorf("get denied: %v", err)
	}
}
