package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	redactmark "github.com/secrethost/secrethost/internal/redact"
)

// Sentinel errors for problems with the selection of providers. They are
// usage errors (the environment, typically SECRET_PROVIDER, does not fit the
// configuration) rather than mistakes in the file. A *SelectionError wraps
// exactly one of them; test with errors.Is.
var (
	// ErrNoProvider: the top-level select attribute evaluated to "".
	ErrNoProvider = errors.New("nothing selects a provider")
	// ErrUnknownProvider: no provider block answers to the selected value.
	ErrUnknownProvider = errors.New("unknown provider")
	// ErrNoActiveProvider: providers exist (and, with select, match), but
	// none of them is enabled.
	ErrNoActiveProvider = errors.New("no active provider")
)

// SelectionError reports that the configuration is valid but the current
// environment does not select any usable provider. Its Error text is meant
// to be shown to an operator as is, without a file position, e.g.
//
//	unknown provider in SECRET_PROVIDER (its value, read with env() or file(), is not shown); available: 1password
//
// Like every value read with env() or file(), the selected value is never
// shown (a secret may sit in the wrong variable); a literal one is.
type SelectionError struct {
	// Err is ErrNoProvider, ErrUnknownProvider or ErrNoActiveProvider.
	Err error
	// Selector names what made the selection: the environment variable read
	// by `select = env("NAME", ...)`, such as SECRET_PROVIDER, or
	// `select (file:line:col)` for any other expression. Empty when the file
	// has no top-level select attribute.
	Selector string
	// Available lists the distinct selector values of all provider blocks,
	// sorted; a value read with env() or file() is listed as HiddenSelect.
	Available []string
	// Pos is "file:line:col" of the select attribute or, when there is none,
	// of the start of the file.
	Pos string

	msg string
}

func (e *SelectionError) Error() string { return e.msg }

// Unwrap returns the sentinel.
func (e *SelectionError) Unwrap() error { return e.Err }

// Diagnostic is one problem found in a configuration file.
type Diagnostic struct {
	Filename     string
	Line, Column int // 1-based; 0 when the problem has no position
	Summary      string
	Detail       string
	// Snippet is the offending source line with a caret underline, already
	// indented; empty when not available.
	Snippet string
}

// Pos returns "file:line:col", or just the file name when there is no
// position.
func (d Diagnostic) Pos() string {
	if d.Line == 0 {
		return d.Filename
	}
	return d.Filename + ":" + strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Column)
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos())
	b.WriteString(": ")
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(": ")
		b.WriteString(d.Detail)
	}
	if d.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(d.Snippet)
	}
	return b.String()
}

// Error is returned for a configuration file that cannot be parsed or fails
// validation. It holds at least one Diagnostic. Error() renders them in
// order, each starting on its own line with "file:line:col: Summary: Detail"
// and followed by the source snippet.
//
// No diagnostic contains a value obtained through env() or file(): messages
// written by this package leave such values out (they carry a cty mark), and
// any occurrence of such a value (4 bytes or longer) in a message produced by
// the HCL library is replaced with "(sensitive value)". Source text (the
// snippet) is shown as written.
type Error struct {
	Diagnostics []Diagnostic
}

// maxRendered caps how many diagnostics Error() prints.
const maxRendered = 10

func (e *Error) Error() string {
	var b strings.Builder
	for i, d := range e.Diagnostics {
		if i == maxRendered {
			fmt.Fprintf(&b, "\n(%d more not shown)", len(e.Diagnostics)-maxRendered)
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// ownDiag marks diagnostics written by this package (hcl.Diagnostic.Extra):
// they never include sensitive values, so they are not passed through the
// text redaction meant for library messages.
type ownDiag struct{}

func diagf(subject hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
		Extra:    ownDiag{},
	}
}

const redacted = redactmark.ConfigMark

// minRedactLen is the shortest value the text redaction looks for. Shorter
// values would match ordinary words and digits in messages.
const minRedactLen = redactmark.MinLen

// newError converts HCL diagnostics into an *Error, keeping only errors.
// sensitive holds the raw values read by env() and file() during evaluation.
func newError(diags hcl.Diagnostics, files map[string]*hcl.File, sensitive []string) *Error {
	e := &Error{}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		out := Diagnostic{Summary: d.Summary, Detail: d.Detail}
		if _, ok := d.Extra.(ownDiag); !ok {
			out.Summary = redact(out.Summary, sensitive)
			out.Detail = redact(out.Detail, sensitive)
		}
		if r := d.Subject; r != nil {
			out.Filename = r.Filename
			out.Line = r.Start.Line
			out.Column = r.Start.Column
			if f := files[r.Filename]; f != nil {
				out.Snippet = snippet(f.Bytes, *r)
			}
		}
		e.Diagnostics = append(e.Diagnostics, out)
	}
	// Report in source order, whatever order the checks ran in.
	slices.SortStableFunc(e.Diagnostics, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Filename, b.Filename),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
	return e
}

func redact(s string, sensitive []string) string {
	for _, v := range sensitive {
		if len(v) >= minRedactLen && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// maxSnippetWidth bounds how much of a long source line is shown.
const maxSnippetWidth = 120

// snippet renders the source line holding r.Start and underlines the part of
// r on that line:
//
//	7 |   tiemout = "5s"
//	  |   ^^^^^^^
func snippet(src []byte, r hcl.Range) string {
	start := min(max(r.Start.Byte, 0), len(src))
	end := min(max(r.End.Byte, start), len(src))

	lineStart := start
	for lineStart > 0 && src[lineStart-1] != '\n' {
		lineStart--
	}
	lineEnd := start
	for lineEnd < len(src) && src[lineEnd] != '\n' {
		lineEnd++
	}
	if lineEnd > lineStart && src[lineEnd-1] == '\r' {
		lineEnd--
	}
	end = min(end, lineEnd)
	if start > lineEnd { // points past the end of a line ending in \r
		start = lineEnd
	}

	prefix := string(src[lineStart:start])
	marked := string(src[start:end])
	suffix := string(src[end:lineEnd])

	// Keep long lines readable: cut the text before and after the mark.
	if utf8.RuneCountInString(prefix) > maxSnippetWidth/2 {
		prefix = "..." + lastRunes(prefix, maxSnippetWidth/2-3)
	}
	if n := utf8.RuneCountInString(marked); n > maxSnippetWidth/2 {
		marked = firstRunes(marked, maxSnippetWidth/2)
		suffix = "..."
	} else if utf8.RuneCountInString(suffix) > maxSnippetWidth/2 {
		suffix = firstRunes(suffix, maxSnippetWidth/2-3) + "..."
	}

	var pad strings.Builder
	for _, c := range prefix {
		if c == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	carets := max(utf8.RuneCountInString(marked), 1)

	num := strconv.Itoa(r.Start.Line)
	gutter := strings.Repeat(" ", max(5-len(num), 0))
	blank := strings.Repeat(" ", len(gutter)+len(num))
	return gutter + num + " | " + sanitizeLine(prefix+marked+suffix) + "\n" +
		blank + " | " + pad.String() + strings.Repeat("^", carets)
}

func firstRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func lastRunes(s string, n int) string {
	c := utf8.RuneCountInString(s)
	return firstRunesFrom(s, c-n)
}

func firstRunesFrom(s string, skip int) string {
	i := 0
	for j := range s {
		if i == skip {
			return s[j:]
		}
		i++
	}
	return ""
}

// sanitizeLine replaces control characters other than tab, so a snippet
// cannot carry terminal escape sequences.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
