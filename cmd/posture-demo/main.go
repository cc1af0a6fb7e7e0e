// Command posture-demo is what `make demo` runs: it starts the AWS emulator
// (moto_server) on a free loopback port, seeds the built-in demo account
// "Acme" into it, runs the real posture binary against it, and stops the
// emulator. Nothing leaves the machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator"
)

// The demo account's static credentials: the emulator accepts any.
const (
	demoKeyID  = "AKIADEMOACCESSKEY001"
	demoSecret = "demo-secret-not-a-real-key"
)

// exitInterrupted is the demo's exit code after Ctrl-C or SIGTERM, the
// shell's convention for a process ended by SIGINT.
const exitInterrupted = 130

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("posture-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("posture", "bin/posture", "the posture binary to run")
	out := fs.String("out", "demo-output", "directory for the demo's reports")
	logFile := fs.String("emulator-log", "", "write the emulator's output to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if _, err := demoRun(ctx, *binary, *out, *logFile, logger, stderr); err != nil {
		if ctx.Err() != nil {
			// A deliberate Ctrl-C is not a failure to report as one.
			fmt.Fprintf(stderr, "posture-demo: interrupted (%v); the emulator was stopped\n", context.Cause(ctx))
			return exitInterrupted
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			logger.Error("posture scan failed", "exit", exitErr.ExitCode())
			return exitErr.ExitCode()
		}
		logger.Error("demo failed", "error", err)
		return 1
	}
	return 0
}

// demoRun runs the demo and returns what it seeded.
func demoRun(ctx context.Context, binary, out, logFile string, logger *slog.Logger, stderr io.Writer) (*demo.Inventory, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("posture binary %s: %w (run `make build` first)", binary, err)
	}
	// Under libfaketime the demo can age its stale credentials (a key 120
	// days old, a secret 200); without it they are created today.
	opts := emulator.Options{}
	if _, err := emulator.LocateFaketime(); err == nil {
		opts.FakeTime = true
	} else {
		logger.Info("libfaketime not found: the demo's stale key and secret are created today and look fresh (apt-get install faketime to age them)")
	}
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, fmt.Errorf("create emulator log: %w", err)
		}
		defer f.Close()
		opts.Log = f
	}
	begin := time.Now()
	srv, err := emulator.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start the AWS emulator: %w", err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			logger.Warn("stop the emulator", "error", err)
		}
	}()
	logger.Info("emulator started", "url", srv.URL, "elapsed", time.Since(begin).Round(time.Millisecond))

	begin = time.Now()
	cfg := aws.Config{
		Region:       demo.PrimaryRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(demoKeyID, demoSecret, ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 3) },
	}
	var seedOpts demo.Options
	if srv.FakeTime() {
		seedOpts.Age = srv.SetClockOffset
	}
	inv, err := demo.SeedWith(ctx, cfg, seedOpts)
	if err != nil {
		return nil, fmt.Errorf("seed the demo account: %w", err)
	}
	logger.Info("demo account seeded", "account", inv.AccountID, "regions", strings.Join(demo.Regions(), ","),
		"stale_credentials_aged", inv.Aged, "elapsed", time.Since(begin).Round(time.Millisecond))

	args := []string{"scan", "--endpoint-url", srv.URL, "--regions", strings.Join(demo.Regions(), ","), "--out", out, "--overwrite"}
	fmt.Fprintf(stderr, "\n$ posture %s\n\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(scrubbedEnv(), "AWS_ACCESS_KEY_ID="+demoKeyID, "AWS_SECRET_ACCESS_KEY="+demoSecret, "AWS_REGION="+demo.PrimaryRegion)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("posture scan: %w", err)
	}
	var files []string
	if entries, err := os.ReadDir(out); err == nil {
		for _, e := range entries {
			files = append(files, e.Name())
		}
	}
	fmt.Fprintf(stderr, "\nThe demo account's evidence package is in %s/: %s.\n"+
		"Open evidence.xlsx and report-<framework>.pdf; check the package with `sha256sum -c SHA256SUMS` there, or `bin/posture verify %s`.\n",
		out, strings.Join(files, ", "), out)
	return inv, nil
}

// scrubbedEnv is the environment without AWS settings, so that the demo can
// never pick up a real profile or real credentials.
func scrubbedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
}
