package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/posture-dev/posture/internal/config"
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
