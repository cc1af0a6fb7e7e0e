package accounts

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseIDs(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr []string
	}{
		{in: []string{"111111111111", " 222222222222 ", "111111111111"}, want: []string{"111111111111", "222222222222"}},
		{in: []string{"012345678901"}, want: []string{"012345678901"}},
		{in: []string{"11111111111"}, wantErr: []string{`"11111111111"`, "12 digits"}},
		{in: []string{"1111111111111", "abcdefghijkl", "111111111111"}, wantErr: []string{`"1111111111111"`, `"abcdefghijkl"`}},
		{in: []string{"1111-1111-1111"}, wantErr: []string{`"1111-1111-1111"`}},
		{in: []string{"arn:aws:iam::111111111111:root"}, wantErr: []string{"12 digits"}},
		{in: nil, wantErr: []string{"no account ID"}},
	}
	for _, tt := range tests {
		got, err := ParseIDs(tt.in)
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("ParseIDs(%q) = %v, want an error", tt.in, got)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseIDs(%q) error %q lacks %q", tt.in, err, w)
				}
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseIDs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
