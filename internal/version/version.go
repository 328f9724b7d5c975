// Package version is the one place secrethost's release version lives: the
// host's `secrethost version` and every plugin's GetInfo report it. `make
// build` stamps it from `git describe` (or VERSION=...):
//
//	-ldflags "-X github.com/secrethost/secrethost/internal/version.Version=v1.2.3"
//
// Unstamped builds report the module version from the build information,
// else "dev". It is never empty: the 1Password SDK refuses to sign in
// without an integration version.
package version

import "runtime/debug"

// Version is set at build time; see the package documentation.
var Version = ""

// String returns the version: the stamped one, else the module version
// from the build information, else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Stamped returns the version set at build time, or "" when none was.
func Stamped() string { return Version }
