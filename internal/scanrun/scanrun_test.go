package scanrun

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posture-dev/posture/internal/awsenv"
)

func TestListAccounts(t *testing.T) {
	ctx := context.Background()
	caller := awsenv.Caller{AccountID: "111111111111", Partition: "aws"}
	got, err := ListAccounts(ctx, aws.Config{}, caller, Targeting{})
	if err != nil || !reflect.DeepEqual(got, []awsenv.OrgAccount{{ID: "111111111111"}}) {
		t.Errorf("no accounts, no org: %v, %v; want the caller's own account", got, err)
	}
	got, err = ListAccounts(ctx, aws.Config{}, caller, Targeting{Accounts: []string{"222222222222", "333333333333"}, Regions: []string{"eu-west-1"}})
	if err != nil || len(got) != 2 || got[0].ID != "222222222222" || got[1].ID != "333333333333" {
		t.Errorf("explicit accounts: %v, %v", got, err)
	}
	_, err = ListAccounts(ctx, aws.Config{}, caller, Targeting{Accounts: []string{"222222222222"}, Regions: []string{"useast1"}})
	var input *InputError
	if !errors.As(err, &input) {
		t.Errorf("malformed region: err = %v, want an InputError", err)
	}
	_, err = ListAccounts(ctx, aws.Config{}, caller, Targeting{Accounts: []string{"222222222222"}, Regions: []string{"cn-north-1"}})
	if !errors.As(err, &input) {
		t.Errorf("region of another partition: err = %v, want an InputError", err)
	}
}

func TestCommandLine(t *testing.T) {
	got := CommandLine([]string{"posture", "scan", "--regions", "us-east-1,eu-west-1", "--out", "my dir", "--x", "it's", ""})
	want := `posture scan --regions us-east-1,eu-west-1 --out 'my dir' --x 'it'\''s' ''`
	if got != want {
		t.Errorf("CommandLine = %s\nwant %s", got, want)
	}
}

func TestFileSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got, err := FileSHA256(p); err != nil || got != abc {
		t.Errorf("FileSHA256 = %s, %v", got, err)
	}
	if got := BytesSHA256([]byte("abc")); got != abc {
		t.Errorf("BytesSHA256 = %s", got)
	}
	if _, err := FileSHA256(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}
