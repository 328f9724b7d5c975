package provider

import (
	"slices"
	"strings"
	"unicode"
)

// SchemeOf returns the scheme of a secret reference, lower-cased (schemes
// are case-insensitive; the host routes by the lower-cased form), and
// whether ref has one at all. A scheme is what RFC 3986 allows: a letter,
// then letters, digits, '+', '-' or '.', followed by "://". White space
// before the reference is no part of it (the plugins trim it, as they trim
// white space at the end).
//
// It is the one definition used by the host, the CLI and the conformance
// kit, so that they never disagree on where a reference goes.
func SchemeOf(ref string) (string, bool) {
	ref = strings.TrimLeftFunc(ref, unicode.IsSpace)
	i := strings.Index(ref, "://")
	if i <= 0 {
		return "", false
	}
	for j, c := range ref[:i] {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", false
		}
	}
	return strings.ToLower(ref[:i]), true
}

// SchemeList renders schemes for a message: sorted, each as "scheme://",
// comma-separated; "none" when there is none. The one renderer of scheme
// lists for the host and the CLI.
func SchemeList(schemes []string) string {
	if len(schemes) == 0 {
		return "none"
	}
	s := make([]string, len(schemes))
	for i, x := range schemes {
		s[i] = x + "://"
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ", ")
}
