package cli

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// injectTemplate is a parsed inject template: text with {{ REF }} slots.
type injectTemplate struct {
	Segments []segment
	// Problems are placeholders that look meant as references (a scheme
	// and a colon after the "{{") but are malformed. They stay literal
	// text; inject fails on those whose scheme is configured.
	Problems []templateProblem
}

// segment is literal text, or a reference slot (Ref set) together with
// the exact text it replaces (Raw).
type segment struct {
	Text string
	Ref  string
	Raw  string
}

// templateProblem is a malformed placeholder: where its "{{" is (line and
// column, from 1; columns count characters), the scheme it starts with,
// and what is wrong, without quoting it.
type templateProblem struct {
	Line, Column int
	Scheme       string
	Reason       string
}

func (p templateProblem) String() string {
	return fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Reason)
}

// placeholderStart is the scheme and colon that make "{{" a placeholder.
var placeholderStart = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)

// parseTemplate finds every {{ REF }} in src: a "{{", optional spaces and
// tabs, REF, optional spaces and tabs, and "}}" on the same line, where REF
// starts with scheme:// and holds no brace. Which schemes count is decided
// when rendering. A "{{" followed by scheme: that does not form such a
// placeholder (no "}}" on its line, a single "}", "op:/x" instead of
// "op://x", a brace inside) is recorded in Problems and kept as text; any
// other {{ ... }} is literal text.
func parseTemplate(src string) injectTemplate {
	var t injectTemplate
	lit, i := 0, 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		open := i + j
		i = open + 1 // by default, look again from the next brace
		q := open + 2
		for q < len(src) && (src[q] == ' ' || src[q] == '\t') {
			q++
		}
		m := placeholderStart.FindStringSubmatch(src[q:])
		if m == nil {
			continue // {{ .Values.x }}, {{{, ...: not ours
		}
		eol := len(src)
		if k := strings.IndexAny(src[q:], "\n\r"); k >= 0 {
			eol = q + k
		}
		line := src[q:eol]
		k := strings.Index(line, "}}")
		var why string
		switch {
		case k < 0 && strings.Contains(line, "}"):
			why = "the placeholder is closed by a single '}': expected '}}'"
		case k < 0:
			why = "the placeholder is not closed: expected '}}' on the same line"
		default:
			ref := strings.TrimRight(line[:k], " \t")
			switch {
			case strings.ContainsAny(ref, "{}"):
				why = "unbalanced braces inside the placeholder"
			case !refLike(ref):
				why = fmt.Sprintf("malformed reference: expected %s://…", strings.ToLower(m[1]))
			default:
				end := q + k + 2
				if lit < open {
					t.Segments = append(t.Segments, segment{Text: src[lit:open]})
				}
				t.Segments = append(t.Segments, segment{Ref: ref, Raw: src[open:end]})
				i, lit = end, end
				continue
			}
		}
		ln := 1 + strings.Count(src[:open], "\n")
		col := 1 + utf8.RuneCountInString(src[strings.LastIndexByte(src[:open], '\n')+1:open])
		t.Problems = append(t.Problems, templateProblem{Line: ln, Column: col, Scheme: strings.ToLower(m[1]), Reason: why})
	}
	if lit < len(src) {
		t.Segments = append(t.Segments, segment{Text: src[lit:]})
	}
	return t
}

// Refs lists the distinct references, in order of appearance.
func (t injectTemplate) Refs() []string {
	var out []string
	for _, s := range t.Segments {
		if s.Ref != "" && !slices.Contains(out, s.Ref) {
			out = append(out, s.Ref)
		}
	}
	return out
}

// Render replaces each slot whose reference is in values; the others keep
// their original text.
func (t injectTemplate) Render(values map[string][]byte) []byte {
	var b []byte
	for _, s := range t.Segments {
		if s.Ref == "" {
			b = append(b, s.Text...)
		} else if v, ok := values[s.Ref]; ok {
			b = append(b, v...)
		} else {
			b = append(b, s.Raw...)
		}
	}
	return b
}

// writeFileAtomic replaces the regular file at path with data: a
// temporary file in the same directory (created 0600, so the content is
// never more visible than intended), written, given the owner and group of
// the file it replaces and its mode, synced, then renamed over it, and the
// directory synced. On any error the temporary file is removed and the
// file is untouched.
//
// A symbolic link is written through: the file it points to is replaced,
// atomically, in that file's directory, and the link stays. A directory,
// device, FIFO or socket, a dangling link, and a path naming an open file
// descriptor (/dev/stdout, /dev/fd/N) are refused. An existing file keeps
// its owner and group, and its mode unless keepMode is false; a new file
// gets mode. A file that cannot be renamed over (EBUSY: a single file
