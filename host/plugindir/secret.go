package plugindir

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/secrethost/secrethost/internal/redact"
	"github.com/secrethost/secrethost/shared/launch"
)

// Placeholders for paths that are not shown.
const (
	hiddenDir  = "(the plugin directory: plugin_dir, read with env() or file(), not shown)"
	hiddenPath = "(the plugin's path: plugin or plugin_dir, read with env() or file(), not shown)"
)

// LocateSecret is Locate for a plugin directory (secretDir) or plugin name
// (secretName) whose value was read with env() or file() in the
// configuration, and is therefore a secret: its errors say what is wrong
// without any path derived from that value. They wrap the same sentinels.
func LocateSecret(dir, name string, secretDir, secretName bool) (string, error) {
	path, err := launch.Locate(dir, name)
	if err == nil || (!secretDir && !secretName) {
		return path, err
	}
	return "", hideErr(err, dir, name, secretDir, secretName)
}

// hideErr rewrites an error of Locate: every path it may name that derives
// from the secret value is replaced by a placeholder. If any piece of the
// value is still there (a message naming, say, a missing parent of the
// directory), only the kind of problem is reported.
func hideErr(err error, dir, name string, secretDir, secretName bool) error {
	type repl struct{ from, to string }
	var repls []repl
	add := func(from, to string) {
		if len(from) < redact.MinLen { // as short as ordinary words: not a secret worth hiding
			return
		}
		repls = append(repls, repl{from, to})
		if q := strconv.Quote(from); q[1:len(q)-1] != from {
			repls = append(repls, repl{q[1 : len(q)-1], to})
		}
	}
	absDir, _ := filepath.Abs(dir)
	realDir, _ := filepath.EvalSymlinks(absDir)
	cand := name
	if !filepath.IsAbs(name) {
		cand = filepath.Join(absDir, name)
	}
	realCand, _ := filepath.EvalSymlinks(filepath.Clean(cand))
	add(filepath.Clean(cand), hiddenPath)
	add(realCand, hiddenPath)
	if secretName {
		add(name, hiddenPath)
	}
	if secretDir {
		add(absDir, hiddenDir)
		add(realDir, hiddenDir)
		add(dir, hiddenDir)
	}
	slices.SortStableFunc(repls, func(a, b repl) int { return len(b.from) - len(a.from) })
	// Through NUL-delimited tokens, so a placeholder inserted first cannot
	// be hit by a later (shorter) replacement.
	msg := err.Error()
	for i, r := range repls {
		msg = strings.ReplaceAll(msg, r.from, "\x00"+strconv.Itoa(i)+"\x00")
	}
	for i, r := range repls {
		msg = strings.ReplaceAll(msg, "\x00"+strconv.Itoa(i)+"\x00", r.to)
	}

	// The pieces of the secret: its path elements and lines.
	var secrets []string
	if secretDir {
		secrets = append(secrets, dir)
	}
	if secretName {
		secrets = append(secrets, name)
	}
	for _, s := range secrets {
		for _, piece := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' || r == '\n' || r == '\r' }) {
			piece = strings.TrimSpace(piece)
			if len(piece) >= 4 && strings.Contains(msg, piece) {
				msg = kindOf(err) + ": details not shown, as they would reveal plugin_dir or plugin, read with env() or file()"
				break
			}
		}
	}
	return &hiddenError{msg: msg, err: err}
}

func kindOf(err error) string {
	for _, s := range []error{ErrNotFound, ErrOutsideDir, ErrUnsafe} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "cannot use the plugin directory"
}

// hiddenError carries the rewritten message; Is keeps the sentinels without
// exposing the original text through Unwrap.
type hiddenError struct {
	msg string
	err error
}

func (e *hiddenError) Error() string        { return e.msg }
func (e *hiddenError) Is(target error) bool { return errors.Is(e.err, target) }
