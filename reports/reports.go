// Package reports renders a scan: scan.json (the contract of DESIGN.md
// section 3), CSV, and the terminal summary. One file per format; every
// writer renders results in the scan's deterministic order.
package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/posture-dev/posture/internal/model"
)

// Writer renders a scan in one format.
type Writer interface {
	// Format is the name used with --format, e.g. "csv".
	Format() string
	// FileName is the file the format is written to inside the output directory.
	FileName() string
	Write(w io.Writer, scan *model.Scan) error
}

// Writers returns every file format, by name.
func Writers() map[string]Writer {
	return map[string]Writer{
		"json": JSON{},
		"csv":  CSV{},
	}
}

// ParseFormats validates a --format list. scan.json is always written, so
// "json" is added when missing.
func ParseFormats(list []string) ([]Writer, error) {
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
			return nil, fmt.Errorf("unknown format %q (known: json, csv)", f)
		}
		seen[f] = true
		out = append(out, w)
	}
	return out, nil
}

// WriteDir writes the scan in each format into dir, creating dir (and any
// missing parent) with mode 0700; an existing directory keeps its mode. Each
// file is written to a temporary file with mode 0600 and renamed into place,
// so a reader never sees half a report. It returns the paths written.
func WriteDir(dir string, scan *model.Scan, writers []Writer) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create output directory %s: %w", dir, err)
	}
	var paths []string
	for _, w := range writers {
		path := filepath.Join(dir, w.FileName())
		if err := writeFile(path, func(f io.Writer) error { return w.Write(f, scan) }); err != nil {
			return paths, fmt.Errorf("write %s report %s: %w", w.Format(), path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
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
