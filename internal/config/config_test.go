package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAppliesDefaultsAndOverrides(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(*Config)
	}{
		{name: "empty file", yaml: ""},
		{name: "comment only", yaml: "# nothing\n"},
		{name: "null document", yaml: "~\n"},
		{name: "empty section", yaml: "credentials:\n"},
		{name: "one field", yaml: "credentials:\n  max_key_age_days: 120\n", want: func(c *Config) { c.Credentials.MaxKeyAgeDays = 120 }},
		{name: "every field", yaml: `credentials:
  max_key_age_days: 1
  unused_days: 2
  password_min_length: 6
  password_reuse_prevention: 1
  secret_max_age_days: 5
  certificate_warning_days: 6
`, want: func(c *Config) {
			c.Credentials = Credentials{MaxKeyAgeDays: 1, UnusedDays: 2, PasswordMinLength: 6, PasswordReusePrevention: 1, SecretMaxAgeDays: 5, CertificateWarningDays: 6}
		}},
		{name: "quoted number", yaml: "credentials:\n  unused_days: \"60\"\n", want: func(c *Config) { c.Credentials.UnusedDays = 60 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			if tt.want != nil {
				tt.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"credentials:\n  max_key_age_days: -3\n", "credentials.max_key_age_days: must be a positive integer, got -3"},
		{"credentials:\n  unused_days: 0\n", "credentials.unused_days: must be a positive integer, got 0"},
		{"credentials:\n  unused_days: abc\n", `credentials.unused_days (line 2): must be a positive integer, got "abc"`},
		{"credentials:\n  secret_max_age_days: 9.5\n", `credentials.secret_max_age_days (line 2): must be a positive integer, got "9.5"`},
		{"credentials:\n  certificate_warning_days: [1]\n", `credentials.certificate_warning_days (line 2): must be a positive integer`},
		{"credentials:\n  password_min_length: 5\n", "credentials.password_min_length: must be between 6 and 128, got 5"},
		{"credentials:\n  password_reuse_prevention: 25\n", "credentials.password_reuse_prevention: must be between 1 and 24, got 25"},
		{"credentials:\n  max_key_age: 90\n", "credentials.max_key_age (line 2): unknown field; known: certificate_warning_days, max_key_age_days"},
		{"thresholds:\n  x: 1\n", "thresholds (line 1): unknown field; known: credentials"},
		{"credentials: 5\n", "credentials (line 1): must be a mapping of thresholds"},
		{"- a\n", "the configuration must be a mapping"},
		{"credentials: [\n", "parse YAML"},
		{"credentials:\n  max_key_age_days: 90\n  max_key_age_days: 30\n", "credentials.max_key_age_days (line 3): given twice (first at line 2); keep one"},
		{"credentials:\n  max_key_age_days: 90\ncredentials:\n  unused_days: 30\n", "credentials (line 3): given twice (first at line 1); keep one"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.yaml, err, tt.want)
		}
	}
	// Every bad field is reported, not only the first.
	_, err := Parse([]byte("credentials:\n  max_key_age_days: -1\n  unused_days: -2\n"))
	if err == nil || !strings.Contains(err.Error(), "max_key_age_days") || !strings.Contains(err.Error(), "unused_days") {
		t.Errorf("two bad fields: %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posture.yaml")
	if err := os.WriteFile(path, []byte("credentials:\n  secret_max_age_days: 365\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.Credentials.SecretMaxAgeDays != 365 || cfg.Credentials.MaxKeyAgeDays != 90 {
		t.Fatalf("Load = %+v, %v", cfg, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("credentials:\n  unused_days: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+": credentials.unused_days") {
		t.Errorf("invalid file: %v", err)
	}
}

// TestExampleFileIsTheDefaults keeps the example shipped in the repository
// loadable and equal to the defaults it documents.
func TestExampleFileIsTheDefaults(t *testing.T) {
	cfg, err := Load("../../posture.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("example = %+v, defaults %+v", cfg, Default())
	}
}

func TestThresholds(t *testing.T) {
	got := Default().Thresholds()
	want := map[string]int{
		"credentials.max_key_age_days": 90, "credentials.unused_days": 45, "credentials.password_min_length": 14,
		"credentials.password_reuse_prevention": 24, "credentials.secret_max_age_days": 90, "credentials.certificate_warning_days": 30,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Thresholds = %v", got)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}
