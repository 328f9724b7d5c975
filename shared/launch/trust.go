package launch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Ownership and permission rules, in the spirit of OpenSSH's StrictModes,
// written once for everything whose content decides what secrethost runs:
// whoever can write a plugin binary or a configuration file, or a directory
// on the way to it, can make secrethost run code of their choosing with its
// tokens. So:
//
//   - the file must be owned by root or by the user running secrethost, and
//     writable by neither group nor others;
//   - every directory above it, up to /, must be owned by root or that user
//     and writable by neither group nor others, unless it has the sticky
//     bit, which stops others from renaming or removing what is not theirs
//     (so /tmp/x/config.hcl is fine, /tmp itself is not);
//   - for a plugin (Locate), stricter: the plugin directory and every
//     directory between it and the binary get no sticky exception, since
//     anyone may add a plugin to a sticky directory.
//
// The directories checked are symlink-free, so they are the ones the kernel
// walks when it opens or executes the file.

// TrustError is a refusal by these rules. Reason names the path, why it is
// unsafe and the fix; Error prefixes it with ErrUnsafe, which Is matches.
type TrustError struct{ Reason string }

func (e *TrustError) Error() string { return ErrUnsafe.Error() + ": " + e.Reason }
func (e *TrustError) Unwrap() error { return ErrUnsafe }

func refuse(format string, a ...any) error { return &TrustError{Reason: fmt.Sprintf(format, a...)} }

// CheckTrusted applies the file rules to the file at path: the file, any
// symlink on the way to it (its owner could point it elsewhere), and every
// directory above it, both as given and after resolving symlinks, with the
// sticky exception. opened, if not nil, is the fstat of the already opened
// file, so the check and a later read see the same file; otherwise the file
// is looked up by path. For configuration files; Locate applies the
// stricter plugin rules.
func CheckTrusted(path string, opened fs.FileInfo) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return err
	}
	st := opened
	if st == nil {
		if st, err = os.Lstat(real); err != nil {
			return err
		}
	}
	if !st.Mode().IsRegular() {
		return refuse("%s is not a regular file", shellQuote(real))
	}
	if err := checkFileAs(real, "file", "change it", st); err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			if err := checkOwner(p, "symlink", "point it elsewhere", li); err != nil {
				return err
			}
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if err := checkDirs("", filepath.Dir(real), "replace the file"); err != nil {
		return err
	}
	if real != abs {
		return checkDirs("", filepath.Dir(abs), "replace the file")
	}
	return nil
}

const plugHarm = "replace the plugin"

// checkFile checks the binary at real, a symlink-free path.
func checkFile(real string, st fs.FileInfo) error {
	return checkFileAs(real, "plugin binary", plugHarm, st)
}

func checkFileAs(real, what, harm string, st fs.FileInfo) error {
	if err := checkOwner(real, what, harm, st); err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return refuse("%s %s is writable by %s (mode %04o), so they could %s; run `chmod go-w %s`",
			what, shellQuote(real), writers(perm), perm, harm, shellQuote(real))
	}
	return nil
}

// checkDirs checks binDir (where the file really lives; for a plugin,
// pluginDir or a directory below it) and every directory above it: strictly
// up to and including pluginDir, with the sticky exception above it. An
// empty pluginDir: the sticky exception everywhere.
func checkDirs(pluginDir, binDir, harm string) error {
	strict := pluginDir != ""
	for dir := binDir; ; dir = filepath.Dir(dir) {
		if err := checkDir(dir, strict, dir == pluginDir, harm); err != nil {
			return err
		}
		if dir == pluginDir {
			strict = false
		}
		if filepath.Dir(dir) == dir {
			return nil
		}
	}
}

func checkDir(dir string, strict, isPluginDir bool, harm string) error {
	what := "directory"
	switch {
	case isPluginDir:
		what = "plugin directory"
	case !strict && harm == plugHarm:
		what = "directory (above the plugin directory)"
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	if !st.IsDir() {
		return refuse("%s %s is not a directory", what, dir)
	}
	if err := checkOwner(dir, what, harm, st); err != nil {
		return err
	}
	perm := st.Mode().Perm()
	if perm&0o022 == 0 {
		return nil
	}
	sticky := st.Mode()&fs.ModeSticky != 0
	if sticky && !strict {
		return nil
	}
	q := shellQuote(dir)
	if sticky {
		return refuse("%s %s is writable by %s (mode %04o); the sticky bit is not enough here, since anyone may add a plugin to it; run `chmod go-w,-t %s`, or put the plugins in a directory of their own",
			what, dir, writers(perm), perm|0o1000, q)
	}
	fix := fmt.Sprintf("run `chmod go-w %s`", q)
	if !strict {
		fix += fmt.Sprintf(" (or `chmod +t %s` if it must stay shared)", q)
	}
	return refuse("%s %s is writable by %s (mode %04o), so they could %s; %s",
		what, dir, writers(perm), perm, harm, fix)
}

func writers(perm fs.FileMode) string {
	switch {
	case perm&0o022 == 0o022:
		return "its group and by others"
	case perm&0o002 != 0:
		return "others"
	default:
		return "its group"
	}
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
