package iam

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// RootUser is the user column of the root user's row in the report.
const RootUser = "<root_account>"

// Report is a parsed credential report.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Root is the <root_account> row; nil when the report has none (the
	// emulator's reports never do).
	Root  *ReportRow  `json:"root,omitempty"`
	Users []ReportRow `json:"users"`
}

// User returns the row of the named user.
func (r *Report) User(name string) (ReportRow, bool) {
	if r == nil {
		return ReportRow{}, false
	}
	for _, u := range r.Users {
		if u.User == name {
			return u, true
		}
	}
	return ReportRow{}, false
}

// ReportRow is one row of the credential report. Times are nil when the
// report says N/A, not_supported or no_information.
type ReportRow struct {
	User      string     `json:"user"`
	ARN       string     `json:"arn"`
	CreatedAt *time.Time `json:"user_creation_time,omitempty"`
	// PasswordEnabled is false for the root user (not_supported).
	PasswordEnabled     bool         `json:"password_enabled"`
	PasswordLastUsed    *time.Time   `json:"password_last_used,omitempty"`
	PasswordLastChanged *time.Time   `json:"password_last_changed,omitempty"`
	MFAActive           bool         `json:"mfa_active"`
	Keys                [2]ReportKey `json:"access_keys"`
}

// ReportKey is one of the two access-key column groups of a row.
type ReportKey struct {
	Active      bool       `json:"active"`
	LastRotated *time.Time `json:"last_rotated,omitempty"`
	LastUsed    *time.Time `json:"last_used,omitempty"`
}

// reportColumns are the columns the parser needs; any other column is
// ignored, and the order does not matter.
var reportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
}

// ParseReport parses the credential report's CSV by column name. Values
// N/A, not_supported, no_information and empty mean "none".
func ParseReport(content []byte, generated time.Time) (*Report, error) {
	records, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse credential report CSV: %w", err)
	}
	if len(records) == 0 {
		return nil, errors.New("parse credential report: empty report")
	}
	index := map[string]int{}
	for i, name := range records[0] {
		index[strings.TrimSpace(name)] = i
	}
	var missing []string
	for _, c := range reportColumns {
		if _, ok := index[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("parse credential report: missing columns %s", strings.Join(missing, ", "))
	}
	rep := &Report{GeneratedAt: generated.UTC(), Users: []ReportRow{}}
	for n, rec := range records[1:] {
		line := n + 2
		get := func(col string) string { return strings.TrimSpace(rec[index[col]]) }
		var errs []error
		tm := func(col string) *time.Time {
			t, err := reportTime(get(col))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", col, err))
			}
			return t
		}
		boolean := func(col string) bool {
			b, err := reportBool(get(col))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", col, err))
			}
			return b
		}
		row := ReportRow{
			User: get("user"), ARN: get("arn"), CreatedAt: tm("user_creation_time"),
			PasswordEnabled: boolean("password_enabled"), PasswordLastUsed: tm("password_last_used"),
			PasswordLastChanged: tm("password_last_changed"), MFAActive: boolean("mfa_active"),
		}
		for i := range row.Keys {
			p := fmt.Sprintf("access_key_%d_", i+1)
			row.Keys[i] = ReportKey{Active: boolean(p + "active"), LastRotated: tm(p + "last_rotated"), LastUsed: tm(p + "last_used_date")}
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("parse credential report line %d (%s): %w", line, row.User, errors.Join(errs...))
		}
		if row.User == RootUser {
			r := row
			rep.Root = &r
			continue
		}
		rep.Users = append(rep.Users, row)
	}
	return rep, nil
}

// none reports whether a report value means "no value".
func none(v string) bool {
	switch strings.ToLower(v) {
	case "", "n/a", "not_supported", "no_information":
		return true
	}
	return false
}

func reportTime(v string) (*time.Time, error) {
	if none(v) {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("not a timestamp: %q", v)
	}
	t = t.UTC()
	return &t, nil
}

func reportBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	if none(v) {
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", v)
}

// ReportAPI is the part of the IAM client that produces the credential report.
type ReportAPI interface {
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// ReportWait bounds how long FetchReport waits for a report to complete.
type ReportWait struct {
	// Timeout is the whole wait; 0 means DefaultReportTimeout.
	Timeout time.Duration
	// Poll is the first delay between GenerateCredentialReport calls; it
	// doubles up to MaxPoll. 0 means DefaultReportPoll.
	Poll time.Duration
	// MaxPoll caps the delay; 0 means DefaultReportMaxPoll.
	MaxPoll time.Duration
}

// Defaults of ReportWait: AWS generates a report in seconds for most
// accounts and in a few minutes for the largest.
const (
	DefaultReportTimeout = 3 * time.Minute
	DefaultReportPoll    = time.Second
	DefaultReportMaxPoll = 10 * time.Second
)

// ReportError is a report that could not be fetched; Operation is the call
// that failed or never reached COMPLETE.
type ReportError struct {
	Operation string
	Err       error
}

func (e *ReportError) Error() string { return e.Err.Error() }
func (e *ReportError) Unwrap() error { return e.Err }

// FetchReport asks IAM to generate the credential report (it may answer
// STARTED or INPROGRESS, or COMPLETE at once when it has a report less than
// four hours old), polls with a growing delay until it is COMPLETE, and
// fetches and parses it. It gives up after the wait's timeout with a
// *ReportError.
func FetchReport(ctx context.Context, api ReportAPI, wait ReportWait) (*Report, error) {
	timeout, poll, maxPoll := wait.Timeout, wait.Poll, wait.MaxPoll
	if timeout <= 0 {
		timeout = DefaultReportTimeout
	}
	if poll <= 0 {
		poll = DefaultReportPoll
	}
	if maxPoll <= 0 {
		maxPoll = DefaultReportMaxPoll
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lastState := "none"
	op := "GenerateCredentialReport"
	notReady := func() error {
		return &ReportError{op, fmt.Errorf("the credential report did not complete within %s (last state: %s)", timeout, lastState)}
	}
	for {
		op = "GenerateCredentialReport"
		gen, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, notReady()
		case err != nil:
			return nil, &ReportError{op, err}
		case gen.State == types.ReportStateTypeComplete:
			op = "GetCredentialReport"
			out, err := api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			switch {
			case err != nil && ctx.Err() != nil:
				return nil, notReady()
			case isReportNotReady(err):
				lastState = "COMPLETE, then " + errorCode(err)
			case err != nil:
				return nil, &ReportError{op, err}
			default:
				rep, err := ParseReport(out.Content, aws.ToTime(out.GeneratedTime))
				if err != nil {
					return nil, &ReportError{op, err}
				}
				return rep, nil
			}
		default:
			lastState = string(gen.State)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, notReady()
		case <-t.C:
		}
		poll = min(2*poll, maxPoll)
	}
}

// isReportNotReady reports whether GetCredentialReport says the report is
// not (or no longer) there yet, so that generating it again is the answer.
func isReportNotReady(err error) bool {
	var notReady *types.CredentialReportNotReadyException
	var notPresent *types.CredentialReportNotPresentException
	var expired *types.CredentialReportExpiredException
	return errors.As(err, &notReady) || errors.As(err, &notPresent) || errors.As(err, &expired)
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return err.Error()
}
