//go:build !unix

package config

import "io/fs"

// fileOwner is unknown on this platform; only the mode is checked.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
