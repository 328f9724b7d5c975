package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Ownership and permission rules, in the spirit of OpenSSH's StrictModes:
// whoever can write the plugin binary, the directory it lives in, or any
// directory above that, can make secrethost run code of their choosing with
// its tokens. So:
//
//   - the binary, the plugin directory and the directory the binary really
//     lives in (and any directory between those two) must be owned by root
//     or by the user running secrethost, and writable by neither group nor
//     others, sticky bit or not;
//   - every directory above them, up to /, must be owned by root or that
//     user and writable by neither group nor others, unless it has the
//     sticky bit, which stops others from renaming or removing what is not
//     theirs (so /tmp/x/plugins is fine, /tmp itself is not).
//
// All paths are symlink-free, so the directories checked are the ones the
// kernel walks when it executes the binary.

// CheckTrusted returns an error (ErrUnsafe) unless the file at path and
// every directory above it can be changed or replaced only by root or the
// current user: the file owned by one of them and writable by neither group
// nor others, each directory above owned by one of them and writable by
// neither group nor others unless it has the sticky bit. Symlinks are
// resolved first. For files whose content decides what secrethost trusts,
// such as its configuration (Locate applies the stricter plugin rules).
func CheckTrusted(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return err
	}
	st, err := os.Lstat(real)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafe, real)
	}
	if err := checkFileAs(real, "file", "change it", st); err != nil {
		return err
	}
	return checkDirs("", filepath.Dir(real), "replace the file")
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
		return fmt.Errorf("%w: %s %s is writable by %s (mode %04o), so they could %s; run `chmod go-w %s`",
			ErrUnsafe, what, real, writers(perm), perm, harm, real)
	}
	return nil
}

// checkDirs checks binDir (where the binary really lives, pluginDir or a
// directory below it) and every directory above it: strictly up to and
// including pluginDir, with the sticky exception above it. An empty
// pluginDir: the sticky exception everywhere.
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
		return fmt.Errorf("%w: %s %s is not a directory", ErrUnsafe, what, dir)
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
	if sticky {
		return fmt.Errorf("%w: %s %s is writable by %s (mode %04o); the sticky bit is not enough here, since anyone may add a plugin to it; run `chmod go-w,-t %s`, or put the plugins in a directory of their own",
			ErrUnsafe, what, dir, writers(perm), perm|0o1000, dir)
	}
	fix := fmt.Sprintf("run `chmod go-w %s`", dir)
	if !strict {
		fix += fmt.Sprintf(" (or `chmod +t %s` if it must stay shared)", dir)
	}
	return fmt.Errorf("%w: %s %s is writable by %s (mode %04o), so they could %s; %s",
		ErrUnsafe, what, dir, writers(perm), perm, harm, fix)
}

func writers(perm fs.FileMode) string {
	switch {
	case perm&0o022 == 0o022:
		return "its group and others"
	case perm&0o002 != 0:
		return "others"
	default:
		return "its group"
	}
}
