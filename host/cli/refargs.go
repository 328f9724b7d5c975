package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/secrethost/secrethost/shared/provider"
)

// parseRefArgs turns command-line arguments into references: NAME=REF, or
// a bare REF that is its own name. An argument is NAME=REF when the text
// before its first '=' is a valid variable name ("op://v/i/f?attribute=otp"
// is a bare reference).
func parseRefArgs(args []string) []refVar {
	out := make([]refVar, 0, len(args))
	for i, arg := range args {
		where := fmt.Sprintf("argument %d", i+1)
		if name, ref, ok := strings.Cut(arg, "="); ok && dotenvKeyPattern.MatchString(name) {
			out = append(out, refVar{Name: name, Value: ref, Where: where})
			continue
		}
		out = append(out, refVar{Name: arg, Value: arg, Where: where})
	}
	return out
}

// isBare reports whether v is a bare reference (its own name).
func (v refVar) isBare() bool { return v.Name == v.Value && !dotenvKeyPattern.MatchString(v.Name) }

// mergeRefs joins reference lists; a name given twice with different
// references is an error, the same pair twice is kept once.
func mergeRefs(lists ...[]refVar) ([]refVar, error) {
	var out []refVar
	seen := map[string]refVar{}
	for _, l := range lists {
		for _, v := range l {
			if prev, dup := seen[v.Name]; dup {
				if prev.Value == v.Value {
					continue
				}
				return nil, usagef("%s is defined twice, with different references (%s and %s)", v.Name, prev.Where, v.Where)
			}
			seen[v.Name] = v
			out = append(out, v)
		}
	}
	return out, nil
}

// label names v in messages without its value: "NAME (where)", or just
// where ("argument 2") for a bare value, which is its own name.
func (v refVar) label() string {
	if v.Name == v.Value || !dotenvKeyPattern.MatchString(v.Name) {
		return v.Where // a name that is no variable name may be a value too
	}
	if v.Where == "" {
		return v.Name
	}
	return v.Name + " (" + v.Where + ")"
}

// refProblem is an entry whose value is not a reference of a configured
// scheme. Its value is never shown: it may well be a secret written where a
// reference belongs (DB_PASSWORD=hunter2) or a URL with credentials in it.
type refProblem struct {
	refVar
	reason string
}

// splitRefs keeps the entries whose value is a reference of one of schemes
// (scheme://…, scheme in any case) and explains the others.
func splitRefs(vars []refVar, schemes []string) (good []refVar, bad []refProblem) {
	for _, v := range vars {
		if why := notARef(strings.TrimSpace(v.Value), schemes); why != "" {
			bad = append(bad, refProblem{refVar: v, reason: why})
			continue
		}
		good = append(good, v)
	}
	return good, bad
}

// notARef says why v is not a reference of schemes, without quoting it;
// "" if it is one.
func notARef(v string, schemes []string) string {
	configured := provider.SchemeList(schemes)
	sc, isRef := refScheme(v)
	switch {
	case v == "":
		return "empty: expected a secret reference"
	case !isRef:
		return "not a secret reference: expected scheme://…, with one of the configured schemes (" + configured + "); the value is not shown"
	case !slices.Contains(schemes, sc):
		return "not a reference of a configured scheme (" + configured + "); the value is not shown"
	}
	return ""
}

// keyName shows a key in messages if it looks like a portable variable
// name (letters, digits, '_'); any other key may be a value written where a
// name belongs, and is not shown. (A value that looks like a name cannot be
// told from one.)
func keyName(k string) string {
	if envNamePattern.MatchString(k) {
		return k
	}
	return "the key (not a variable name; not shown)"
}
