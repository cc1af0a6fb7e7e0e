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
