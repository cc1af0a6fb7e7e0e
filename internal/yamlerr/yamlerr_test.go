package yamlerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{File: "posture.yaml", Line: 12, Field: "waivers[1].expires", Msg: "want a date"}, "posture.yaml:12: waivers[1].expires: want a date"},
		{Error{Line: 12, Field: "waivers[1].expires", Msg: "want a date"}, "line 12: waivers[1].expires: want a date"},
		{Error{File: "my.yaml", Msg: "empty catalogue"}, "my.yaml: empty catalogue"},
		{Error{File: "my.yaml", Line: 3, Msg: "not valid YAML"}, "my.yaml:3: not valid YAML"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorsAsThroughWrapping(t *testing.T) {
	err := fmt.Errorf("load: %w", errors.Join(&Error{File: "f", Line: 1, Field: "x", Msg: "bad"}))
	var e *Error
	if !errors.As(err, &e) || e.Field != "x" {
		t.Errorf("errors.As = %v, %+v", errors.As(err, &e), e)
	}
}
