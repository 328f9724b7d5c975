package emulator

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Filter is one parsed SCIM-style filter expression: `attribute op "value"`.
//
// Connect documents only `eq` on `title`/`tag` (items) and `name` (vaults); connect-sdk-go
// sends `title eq` for vaults too, and connect-sdk-js can send `title co` for items. The
// emulator accepts exactly those forms and answers anything else with 400, as Connect
// does for a filter it cannot parse. Terms combine with `and`/`or` (see Expr).
type Filter struct {
	Attr  string // lowercased: "title", "name" or "tag"
	Op    string // lowercased: "eq" or "co"
	Value string
}

// ParseFilter parses a filter value after URL decoding (so a `+` has already become a
// space).
//
// Quoting: the value must be in double quotes, and the closing quote must be the last
// non-space character. Inside, `\"` and `\\` are unescaped; any other backslash is kept
// literally; a bare `"` before the closing quote is also kept literally. The last rule exists
// because connect-sdk-go does not escape quotes, so the title `a"b` arrives as
// `title eq "a"b"` and should still match. A consequence: `title eq "a" and tag eq "b"` is
// read as one title with quotes in it (matching nothing), not as a 400. Single quotes are
// rejected (Connect v1.5.2 made them a 400 instead of a crash).
func ParseFilter(s string) (Filter, error) {
	e, err := ParseExpr(s)
	if err != nil {
		return Filter{}, err
	}
	if len(e) != 1 || len(e[0]) != 1 {
		return Filter{}, errors.New("expected a single term, not an and/or expression")
	}
	return e[0][0], nil
}

// Expr is a filter expression in disjunctive form: it matches when every term of any one
// group matches. `and` binds tighter than `or`, as in SCIM (RFC 7644 §3.4.2.2).
//
// 1Password's Connect API reference gives `title eq "Example Item" or tag eq "banking"` as its
// example item filter (developer.1password.com/docs/connect/api-reference, List items), so
// Connect evaluates such expressions; the OpenAPI spec (1Password/connect docs/openapi/spec.yaml)
// documents only single `eq` terms. Parentheses and `not` are not supported (400).
type Expr [][]Filter

// andOr recognises what may follow a closing quote inside an expression: ` and <attr> <op> "`
// or ` or <attr> <op> "`. A quote followed by anything else is part of the value (see
// ParseFilter on connect-sdk-go's unescaped quotes).
var andOr = regexp.MustCompile(`(?i)^ +(and|or) +[a-z]+ +[a-z]+ +"`)

// ParseExpr parses a filter value (after URL decoding) into an Expr.
func ParseExpr(s string) (Expr, error) {
	rest := strings.TrimSpace(s)
	var out Expr
	group := []Filter{}
	for {
		f, tail, err := parseTerm(rest)
		if err != nil {
			return nil, err
		}
		group = append(group, f)
		if strings.TrimSpace(tail) == "" {
			return append(out, group), nil
		}
		m := andOr.FindStringSubmatch(tail)
		if m == nil { // cannot happen: parseTerm only stops at the end or before and/or
			return nil, errors.New("expected and/or after a value")
		}
		rest = strings.TrimLeft(tail, " ")[len(m[1]):]
		rest = strings.TrimLeft(rest, " ")
		if strings.EqualFold(m[1], "or") {
			out = append(out, group)
			group = []Filter{}
		}
	}
}

// parseTerm parses `attribute op "value"` at the start of s and returns what follows the
// closing quote.
func parseTerm(s string) (Filter, string, error) {
	rest := s
	attr, rest, ok := cutWord(rest)
	if !ok {
		return Filter{}, "", errors.New("expected an attribute such as title")
	}
	op, rest, ok := cutWord(rest)
	if !ok {
		return Filter{}, "", fmt.Errorf("expected an operator after %q", attr)
	}
	attr, op = strings.ToLower(attr), strings.ToLower(op)
	switch attr {
	case "title", "name", "tag":
	default:
		return Filter{}, "", fmt.Errorf("unsupported attribute %q", attr)
	}
	switch op {
	case "eq", "co":
	default:
		return Filter{}, "", fmt.Errorf("unsupported operator %q", op)
	}
	if len(rest) < 2 || rest[0] != '"' {
		return Filter{}, "", errors.New(`the value must be enclosed in double quotes`)
	}
	for i := 1; i < len(rest); i++ {
		switch {
		case rest[i] == '\\' && i+1 < len(rest) && (rest[i+1] == '"' || rest[i+1] == '\\'):
			i++
		case rest[i] == '"':
			tail := rest[i+1:]
			if strings.TrimRight(tail, " ") == "" || andOr.MatchString(tail) {
				return Filter{Attr: attr, Op: op, Value: unescape(rest[1:i])}, tail, nil
			}
		}
	}
	return Filter{}, "", errors.New(`the value must be enclosed in double quotes`)
}

// cutWord splits off a leading run of ASCII letters followed by at least one space.
func cutWord(s string) (word, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 || i == len(s) || s[i] != ' ' {
		return "", "", false
	}
	return s[:i], strings.TrimLeft(s[i:], " "), true
}

// unescape resolves `\"` and `\\`; every other byte, including a lone backslash, is kept.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// forVaults checks that f is a filter the vault list understands: title or name (synonyms;
// the SDK sends title, the docs say name).
func (f Filter) forVaults() error {
	if f.Attr != "title" && f.Attr != "name" {
		return fmt.Errorf("vaults can only be filtered by name or title, not %s", f.Attr)
	}
	return nil
}

// forItems checks that f is a filter the item list understands: title eq/co, tag eq.
func (f Filter) forItems() error {
	switch {
	case f.Attr == "name":
		return errors.New("items can only be filtered by title or tag, not name")
	case f.Attr == "tag" && f.Op != "eq":
		return fmt.Errorf("tags can only be filtered with eq, not %s", f.Op)
	}
	return nil
}

// matchVault compares case-insensitively: the onepassword-operator's e2e suite resolves a
// vault by a differently-cased name against a real Connect server.
func (f Filter) matchVault(v *Vault) bool {
	name, want := strings.ToLower(v.Name), strings.ToLower(f.Value)
	if f.Op == "co" {
		return strings.Contains(name, want)
	}
	return name == want
}

// matchItem compares titles and tags case-sensitively, the safer reading of connect#73 (op
// read through Connect is case-sensitive for items).
func (f Filter) matchItem(it *Item) bool {
	if f.Attr == "tag" {
		return slices.Contains(it.Tags, f.Value)
	}
	if f.Op == "co" {
		return strings.Contains(it.Title, f.Value)
	}
	return it.Title == f.Value
}

func (e Expr) check(one func(Filter) error) error {
	for _, g := range e {
		for _, f := range g {
			if err := one(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e Expr) forVaults() error { return e.check(Filter.forVaults) }
func (e Expr) forItems() error  { return e.check(Filter.forItems) }

func (e Expr) match(one func(Filter) bool) bool {
	for _, g := range e {
		all := true
		for _, f := range g {
			if !one(f) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (e Expr) matchVault(v *Vault) bool {
	return e.match(func(f Filter) bool { return f.matchVault(v) })
}
func (e Expr) matchItem(it *Item) bool {
	return e.match(func(f Filter) bool { return f.matchItem(it) })
}
