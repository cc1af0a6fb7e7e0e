package emulator

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ErrFaketimeNotFound is returned (wrapped) by LocateFaketime when
// libfaketime is not installed.
var ErrFaketimeNotFound = errors.New("libfaketime not found")

// faketimeLib is the library's file name in Debian's faketime package.
const faketimeLib = "libfaketime.so.1"

// LocateFaketime returns the path of libfaketime.so.1: $FAKETIME_LIB if
// set, else Debian's multiarch location (/usr/lib/<triplet>/faketime/), else
// /usr/lib/faketime or /usr/local/lib/faketime, else the lib/faketime
// directory beside the `faketime` command on PATH. When none exists the
// error wraps ErrFaketimeNotFound and says how to install it.
func LocateFaketime() (string, error) {
	if p := os.Getenv("FAKETIME_LIB"); p != "" {
		if isFile(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: FAKETIME_LIB=%q is not a file", ErrFaketimeNotFound, p)
	}
	candidates, _ := filepath.Glob("/usr/lib/*-linux-gnu*/faketime/" + faketimeLib)
	candidates = append(candidates, "/usr/lib/faketime/"+faketimeLib, "/usr/local/lib/faketime/"+faketimeLib, "/usr/lib64/faketime/"+faketimeLib)
	if bin, err := exec.LookPath("faketime"); err == nil {
		prefix := filepath.Dir(filepath.Dir(bin))
		more, _ := filepath.Glob(filepath.Join(prefix, "lib", "*", "faketime", faketimeLib))
		candidates = append(candidates, filepath.Join(prefix, "lib", "faketime", faketimeLib))
		candidates = append(candidates, more...)
	}
	for _, c := range candidates {
		if isFile(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: install it with `apt-get install faketime` (Debian, Ubuntu) or set FAKETIME_LIB", ErrFaketimeNotFound)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// clock is the time file of a moto process run under libfaketime.
type clock struct {
	dir, file string
}

// newClock creates a time file holding "+0" (the real time) and returns the
// environment that makes a process read its clock offset from it at most
// once per cacheDuration. (FAKETIME_NO_CACHE, reading it on every clock call,
// makes moto about ten times slower: a demo scan took 17 s instead of
// 1.4 s.) set waits out the cache so that a new offset applies to the next
// request. The monotonic clock is left alone, so timeouts inside moto keep
// working while the wall clock moves.
func newClock(lib string) (*clock, []string, error) {
	dir, err := os.MkdirTemp("", "posture-faketime-")
	if err != nil {
		return nil, nil, fmt.Errorf("create the faketime directory: %w", err)
	}
	c := &clock{dir: dir, file: filepath.Join(dir, "offset")}
	if err := c.set(0); err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	env := []string{
		"LD_PRELOAD=" + lib,
		"FAKETIME_TIMESTAMP_FILE=" + c.file,
		fmt.Sprintf("FAKETIME_CACHE_DURATION=%d", int(cacheDuration/time.Second)),
		"FAKETIME_DONT_FAKE_MONOTONIC=1",
	}
	return c, env, nil
}

// cacheDuration is how long libfaketime keeps the offset it read.
const cacheDuration = time.Second

// set writes the offset, in whole seconds ("+0", "-10368000"), and returns
// once the process must have read it (libfaketime counts the cache in whole
// seconds, so one cache period is not always enough).
func (c *clock) set(offset time.Duration) error {
	// Write then rename, so that moto never reads a half-written file.
	tmp := c.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%+d\n", int64(offset/time.Second))), 0o600); err != nil {
		return fmt.Errorf("write the faketime offset: %w", err)
	}
	if err := os.Rename(tmp, c.file); err != nil {
		return fmt.Errorf("write the faketime offset: %w", err)
	}
	time.Sleep(2*cacheDuration + 100*time.Millisecond)
	return nil
}

// ErrNoFakeClock is returned by SetClockOffset on a server started without
// Options.FakeTime.
var ErrNoFakeClock = errors.New("the emulator was not started with FakeTime")

// SetClockOffset moves the emulator's wall clock by offset from the real
// time (negative: into the past) for every request from now on; 0 restores
// the real time. Resources created while the offset is -120 days carry
// creation dates 120 days old. The server must have been started with
// Options.FakeTime.
func (s *Server) SetClockOffset(offset time.Duration) error {
	if s.clock == nil {
		return ErrNoFakeClock
	}
	return s.clock.set(offset)
}

// FakeTime reports whether the server runs under libfaketime.
func (s *Server) FakeTime() bool { return s.clock != nil }
