package emulator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocateHonoursMotoServerEnv(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "moto_server")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOTO_SERVER", fake)
	t.Setenv("PATH", t.TempDir())

	got, err := Locate()
	if err != nil {
		t.Fatalf("Locate: %v", err)
	}
	if got != fake {
		t.Fatalf("Locate = %q, want %q", got, fake)
	}
}

func TestLocateMotoServerEnvMissing(t *testing.T) {
	t.Setenv("MOTO_SERVER", filepath.Join(t.TempDir(), "absent"))
	_, err := Locate()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Locate error = %v, want ErrNotFound", err)
	}
}

func TestLocateNotFound(t *testing.T) {
	t.Setenv("MOTO_SERVER", "")
	t.Setenv("PATH", t.TempDir())
	t.Chdir(t.TempDir()) // no go.mod above, so no .venv fallback

	_, err := Locate()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Locate error = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "make emulator") {
		t.Fatalf("Locate error %q does not tell the user to run `make emulator`", err)
	}
}

func TestLocateVenvFallback(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(root, ".venv", "bin", "moto_server")
	if err := os.MkdirAll(filepath.Dir(venv), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(venv, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOTO_SERVER", "")
	t.Setenv("PATH", t.TempDir())
	t.Chdir(sub)

	got, err := Locate()
	if err != nil {
		t.Fatalf("Locate: %v", err)
	}
	if got != venv {
		t.Fatalf("Locate = %q, want %q", got, venv)
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "moto_server")
	script := "#!/bin/sh\necho 'boom: cannot start' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOTO_SERVER", fake)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded with a server that exits at once")
	}
	if !strings.Contains(err.Error(), "boom: cannot start") {
		t.Fatalf("Start error %q does not include the process output", err)
	}
}

func TestStartRunsOptionsBinary(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "moto_server")
	chosen := filepath.Join(dir, "chosen_moto")
	for path, msg := range map[string]string{other: "located one", chosen: "the chosen one"} {
		if err := os.WriteFile(path, []byte("#!/bin/sh\necho '"+msg+"' >&2\nexit 3\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MOTO_SERVER", other)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Binary: chosen})
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded with a server that exits at once")
	}
	if !strings.Contains(err.Error(), "the chosen one") {
		t.Fatalf("Start error %q: Options.Binary was not the process run", err)
	}
}

func TestStartResetClose(t *testing.T) {
	if _, err := Locate(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("moto_server not found (run `make emulator` or put moto_server on PATH): %v", err)
	}
	ctx := context.Background()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback URL", s.URL)
	}
	if err := s.Reset(ctx); err != nil {
		t.Errorf("Reset: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Reset(ctx); err == nil {
		t.Fatal("Reset after Close succeeded")
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("MOTO_ACCOUNT_ID", "111111111111")
	t.Setenv("POSTURE_EMULATOR_TEST", "inherited")
	env := environ([]string{"EXTRA=1"})

	last := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		last[k] = v
	}
	if _, ok := last["MOTO_ACCOUNT_ID"]; ok {
		t.Error("MOTO_ACCOUNT_ID was passed to moto")
	}
	for k, want := range map[string]string{
		"MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
		"POSTURE_EMULATOR_TEST":      "inherited",
		"EXTRA":                      "1",
	} {
		if got := last[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestLocateFaketime(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "libfaketime.so.1")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKETIME_LIB", lib)
	if got, err := LocateFaketime(); err != nil || got != lib {
		t.Errorf("LocateFaketime with FAKETIME_LIB = %q, %v", got, err)
	}
	t.Setenv("FAKETIME_LIB", lib+".missing")
	if _, err := LocateFaketime(); !errors.Is(err, ErrFaketimeNotFound) {
		t.Errorf("missing FAKETIME_LIB: %v", err)
	}
}

func TestClockFile(t *testing.T) {
	c, env, err := newClock("/lib/libfaketime.so.1")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(c.dir)
	read := func() string {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read(); got != "+0\n" {
		t.Errorf("initial offset %q", got)
	}
	if err := c.set(-120 * 24 * time.Hour); err != nil || read() != "-10368000\n" {
		t.Errorf("offset -120d: %q %v", read(), err)
	}
	want := []string{"LD_PRELOAD=/lib/libfaketime.so.1", "FAKETIME_TIMESTAMP_FILE=" + c.file, "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1"}
	if strings.Join(env, " ") != strings.Join(want, " ") {
		t.Errorf("env %v", env)
	}
	var s Server
	if err := s.SetClockOffset(time.Hour); !errors.Is(err, ErrNoFakeClock) || s.FakeTime() {
		t.Errorf("server without clock: %v", err)
	}
}
