package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrUntrustedFile: the configuration file may be changed by someone other
// than root or the user running secrethost, so it is not used.
var ErrUntrustedFile = errors.New("configuration file may be changed by others")

// readTrusted reads the configuration file at path, like readLimited, after
// checking on the opened file (so the check and the read see the same file)
// that only root or the current user can change it. The error names the
// reason and the fix; the caller names the file.
func readTrusted(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, bareErr(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, bareErr(err)
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if err := checkTrusted(path, st); err != nil {
		return nil, err
	}
	if err := checkDirs(path); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, bareErr(err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// checkTrusted refuses a file writable by its group or by others, or owned
// by anyone but root or the current user: whoever can change the
// configuration chooses which programs secrethost runs and where it sends
// credentials.
func checkTrusted(path string, st fs.FileInfo) error {
	perm := st.Mode().Perm()
	var who []string
	if perm&0o020 != 0 {
		who = append(who, "its group")
	}
	if perm&0o002 != 0 {
		who = append(who, "others")
	}
	if len(who) > 0 {
		return &untrustedError{fmt.Sprintf(
			"refused: it is writable by %s (mode %04o), who could choose which plugins run and where credentials go; run `chmod go-w %s`",
			strings.Join(who, " and by "), perm, shellQuote(path))}
	}
	if uid, ok := fileOwner(st); ok && uid != 0 && uid != os.Geteuid() {
		return &untrustedError{fmt.Sprintf(
			"refused: it is owned by uid %d, neither root nor the user running secrethost (uid %d), so its owner could choose which plugins run and where credentials go; run `chown %d %s` (or `chown root`)",
			uid, os.Geteuid(), os.Geteuid(), shellQuote(path))}
	}
	return nil
}

// checkDirs applies the same rule to every directory above the file, as
// given and after resolving symlinks: whoever may write one of them could
// put another file in its place. A directory with the sticky bit (/tmp)
// may be writable by others, since they cannot rename or remove what is
// not theirs.
func checkDirs(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil // the caller reports it
	}
	// A symlink on the way (the file itself included) can be repointed by
	// its owner, whatever its mode.
	for p := abs; ; p = filepath.Dir(p) {
		if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			if uid, ok := fileOwner(li); ok && uid != 0 && uid != os.Geteuid() {
				return &untrustedError{fmt.Sprintf(
					"refused: the symlink %s on its path is owned by uid %d, neither root nor the user running secrethost (uid %d), who could point it elsewhere; use a path without it",
					p, uid, os.Geteuid())}
			}
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	chains := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		chains = append(chains, real)
	}
	seen := map[string]bool{}
	for _, p := range chains {
		for dir := filepath.Dir(p); !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			st, err := os.Stat(dir)
			if err != nil {
				break
			}
			perm := st.Mode().Perm()
			if perm&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
				var who []string
				if perm&0o020 != 0 {
					who = append(who, "its group")
				}
				if perm&0o002 != 0 {
					who = append(who, "others")
				}
				return &untrustedError{fmt.Sprintf(
					"refused: the directory %s holding it is writable by %s (mode %04o), who could replace the file; run `chmod go-w %s` or move the file",
					dir, strings.Join(who, " and by "), perm, shellQuote(dir))}
			}
			if uid, ok := fileOwner(st); ok && uid != 0 && uid != os.Geteuid() {
				return &untrustedError{fmt.Sprintf(
					"refused: the directory %s holding it is owned by uid %d, neither root nor the user running secrethost (uid %d), who could replace the file; move the file, or run `chown %d %s`",
					dir, uid, os.Geteuid(), os.Geteuid(), shellQuote(dir))}
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return nil
}

type untrustedError struct{ msg string }

func (e *untrustedError) Error() string { return e.msg }
func (e *untrustedError) Unwrap() error { return ErrUntrustedFile }

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
