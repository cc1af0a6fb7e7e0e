package lambdatest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/posture-dev/posture/internal/emulator"
	"github.com/posture-dev/posture/internal/emulator/emutest"
)

// builds caches Build's output per package for the test binary.
var builds struct {
	mu     sync.Mutex
	inMain bool              // Main is running the tests
	dirs   []string          // temporary directories to remove when Main ends
	paths  map[string]string // pkg -> built bootstrap
}

// Main is used as `func TestMain(m *testing.M) { os.Exit(lambdatest.Main(m)) }`.
// It runs the tests through emutest.Main (so the package may also use
// emutest.Fresh), then removes the bootstraps Build made. Under Main, Build
// builds each package once per test binary; without it, once per test.
func Main(m *testing.M) int {
	builds.mu.Lock()
	builds.inMain = true
	builds.mu.Unlock()

	code := emutest.Main(m)

	builds.mu.Lock()
	defer builds.mu.Unlock()
	builds.inMain = false
	for _, dir := range builds.dirs {
		_ = os.RemoveAll(dir)
	}
	builds.dirs, builds.paths = nil, nil
	return code
}

// Build compiles the Lambda bootstrap in pkg for the host, the way it is
// built for AWS but without GOOS/GOARCH: `go build -tags lambda.norpc -o
// <tmp>/bootstrap <pkg>`, with CGO_ENABLED=0, run in the module root (so
// pkg is an import path or a path relative to the module root, such as
// "./lambda"). It returns the executable's path.
//
// A compile error fails the test. A missing go command skips it, or fails
// it when CI is set.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if p, ok := builds.paths[pkg]; ok {
		return p
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "lambdatest: the go command is needed to build %s: %v", pkg, err)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	var dir string
	if builds.inMain {
		if dir, err = os.MkdirTemp("", "lambdatest-build-"); err != nil {
			t.Fatalf("lambdatest: %v", err)
		}
		builds.dirs = append(builds.dirs, dir)
	} else {
		dir = t.TempDir()
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lambdatest: go build -tags lambda.norpc %s: %v\n%s", pkg, err, stderr.String())
	}
	if builds.inMain {
		if builds.paths == nil {
			builds.paths = map[string]string{}
		}
		builds.paths[pkg] = out
	}
	return out
}

// moduleRoot returns the directory of the main module's go.mod, found from
// the working directory upwards.
func moduleRoot() (string, error) { return emulator.ModuleRoot() }

// skipOrFail skips the test, or fails it when the environment variable CI is
// set (a tool missing in CI is a failure, as in emutest).
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skip(strings.TrimSpace(msg) + ": skipped")
}
