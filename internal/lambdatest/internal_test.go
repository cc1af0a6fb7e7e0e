package lambdatest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{
		"5.2.5": true, "5.2.6": true, "5.3.0": true, "6.0.0": true, "5.2.10": true, "5.2.5.dev3": true, "5.2.6rc1": true,
		"5.2.4": false, "5.2.1": false, "5.1.99": false, "4.9.9": false, "5.2": false, "": false, "x.y.z": false,
	} {
		if got := versionAtLeast(v, minMotoSFN); got != want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestMotoVersionFromShebang(t *testing.T) {
	dir := t.TempDir()
	python := filepath.Join(dir, "python3")
	if err := os.WriteFile(python, []byte("#!/bin/sh\necho 5.2.1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "moto_server")
	if err := os.WriteFile(script, []byte("#!"+python+"\nimport moto\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := motoVersion(script); v != "5.2.1" {
		t.Errorf("motoVersion = %q, want 5.2.1", v)
	}
	// A shell shim (pyenv) is asked through the python3 beside it.
	shim := filepath.Join(dir, "shim")
	if err := os.WriteFile(shim, []byte("#!/usr/bin/env bash\nexec pyenv exec moto_server\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := motoVersion(shim); v != "5.2.1" {
		t.Errorf("motoVersion of a shell shim = %q, want 5.2.1 from the python3 beside it", v)
	}
	lone := filepath.Join(t.TempDir(), "moto_server")
	if err := os.WriteFile(lone, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := motoVersion(lone); v != "" {
		t.Errorf("motoVersion without any Python = %q, want unknown", v)
	}
}

func TestPayloadError(t *testing.T) {
	for payload, want := range map[string]string{
		`{"errorMessage":"boom","errorType":"EchoFailed"}`:               "EchoFailed",
		`{"errorType":"string","errorMessage":"x","stackTrace":[]}`:      "string",
		"Task timed out after 3.00 seconds":                              "Sandbox.Timedout",
		`{"errorMessage":"boom","errorType":"EchoFailed","scan_id":"s"}`: "", // a result that happens to have those keys
		`{"errorMessage":"boom"}`:                                        "",
		`{"scan_id":"s","counts":{}}`:                                    "",
		`"Task timed out after 3.00 seconds, or so the result says"`:     "",
		`[{"errorMessage":"boom","errorType":"EchoFailed"}]`:             "",
		``: "",
	} {
		fe := payloadError([]byte(payload))
		got := ""
		if fe != nil {
			got = fe.Type
		}
		if got != want {
			t.Errorf("payloadError(%s) = %q, want %q", payload, got, want)
		}
	}
}
