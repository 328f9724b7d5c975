package host

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secrethost/secrethost/shared/provider"
)

// ConfigError is a configuration that cannot be used, found when a
// provider starts: the plugin rejected its settings (invalid_config), two
// providers declare the same scheme, or a plugin handles other schemes than
// its provider block declares. Nothing was resolved. The CLI exits 2
// for it, as for any configuration error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Failure is one reference that could not be resolved.
type Failure struct {
	// Name is the variable the reference was for ("" when resolving bare
	// references).
	Name      string
	Reference string
	Err       *provider.Error
}

// ResolveError lists every failed reference of a call. It never holds a
// secret value: only names, references and the providers' messages.
type ResolveError struct {
	Total    int
	Failures []Failure
}

func (e *ResolveError) Error() string {
	return e.Describe(fmt.Sprintf("%d of %d secret references failed", len(e.Failures), e.Total))
}

// Describe renders the failures under a headline of the caller's choosing,
// one line each: "NAME (REF): code: message".
func (e *ResolveError) Describe(headline string) string {
	var b strings.Builder
	b.WriteString(headline + ":")
	for _, f := range e.Failures {
		b.WriteString("\n  ")
		if f.Name != "" && f.Name != f.Reference {
			fmt.Fprintf(&b, "%s (%s)", printable(f.Name), f.Reference)
		} else {
			b.WriteString(f.Reference)
		}
		msg := printable(f.Err.Message)
		if msg == "" {
			msg = f.Err.Code.String()
		}
		fmt.Fprintf(&b, ": %s: %s", f.Err.Code, msg)
		if f.Err.RetryAfter > 0 {
			fmt.Fprintf(&b, " (retry after %s)", f.Err.RetryAfter)
		}
	}
	return b.String()
}

// Unwrap exposes each failure's *provider.Error, so that
// errors.Is(err, provider.ErrNotFound) works on the whole call.
func (e *ResolveError) Unwrap() []error {
	out := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		out[i] = f.Err
	}
	return out
}

// newResolveError lists failures in the caller's order; names, when given,
// run parallel to refs.
func newResolveError(refs, names []string, failures map[string]*provider.Error) *ResolveError {
	e := &ResolveError{Total: len(refs)}
	for i, ref := range refs {
		err, failed := failures[ref]
		if !failed {
			continue
		}
		shown := SafeReference(ref)
		if err.Reference == unknownSchemeRef {
			shown = unknownSchemeRef
		}
		f := Failure{Reference: shown, Err: err}
		if names != nil {
			f.Name = names[i]
		} else if i > 0 && contains(refs[:i], ref) {
			continue // a bare reference listed twice fails once
		}
		e.Failures = append(e.Failures, f)
	}
	return e
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// unknownSchemeRef stands for a value whose scheme no configured provider
// handles: it is not a reference, so it is not shown.
const unknownSchemeRef = "<not a reference of a configured scheme>"

// SafeReference is how a reference appears in errors and output: as it
// is, unless it is not valid UTF-8 or has no scheme, when it is not a
// reference at all and may be a secret put in its place; then only what is
// wrong with it.
func SafeReference(ref string) string {
	if !utf8.ValidString(ref) {
		return "<not valid UTF-8>"
	}
	if _, ok := provider.SchemeOf(ref); !ok {
		return "<not a reference>"
	}
	return printable(ref)
}

// printable escapes control and bidirectional-formatting characters (a
// terminal escape sequence, a newline that would forge another line of the
// report) as Go does in a quoted string; the rest stays as it is.
func printable(s string) string {
	if !strings.ContainsFunc(s, unprintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}
