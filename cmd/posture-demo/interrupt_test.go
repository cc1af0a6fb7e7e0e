package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A deliberate Ctrl-C of the demo ends it with 130 and a plain sentence, not
// an ERROR log line.
func TestDemoInterruptedIsNotAnError(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "posture")
	if err := os.WriteFile(binary, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"-posture", binary, "-out", t.TempDir()}, &stderr)
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
	}
	if strings.Contains(stderr.String(), "level=ERROR") || !strings.Contains(stderr.String(), "posture-demo: interrupted") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
