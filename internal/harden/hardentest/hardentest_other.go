//go:build !linux

package hardentest

import (
	"os/exec"
	"testing"
)

// Start: see the Linux version.
type Start func(t *testing.T, cmd *exec.Cmd)

// NoCoreFile checks nothing outside Linux, where harden does nothing.
func NoCoreFile(t *testing.T, _ string, _, _ []string, _ Start) {
	t.Skip("Linux only")
}
