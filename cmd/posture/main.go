// Command posture scans AWS accounts for public exposure, resources outside a
// VPC, unencrypted data stores and stale credentials, and writes evidence
// reports. See README.md for flags, outputs and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
