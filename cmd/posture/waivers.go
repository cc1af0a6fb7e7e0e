package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/posture-dev/posture/internal/config"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/internal/scanrun"
	"github.com/posture-dev/posture/reports"
	"github.com/posture-dev/posture/scanners"
)

// loadConfig reads the --config file: thresholds and waivers, each waiver's
// check checked against the catalogue and its expiry against today. A
// waiver already expired is allowed (the scan lists it as expired) but
// logged as a warning, so that it is renewed or removed.
func loadConfig(path string, now time.Time, logger *slog.Logger) (config.Config, error) {
	known := map[string]bool{}
	for _, m := range scanners.Catalogue(scanners.All()) {
		known[m.ID] = true
	}
	cfg, err := config.Load(path, config.Options{Checks: known, Now: now})
	if err != nil {
		return config.Config{}, err
	}
	for _, w := range cfg.Waivers {
		if w.Expired(now) {
			logger.Warn("waiver expired: it no longer mutes, the scan lists it as expired; renew or remove it",
				"waiver", w.ID, "check", w.Check, "expires", w.ExpiresOn(), "owner", w.Owner,
				"config", fmt.Sprintf("%s:%d", path, w.Line))
		}
	}
	return cfg, nil
}

// loadConfigFile reads --config (loadConfig) and returns it with the hex
// SHA-256 of the file, which scan.json records; errors are usage errors.
func loadConfigFile(path string, logger *slog.Logger) (config.Config, string, error) {
	cfg, err := loadConfig(path, time.Now(), logger)
	if err != nil {
		return config.Config{}, "", usageError{err}
	}
	sum, err := scanrun.FileSHA256(path)
	if err != nil {
		return config.Config{}, "", usageError{err}
	}
	return cfg, sum, nil
}

// readBaseline reads --baseline: nil when it is not given. The package then
// holds diff.json (scanrun.Package adds the writer).
func readBaseline(path string) (*model.Scan, error) {
	if path == "" {
		return nil, nil
	}
	scan, err := reports.ReadScanFile(path)
	if err != nil {
		return nil, usagef("--baseline: %w", err)
	}
	return scan, nil
}
