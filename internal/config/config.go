// Package config reads posture's configuration file (`posture scan --config
// FILE`): the thresholds of the checks that have them, and the waivers
// (accepted exceptions, see Waiver). The file is YAML; every field is
// optional and takes its default when absent; unknown fields and
// out-of-range values are errors that name the field (a waiver's errors also
// name the file and line).
//
//	credentials:
//	  max_key_age_days: 90           # iam-access-key-unrotated
//	  unused_days: 45                # iam-credential-unused
//	  password_min_length: 14        # iam-password-policy-weak
//	  password_reuse_prevention: 24  # iam-password-policy-weak
//	  secret_max_age_days: 90        # secretsmanager-secret-unrotated
//	  certificate_warning_days: 30   # acm-certificate-expiring
//	waivers_policy:
//	  max_days: 365                  # how far ahead a waiver may expire
//	waivers:
//	  - id: legacy-bastion
//	    check: ec2-sg-open-admin-port
//	    resources: [sg-0123456789abcdef0]
//	    reason: Vendor support access until the migration
//	    owner: platform-team@example.com
//	    expires: 2026-06-30
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file.
type Config struct {
	Credentials Credentials `yaml:"credentials"`
	// WaiversPolicy bounds the waivers.
	WaiversPolicy WaiversPolicy `yaml:"waivers_policy"`
	// Waivers are the accepted exceptions, in file order; nil when none.
	Waivers []Waiver `yaml:"waivers"`
}

// Credentials holds the thresholds of the unrotated-and-stale-credentials
// family (DESIGN.md section 4), in days unless named otherwise.
type Credentials struct {
	// MaxKeyAgeDays: an active access key older than this fails
	// iam-access-key-unrotated.
	MaxKeyAgeDays int `yaml:"max_key_age_days"`
	// UnusedDays: a password or active key unused for this many days or more
	// fails iam-credential-unused.
	UnusedDays int `yaml:"unused_days"`
	// PasswordMinLength: an account password policy with a shorter minimum
	// length fails iam-password-policy-weak.
	PasswordMinLength int `yaml:"password_min_length"`
	// PasswordReusePrevention: a policy remembering fewer previous passwords
	// fails iam-password-policy-weak.
	PasswordReusePrevention int `yaml:"password_reuse_prevention"`
	// SecretMaxAgeDays: a secret last rotated (or, never rotated, created)
	// longer ago than this fails secretsmanager-secret-unrotated.
	SecretMaxAgeDays int `yaml:"secret_max_age_days"`
	// CertificateWarningDays: an ACM certificate expiring within this many
	// days fails acm-certificate-expiring (medium; expired is high).
	CertificateWarningDays int `yaml:"certificate_warning_days"`
}

// Default returns the configuration used when no file is given: the
// thresholds of DESIGN.md section 4 (and of CIS AWS Foundations).
func Default() Config {
	return Config{Credentials: Credentials{
		MaxKeyAgeDays:           90,
		UnusedDays:              45,
		PasswordMinLength:       14,
		PasswordReusePrevention: 24,
		SecretMaxAgeDays:        90,
		CertificateWarningDays:  30,
	}, WaiversPolicy: WaiversPolicy{MaxDays: DefaultWaiverMaxDays}}
}

// Load reads and validates the configuration file at path. opts (at most
// one) gives the known check IDs and the load time for the waivers. A
// waiver's errors name the file and line ("posture.yaml:12:
// waivers[1].expires: ..."); other errors are prefixed with "config PATH:".
func Load(path string, opts ...Options) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parse(path, data, options(opts))
	if err != nil {
		if onlyParseErrors(err) {
			return Config{}, err
		}
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// onlyParseErrors reports whether err is one or more *ParseError, which
// name the file themselves.
func onlyParseErrors(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !onlyParseErrors(e) {
				return false
			}
		}
		return true
	}
	var pe *ParseError
	return errors.As(err, &pe)
}

// Parse decodes a YAML configuration over the defaults and validates it.
// Unknown fields are errors; an empty document is the defaults. Every error
// names the field, e.g. "credentials.max_key_age_days: must be a positive
// integer, got -3"; a waiver's errors are *ParseError with the line. opts
// (at most one) gives the known check IDs and the load time for the waivers.
func Parse(data []byte, opts ...Options) (Config, error) {
	return parse("", data, options(opts))
}

func parse(file string, data []byte, opts Options) (Config, error) {
	cfg := Default()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("parse YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, nil // empty file: the defaults
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil
	}
	sections := map[string]map[string]*int{
		"credentials": {
			"max_key_age_days":          &cfg.Credentials.MaxKeyAgeDays,
			"unused_days":               &cfg.Credentials.UnusedDays,
			"password_min_length":       &cfg.Credentials.PasswordMinLength,
			"password_reuse_prevention": &cfg.Credentials.PasswordReusePrevention,
			"secret_max_age_days":       &cfg.Credentials.SecretMaxAgeDays,
			"certificate_warning_days":  &cfg.Credentials.CertificateWarningDays,
		},
		"waivers_policy": {
			"max_days": &cfg.WaiversPolicy.MaxDays,
		},
	}
	known := append(sortedKeys(sections), "waivers")
	sort.Strings(known)
	var waivers *yaml.Node
	if root.Kind != yaml.MappingNode {
		return Config{}, fmt.Errorf("line %d: the configuration must be a mapping with a credentials section", root.Line)
	}
	var errs []error
	firstAt := map[string]int{}
	twice := func(name string, line int) bool {
		if first, dup := firstAt[name]; dup {
			errs = append(errs, fmt.Errorf("%s (line %d): given twice (first at line %d); keep one", name, line, first))
			return true
		}
		firstAt[name] = line
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if key.Value != "waivers" && twice(key.Value, key.Line) {
			continue
		}
		if key.Value == "waivers" {
			if waivers != nil {
				errs = append(errs, &ParseError{File: file, Line: key.Line, Field: "waivers", Msg: "field given twice"})
			}
			waivers = val // decoded below, once max_days is known
			continue
		}
		fields, ok := sections[key.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("%s (line %d): unknown field; known: %s", key.Value, key.Line, strings.Join(known, ", ")))
			continue
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			continue
		}
		if val.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s (line %d): must be a mapping of thresholds", key.Value, key.Line))
			continue
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			k, v := val.Content[j], val.Content[j+1]
			name := key.Value + "." + k.Value
			if twice(name, k.Line) {
				continue
			}
			dst, ok := fields[k.Value]
			if !ok {
				errs = append(errs, fmt.Errorf("%s (line %d): unknown field; known: %s", name, k.Line, strings.Join(sortedKeys(fields), ", ")))
				continue
			}
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!str") || err != nil {
				errs = append(errs, fmt.Errorf("%s (line %d): must be a positive integer, got %q", name, v.Line, v.Value))
				continue
			}
			*dst = n
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	list, err := parseWaivers(file, waivers, cfg.WaiversPolicy.MaxDays, opts)
	if err != nil {
		return Config{}, err
	}
	cfg.Waivers = list
	return cfg, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// field is one threshold with its name in the file and its allowed range.
type field struct {
	name     string
	value    int
	min, max int
}

func (c Config) fields() []field {
	cr := c.Credentials
	return []field{
		{"credentials.max_key_age_days", cr.MaxKeyAgeDays, 1, 3650},
		{"credentials.unused_days", cr.UnusedDays, 1, 3650},
		// IAM accepts a minimum length of 6 to 128 characters and remembers
		// 1 to 24 previous passwords.
		{"credentials.password_min_length", cr.PasswordMinLength, 6, 128},
		{"credentials.password_reuse_prevention", cr.PasswordReusePrevention, 1, 24},
		{"credentials.secret_max_age_days", cr.SecretMaxAgeDays, 1, 3650},
		{"credentials.certificate_warning_days", cr.CertificateWarningDays, 1, 3650},
	}
}

// policyFields are the settings of the waivers; unlike thresholds, they do
// not change what a check decides, so scan.thresholds does not list them.
func (c Config) policyFields() []field {
	return []field{{"waivers_policy.max_days", c.WaiversPolicy.MaxDays, 1, 3650}}
}

// Validate reports every value out of its range, each error naming the
// field as written in the file.
func (c Config) Validate() error {
	var errs []error
	for _, f := range append(c.fields(), c.policyFields()...) {
		switch {
		case f.value < 1:
			errs = append(errs, fmt.Errorf("%s: must be a positive integer, got %d", f.name, f.value))
		case f.value < f.min || f.value > f.max:
			errs = append(errs, fmt.Errorf("%s: must be between %d and %d, got %d", f.name, f.min, f.max, f.value))
		}
	}
	return errors.Join(errs...)
}

// Thresholds returns every threshold keyed by its name in the file, as the
// scan.json `scan.thresholds` section records them.
func (c Config) Thresholds() map[string]int {
	out := map[string]int{}
	for _, f := range c.fields() {
		out[f.name] = f.value
	}
	return out
}
