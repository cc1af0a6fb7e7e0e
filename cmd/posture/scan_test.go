package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/fanout"
	"github.com/posture-dev/posture/internal/model"
	"github.com/vbauerster/mpb/v8"
)

func TestParseScanFlags(t *testing.T) {
	f, err := parseScanFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.roleName != awsenv.DefaultRoleName || f.roleDuration != time.Hour || f.accountConcurrency != engine.DefaultAccountConcurrency ||
		f.concurrency != engine.DefaultScopeConcurrency || f.callConcurrency != fanout.DefaultLimit || f.timeout != 0 ||
		f.logFormat != "text" || f.logLevel != "" || f.org || len(f.accounts) != 0 {
		t.Errorf("defaults: %+v", f)
	}
	f, err = parseScanFlags([]string{"--accounts", "111111111111,222222222222", "--accounts", "111111111111", "--role-name", "audit/Scanner",
		"--external-id", "x-1", "--role-duration", "12h", "--account-concurrency", "16", "--call-concurrency", "2", "--timeout", "90s",
		"--log-format", "json", "--log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.accounts, ",") != "111111111111,222222222222" || f.roleName != "audit/Scanner" || f.externalID != "x-1" ||
		f.roleDuration != 12*time.Hour || f.accountConcurrency != 16 || f.callConcurrency != 2 || f.timeout != 90*time.Second || f.logFormat != "json" {
		t.Errorf("parsed: %+v", f)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--org", "--accounts", "111111111111"}, "--org and --accounts cannot be combined"},
		{[]string{"--accounts", "11111111111,abc"}, `--accounts: account IDs must be 12 digits: "11111111111", "abc"`},
		{[]string{"--role-duration", "14m"}, "--role-duration 14m0s: want between 15m0s and 12h0m0s"},
		{[]string{"--role-duration", "13h"}, "--role-duration 13h0m0s"},
		{[]string{"--account-concurrency", "0"}, "must be at least 1"},
		{[]string{"--call-concurrency", "-1"}, "must be at least 1"},
		{[]string{"--timeout", "-1s"}, "--timeout -1s: must not be negative"},
		{[]string{"--log-format", "xml"}, `--log-format "xml": want text or json`},
		{[]string{"--role-name", " "}, "--role-name must not be empty"},
	} {
		_, err := parseScanFlags(tt.args, io.Discard)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

// TestProgressRenders draws the progress line into a buffer treated as a
// display 100 columns wide, refreshed as on a terminal.
func TestProgressRenders(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	p := newProgress(&buf, now, mpb.WithWidth(100), mpb.WithAutoRefresh())
	p.SetAccounts(2)
	p.AccountStarted("111111111111")
	p.ScopesPlanned("111111111111", 4)
	clock = clock.Add(5 * time.Second)
	p.ScopeDone("111111111111", "us-east-1", "ec2", true)
	clock = clock.Add(5 * time.Second)
	p.ScopeDone("111111111111", "us-east-1", "rds", false)
	p.AccountDone("222222222222", false)
	p.Close()
	p.Close()
	out := buf.String()
	for _, want := range []string{"accounts 1/2", "scopes 2/4", "gaps 2", "10s", "ETA 10s"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress line lacks %q: %q", want, out)
		}
	}

	buf.Reset()
	early := newProgress(&buf, now, mpb.WithWidth(100), mpb.WithAutoRefresh())
	early.Close()
	if out := buf.String(); !strings.Contains(out, "starting: identity, accounts and regions") || strings.Contains(out, "accounts 0/0") {
		t.Errorf("before the accounts are known the line should say what the scan is doing: %q", out)
	}
}

// The estimate follows the pace of the scopes done, and when the scopes
// left take longer than that pace promised, it says so instead of showing
// "ETA 0s" for minutes.
func TestProgressEstimate(t *testing.T) {
	start := time.Unix(0, 0)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	for _, tt := range []struct {
		lastDone, now int
		done, total   int
		want          string
	}{
		{0, 0, 0, 10, "ETA -"},
		{10, 10, 2, 4, "ETA 10s"},
		{10, 14, 2, 4, "ETA 6s"},
		{90, 90, 9, 10, "ETA 10s"},
		{90, 300, 9, 10, "ETA ? (1 scope(s) left, slower than the rest)"},
		{90, 90, 10, 10, "ETA -"},
	} {
		if got := estimate(start, at(tt.lastDone), at(tt.now), tt.done, tt.total); got != tt.want {
			t.Errorf("estimate(last %ds, now %ds, %d/%d) = %q, want %q", tt.lastDone, tt.now, tt.done, tt.total, got, tt.want)
		}
	}
}

func TestExitCodeOfAnEmptyScan(t *testing.T) {
	code, why := exitCode(&model.Scan{}, "")
	if code != exitError || !strings.Contains(why, "the target list is empty") {
		t.Errorf("exitCode(empty) = %d, %q", code, why)
	}
}
