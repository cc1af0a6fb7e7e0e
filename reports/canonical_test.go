package reports

import (
	"bytes"
	"testing"
)

type openingEvidence struct {
	SecurityGroup string `json:"security_group"`
	Port          int    `json:"port"`
	Source        string `json:"source"`
}

// A scan whose evidence holds structs re-encodes differently once decoded;
// after CanonicalEvidence, scan.json and the workbook rendered now equal
// those rendered later from the decoded file.
func TestCanonicalEvidence(t *testing.T) {
	scan := evidenceScan()
	scan.Results[0].Evidence = map[string]any{"exposed": []openingEvidence{{SecurityGroup: "sg-1", Port: 3306, Source: "0.0.0.0/0"}}, "count": 1}
	decoded, err := DecodeScan(encode(t, scan))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(encode(t, decoded), encode(t, scan)) {
		t.Fatal("fixture does not show the problem: struct evidence re-encodes identically")
	}
	if err := CanonicalEvidence(scan); err != nil {
		t.Fatal(err)
	}
	first := encode(t, scan)
	decoded, err = DecodeScan(first)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, decoded), first) {
		t.Error("scan.json of a canonical scan changes when decoded and re-encoded")
	}
	if !bytes.Equal(renderXLSX(t, Input{Scan: scan}), renderXLSX(t, Input{Scan: decoded})) {
		t.Error("the workbook of a canonical scan differs from the one rendered from its scan.json")
	}
}
