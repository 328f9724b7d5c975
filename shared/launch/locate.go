package launch

// Locating a plugin: Locate finds a plugin binary and decides whether it may
// run: only regular, executable files inside the plugin directory, reached
// without leaving it through a symlink, and neither they nor any directory
// above them replaceable by anyone but root or the user running secrethost
// (see trust.go). Everything here happens before a single byte of the plugin
// is executed. Which directory, and which pin, is the caller's policy.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrOutsideDir: the plugin path escapes the plugin directory.
	ErrOutsideDir = errors.New("plugin is outside the plugin directory")
	// ErrNotFound: no such plugin binary.
	ErrNotFound = errors.New("plugin binary not found")
	// ErrUnsafe: the file is not a regular executable, or someone other
	// than root or the current user may replace it or a directory above it.
	ErrUnsafe = errors.New("refused as unsafe")
	// ErrBadPin: the sha256 pin is not 64 hex digits.
	ErrBadPin = errors.New("invalid sha256 pin")
)

// Locate returns the absolute, symlink-free path of plugin `name` inside
// dir, after checking that it may be executed. name is a file name, or an
// absolute path that must lie inside dir.
func Locate(dir, name string) (string, error) {
	if dir == "" {
		return "", errors.New("no plugin directory configured")
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("plugin directory %q: %w", dir, err)
	}
	realDir, err := filepath.EvalSymlinks(absDir)
	if err != nil {
		return "", fmt.Errorf("plugin directory %q: %w", dir, err)
	}

	var candidate string
	switch {
	case filepath.IsAbs(name):
		candidate = filepath.Clean(name)
	case name == "" || strings.ContainsRune(name, filepath.Separator) || name == "." || name == "..":
		return "", fmt.Errorf("%w: %q must be a file name inside %s", ErrOutsideDir, name, absDir)
	default:
		candidate = filepath.Join(absDir, name)
	}
	if !within(absDir, candidate) && !within(realDir, candidate) {
		return "", fmt.Errorf("%w: %s is not inside %s", ErrOutsideDir, candidate, absDir)
	}

	// Resolve symlinks and check again: a link inside the directory must
	// not lead to a binary outside it.
	real, err := filepath.EvalSymlinks(candidate)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s (build it with `make build`, or set plugin_dir)", ErrNotFound, candidate)
	}
	if err != nil {
		return "", fmt.Errorf("plugin %s: %w", candidate, err)
	}
	if !within(realDir, real) {
		return "", fmt.Errorf("%w: %s resolves to %s", ErrOutsideDir, candidate, real)
	}

	st, err := os.Lstat(real)
	if err != nil {
		return "", fmt.Errorf("plugin %s: %w", real, err)
	}
	mode := st.Mode()
	switch {
	case !mode.IsRegular():
		return "", fmt.Errorf("%w: plugin %s is not a regular file", ErrUnsafe, real)
	case mode.Perm()&0o111 == 0:
		return "", fmt.Errorf("%w: plugin %s is not executable; run `chmod +x %s`", ErrUnsafe, real, real)
	}
	if err := checkFile(real, st); err != nil {
		return "", err
	}
	if err := checkDirs(realDir, filepath.Dir(real), plugHarm); err != nil {
		return "", err
	}
	return real, nil
}

// ParsePin decodes a sha256 pin; the empty pin means "not pinned".
func ParsePin(pin string) ([]byte, error) {
	if pin == "" {
		return nil, nil
	}
	sum, err := hex.DecodeString(strings.ToLower(pin))
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("%w: %q is not 64 hex digits", ErrBadPin, pin)
	}
	return sum, nil
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
