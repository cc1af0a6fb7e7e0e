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
	// The first Ctrl-C or SIGTERM cancels the scan, which then writes what
	// it collected and exits 5; once cancelled, the default handling is
	// restored, so a second Ctrl-C ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
