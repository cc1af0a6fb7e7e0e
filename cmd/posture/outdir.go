package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// defaultOutRoot is where scans go without --out: each in its own folder
// named after its scan ID, with a "latest" link to the newest.
const defaultOutRoot = "posture-output"

// packageFilePatterns are the names of the files a posture package can hold
// (and the temporary files of their atomic writes): what --overwrite removes.
var packageFilePatterns = []string{
	"scan.json", "findings.csv", "findings.ocsf.json", "evidence.xlsx", "report-*.pdf", "diff.json",
	"inventory.json.gz", "manifest.json", "SHA256SUMS", "manifest.sig", ".*.json.*", ".*.csv.*", ".*.xlsx.*",
	".*.pdf.*", ".*.gz.*", ".SHA256SUMS.*", ".*.sig.*",
}

// isPackageFile reports whether name is one a package can hold.
func isPackageFile(name string) bool {
	for _, p := range packageFilePatterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// outPlan is where a scan writes its package, decided and checked before
// the first AWS call, so that an output path that cannot be used does not
// throw a finished scan away.
type outPlan struct {
	// dir is the --out folder; empty for the default layout, where the
	// folder is root/<scan ID>, known only once the scan has run.
	dir  string
	root string
}

// planOutput checks --out before the scan. An explicit folder must be
// creatable and writable, and must not hold another scan's files unless
// overwrite is set, in which case those files (and only those) are removed.
// Without --out, the default root is checked the same way.
func planOutput(out string, explicit, overwrite bool) (outPlan, error) {
	if !explicit {
		if err := ensureWritableDir(defaultOutRoot); err != nil {
			return outPlan{}, usagef("default output folder: %w (choose one with --out DIR)", err)
		}
		return outPlan{root: defaultOutRoot}, nil
	}
	if strings.TrimSpace(out) == "" {
		return outPlan{}, usagef("--out: empty path (omit --out for %s/<scan-id>/)", defaultOutRoot)
	}
	if err := ensureWritableDir(out); err != nil {
		return outPlan{}, usagef("--out: %w", err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return outPlan{}, usagef("--out: %w", err)
	}
	var pkg, other []string
	for _, e := range entries {
		if isPackageFile(e.Name()) && !e.IsDir() {
			pkg = append(pkg, e.Name())
		} else {
			other = append(other, e.Name())
		}
	}
	sort.Strings(pkg)
	sort.Strings(other)
	switch {
	case len(other) > 0:
		return outPlan{}, usagef("--out %s holds files that are not part of a posture package (%s): choose an empty or new folder",
			out, strings.Join(firstN(other, 5), ", "))
	case len(pkg) > 0 && !overwrite:
		return outPlan{}, usagef("--out %s already holds a scan's files (%s): choose another folder, or pass --overwrite to replace them",
			out, strings.Join(firstN(pkg, 5), ", "))
	}
	for _, name := range pkg {
		if err := os.Remove(filepath.Join(out, name)); err != nil {
			return outPlan{}, fmt.Errorf("--overwrite: remove %s: %w", filepath.Join(out, name), err)
		}
	}
	return outPlan{dir: out}, nil
}

// ensureWritableDir creates dir (mode 0700) when missing and proves that a
// file can be created in it.
func ensureWritableDir(dir string) error {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".posture-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the *fs.PathError's own path, which the message names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// folder is the folder the scan with this ID writes to.
func (p outPlan) folder(scanID string) string {
	if p.dir != "" {
		return p.dir
	}
	return filepath.Join(p.root, scanID)
}

// finish points root/latest at the scan's folder in the default layout; a
// failure is reported, not fatal (the package is written).
func (p outPlan) finish(scanID string) error {
	if p.dir != "" {
		return nil
	}
	link := filepath.Join(p.root, "latest")
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(scanID, tmp); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(append([]string{}, list[:n]...), fmt.Sprintf("and %d more", len(list)-n))
}
