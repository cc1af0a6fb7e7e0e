// Package reports renders a scan: scan.json (the contract of DESIGN.md
// section 3), CSV, and the terminal summary. One file per format; every
// writer renders results in the scan's deterministic order.
package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// Input is what every format renders. Every writer is a function of Input
// alone (never of live AWS data or the clock), so `posture report`
// re-renders an earlier scan byte for byte.
type Input struct {
	Scan *model.Scan
	// Diff is the comparison with the baseline scan; nil when the scan had
	// none.
	Diff *model.Diff
	// ScanSHA256 is, when not empty, the SHA-256 (hex) of Scan's scan.json,
	// as JSON{} writes it: the formats that print it use it instead of
	// encoding the scan again. WritePackage fills it.
	ScanSHA256 string
}

// scanHash is the SHA-256 of the scan.json of in.Scan: in.ScanSHA256 when
// given, else computed.
func (in Input) scanHash() (string, error) {
	if in.ScanSHA256 != "" {
		return in.ScanSHA256, nil
	}
	return scanSHA256(in.Scan)
}

// File is one file of a format: its name inside the output directory and
// the function that renders it.
type File struct {
	Name   string
	Render func(w io.Writer) error
}

// Writer renders a scan in one format, as one or more files.
type Writer interface {
	// Format is the name used with --format, e.g. "csv".
	Format() string
	// Files lists the files the format writes for in; none when the format
	// has nothing to say about it.
	Files(in Input) []File
}

// Writers returns every file format, by name.
func Writers() map[string]Writer {
	return map[string]Writer{
		"json": JSON{},
		"csv":  CSV{},
		"diff": Diff{},
		"ocsf": OCSF{},
		"xlsx": XLSX{},
		"pdf":  PDF{},
	}
}

// FormatNames lists the formats of Writers, sorted.
func FormatNames() []string {
	names := make([]string, 0, len(Writers()))
	for name := range Writers() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ParseFormats validates a --format list. scan.json is always written, so
// "json" is added when missing. An empty list selects every format.
func ParseFormats(list []string) ([]Writer, error) {
	if len(list) == 0 {
		list = FormatNames()
	}
	all := Writers()
	seen := map[string]bool{"json": true}
	out := []Writer{all["json"]}
	for _, f := range list {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" || seen[f] {
			continue
		}
		w, ok := all[f]
		if !ok {
			return nil, fmt.Errorf("unknown format %q (known: %s)", f, strings.Join(FormatNames(), ", "))
		}
		seen[f] = true
		out = append(out, w)
	}
	return out, nil
}

// WriteDir writes every file of each format into dir, creating dir (and any
// missing parent) with mode 0700; an existing directory keeps its mode. Each
// file is written to a temporary file with mode 0600 and renamed into place,
// so a reader never sees half a report. It returns the paths written.
func WriteDir(dir string, in Input, writers []Writer) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create output directory %s: %w", dir, err)
	}
	var paths []string
	for _, w := range writers {
		for _, f := range w.Files(in) {
			path := filepath.Join(dir, f.Name)
			if err := writeFile(path, f.Render); err != nil {
				return paths, fmt.Errorf("write %s report %s: %w", w.Format(), path, err)
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// WriteFile writes one file atomically with mode 0600, creating its
// directory (mode 0700) when missing: what `posture diff --out FILE` uses.
func WriteFile(path string, render func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create directory of %s: %w", path, err)
	}
	if err := writeFile(path, render); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeFile(path string, render func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := render(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
