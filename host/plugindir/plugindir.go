// Package plugindir is the host's policy for where plugins come from: the
// default plugin directory, and hiding paths read with env() or file() from
// error messages. The mechanism (Locate, the ownership rules, the pin) is
// shared/launch, which the conformance kit uses too.
package plugindir

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/secrethost/secrethost/shared/launch"
)

// The sentinels of shared/launch, for errors.Is.
var (
	ErrOutsideDir = launch.ErrOutsideDir
	ErrNotFound   = launch.ErrNotFound
	ErrUnsafe     = launch.ErrUnsafe
	ErrBadPin     = launch.ErrBadPin
)

// DefaultDir is "<dir of the running executable>/plugins", where `make
// build` and the Docker image put plugins next to bin/secrethost.
func DefaultDir() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the secrethost executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Join(filepath.Dir(exe), "plugins"), nil
}
