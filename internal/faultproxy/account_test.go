package faultproxy

import "testing"

func TestAccountOfKey(t *testing.T) {
	for key, want := range map[string]string{
		// Keys moto's AssumeRole builds (moto.iam.utils.generate_access_key_id_from_account_id).
		"ASIARZPUZDIKK7X4E2MH": "123456789012",
		"ASIAQAAAAAAAWV5XUB2R": "000000000001",
		"ASIA6RVFFB772TFRDXCK": "999999999999",
		"ASIAU4VS42PNIOALG7X2": "336456373210",
		// A real AWS key, from the published decoding of access key IDs.
		"ASIAY34FZKBOKMUTVV7A": "609629065308",
		"testing":              "",
		"AKIA1234":             "",
		"AROARZPUZDIKK7X4E2MH": "",
		"ASIA0000000000000000": "",
	} {
		if got := AccountOfKey(key); got != want {
			t.Errorf("AccountOfKey(%q) = %q, want %q", key, got, want)
		}
	}
}
