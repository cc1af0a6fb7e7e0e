package model

import "testing"

func TestFamilyRank(t *testing.T) {
	want := []Family{FamilyPublicExposure, FamilyOutsideVPC, FamilyUnencrypted, FamilyCredentials}
	for i, f := range Families() {
		if f != want[i] {
			t.Fatalf("Families()[%d] = %s, want %s", i, f, want[i])
		}
		if f.Rank() != i+1 {
			t.Errorf("%s.Rank() = %d, want %d", f, f.Rank(), i+1)
		}
	}
	if got := Family("quantum").Rank(); got != 5 {
		t.Errorf("unknown family ranks %d, want 5 (after every known one)", got)
	}
}

func TestSeveritiesIsAFreshCopyWorstFirst(t *testing.T) {
	s := Severities()
	for i := 1; i < len(s); i++ {
		if s[i-1].Rank() != s[i].Rank()+1 {
			t.Errorf("Severities() = %v: not worst to mildest", s)
		}
	}
	if len(s) != 5 || s[0] != SeverityCritical || s[4] != SeverityInfo {
		t.Errorf("Severities() = %v", s)
	}
	s[0] = "changed"
	if Severities()[0] != SeverityCritical {
		t.Error("a caller's change to Severities() reached the next caller")
	}
}
