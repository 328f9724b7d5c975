// Package credential implements, once, the rule every secret provider
// follows for its own credentials (tokens, passwords, keys): a credential is
// given either inline, in a configuration variable, or in a file named by
// another variable, never both.
//
//	SECRET_PROVIDER_CONNECT_TOKEN=eyJhbGciOi...            # inline
//	OP_CONNECT_TOKEN=eyJhbGciOi...                         # inline, fallback name
//	SECRET_PROVIDER_CONNECT_TOKEN_FILE=/run/secrets/token  # from a file
//
// Files let the secret stay out of the process environment (Docker and
// Kubernetes secrets are mounted as files). Allowing both at once would make
// it unclear which one is in effect, so that is an error rather than a
// precedence rule.
//
// Third-party provider authors are welcome to use this package so that all
// providers behave alike.
package credential

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/secrethost/secrethost/internal/bounded"
)

// Spec names the variables that may supply one credential.
type Spec struct {
	// Inline lists the variables that may hold the credential itself: the
	// primary name first, then fallbacks (for example a name other tools
	// already use) in order of precedence. When several are set, the first
	// one wins; if their values differ, Load adds a warning.
	Inline []string
	// File is the variable that may hold the path of a file containing the
	// credential. Empty if the credential cannot come from a file.
	File string
	// What names the credential in messages, e.g. "Connect token".
	// Defaults to "credential".
	What string
}

// Result is a loaded credential.
//
// Its String and GoString methods redact Value, so printing a Result by
// mistake (for example with %v or %#v) does not leak the secret.
type Result struct {
	// Value is the credential, with surrounding whitespace trimmed.
	Value string
	// From is the variable that supplied it: one of Spec.Inline, or
	// Spec.File.
	From string
	// Path is the file the credential was read from, if it came from one.
	Path string
	// Warnings are problems that did not stop loading, such as a
	// credential file readable by other users. They contain no secret;
	// the caller should log them.
	Warnings []string
}

// String describes r without its value.
func (r Result) String() string {
	s := "credential from " + r.From
	if r.Path != "" {
		s += fmt.Sprintf(" (%q)", r.Path)
	}
	return s + " [value redacted]"
}

// GoString is like String, for %#v.
func (r Result) GoString() string { return "credential.Result{" + r.String() + "}" }

// Sentinel errors matched by errors.Is on the errors Load returns.
var (
	// ErrConflict: the credential is set both inline and as a file.
	ErrConflict = errors.New("credential set both inline and as a file")
	// ErrMissing: the credential is not set at all.
	ErrMissing = errors.New("credential not set")
	// ErrFile: the credential file cannot be used (missing, unreadable, a
	// directory, empty or too large).
	ErrFile = errors.New("credential file unusable")
)

// Error is the error type Load returns. Its message names variables and
// paths, never the credential or the file's content.
type Error struct {
	// Kind is ErrConflict, ErrMissing or ErrFile.
	Kind error
	// Vars are the variables concerned, as named in the message.
	Vars []string
	// Path is the credential file, for ErrFile.
	Path string
	// Err is the underlying I/O error, if any (for example one matching
	// fs.ErrNotExist). It names the path, not the content.
	Err error

	msg string
}

func (e *Error) Error() string { return e.msg }

// Is makes errors.Is(err, e.Kind) true.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying I/O error, if any.
func (e *Error) Unwrap() error { return e.Err }

// MaxFileSize bounds how much of a credential file Load reads. Credentials
// are small; a larger file is almost certainly the wrong file.
const MaxFileSize = 1 << 20

// Load finds the credential described by spec in cfg, the provider's
// configuration (variable name to value), and reads the file if it comes
// from one. The file is read now, on every call: callers that want to pick
// up a rotated credential simply call Load again.
//
// A variable counts as set when its value contains something other than
// whitespace: an absent key, an empty value and a blank value are all "not
// set". Inline values and file contents are trimmed of surrounding
// whitespace (a trailing newline, or a "\r" from a file edited on Windows,
// is never part of a token). The file path is used exactly as given.
//
// Errors are of type [*Error] and match [ErrConflict], [ErrMissing] or
// [ErrFile]. A Spec with no variables at all is a programming error and
// returns a plain error.
func Load(cfg map[string]string, spec Spec) (Result, error) {
	what := spec.What
	if what == "" {
		what = "credential"
	}
	if len(spec.Inline) == 0 && spec.File == "" {
		return Result{}, fmt.Errorf("credential: Spec for %s names no variables", what)
	}

	var inline []string // inline variables that are set, in precedence order
	for _, name := range spec.Inline {
		if isSet(cfg, name) {
			inline = append(inline, name)
		}
	}
	fileSet := spec.File != "" && isSet(cfg, spec.File)

	switch {
	case len(inline) > 0 && fileSet:
		vars := append(inline, spec.File)
		return Result{}, &Error{Kind: ErrConflict, Vars: vars,
			msg: fmt.Sprintf("%s: %s are mutually exclusive: set only one", what, joinAnd(vars))}
	case len(inline) > 0:
		res := Result{Value: strings.TrimSpace(cfg[inline[0]]), From: inline[0]}
		for _, other := range inline[1:] {
			if strings.TrimSpace(cfg[other]) != res.Value {
				res.Warnings = append(res.Warnings, fmt.Sprintf(
					"%s: %s and %s are both set, with different values; using %s", what, inline[0], other, inline[0]))
			}
		}
		return res, nil
	case fileSet:
		return loadFile(what, spec.File, cfg[spec.File])
	}
	return Result{}, missing(what, spec)
}

func isSet(cfg map[string]string, name string) bool {
	return strings.TrimSpace(cfg[name]) != ""
}

// loadFile reads the credential from path, named by variable v.
func loadFile(what, v, path string) (Result, error) {
	fail := func(err error, format string, args ...any) (Result, error) {
		return Result{}, &Error{Kind: ErrFile, Vars: []string{v}, Path: path, Err: err,
			msg: fmt.Sprintf("%s: %s=%q: ", what, v, path) + fmt.Sprintf(format, args...)}
	}

	// Stat the open file rather than the path, so the checks apply to the
	// file actually read. Stat follows symlinks, as Kubernetes secret
	// mounts use them.
	f, err := os.Open(path)
	if err != nil {
		return fail(err, "cannot open the file: %v", cause(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fail(err, "cannot read the file: %v", cause(err))
	}
	if info.IsDir() {
		return fail(nil, "is a directory, not a file")
	}

	var res Result
	// Permission bits mean little on Windows.
	if perm := info.Mode().Perm(); perm&0o044 != 0 && runtime.GOOS != "windows" {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"%s file %q (%s) is readable by group or others (mode %#o); consider chmod 600", what, path, v, perm))
	}

	data, err := bounded.ReadAll(f, MaxFileSize)
	if errors.Is(err, bounded.ErrTooLarge) {
		return fail(nil, "file is larger than %d bytes; is it the right file?", MaxFileSize)
	}
	if err != nil {
		return fail(err, "cannot read the file: %v", cause(err))
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return fail(nil, "file is empty")
	}
	res.Value, res.From, res.Path = value, v, path
	return res, nil
}

// missing builds the error for a credential that is set nowhere.
func missing(what string, spec Spec) error {
	var opts []string
	if len(spec.Inline) > 0 {
		o := spec.Inline[0]
		switch fb := spec.Inline[1:]; len(fb) {
		case 0:
		case 1:
			o += " (or its fallback " + fb[0] + ")"
		default:
			o += " (or its fallbacks " + joinAnd(fb) + ")"
		}
		opts = append(opts, o)
	}
	if spec.File != "" {
		opts = append(opts, spec.File)
	}
	vars := append([]string(nil), spec.Inline...)
	if spec.File != "" {
		vars = append(vars, spec.File)
	}
	return &Error{Kind: ErrMissing, Vars: vars,
		msg: fmt.Sprintf("%s not set: set %s", what, strings.Join(opts, " or "))}
}

// cause strips the *fs.PathError wrapper, whose message repeats the path
// the caller already shows.
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// joinAnd joins names as "a", "a and b", "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
