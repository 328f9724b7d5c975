// Package opref parses 1Password secret references of the form
//
//	op://<vault>/<item>[/<section>]/<field or file name>[?attribute=<attr>][&ssh-format=openssh]
//
// It is the Connect plugin's parser. The service-account plugin accepts
// exactly what 1Password's SDK accepts instead (stricter on characters,
// case, whitespace and the query; laxer on empty segments and
// ssh-format): see [ValidateSDK].
//
// Rules, beyond the grammar above:
//
//   - Leading and trailing whitespace around the whole reference is trimmed:
//     references usually come from configuration files and environment
//     variables, where a stray space or newline is a common accident. A name
//     that really starts or ends with whitespace can be written with
//     percent-encoding (%20).
//   - The scheme is matched case-insensitively ("OP://" works), like any URL
//     scheme.
//   - Each part is a name or a 26-character ID (see [IsID]). Names may hold
//     any character except "/", "?", "#", "%" (which starts an escape) and
//     control characters. Those, and any other byte, may be percent-encoded: "%2F" puts a literal "/" inside
//     a name, "%25" a literal "%". Parts are decoded after the reference is
//     split, so an encoded "/" never separates parts.
//   - A vault or item name must not contain a double quote: 1Password's
//     lookup-by-name (the Connect "title eq" filter) has no way to express
//     it, so such vaults and items must be referred to by ID.
//   - The query parameters are "attribute" (alias "attr") and "ssh-format".
//     Values are case-insensitive. attribute is one of 1Password's documented
//     ones (see [Attribute]): "otp" and "totp" select the current one-time
//     password; "value", the default, the field's value or the file's
//     content. "ssh-format=openssh" asks for an SSH private key in OpenSSH
//     format.
//   - Fragments ("#...") are rejected.
//
// Case is preserved in the parsed [Ref]; whether names compare
// case-insensitively is the resolver's business.
package opref

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attribute selects what a reference resolves to: the "attribute" query
// parameter of 1Password's secret reference syntax. 1Password documents
// these for fields: type, value, id, purpose, title (the label), otp
// (alias totp); and these for file attachments: type, content, size, id,
// name (developer.1password.com/docs/cli/secret-reference-syntax, "Field
// and file metadata"). Which attributes apply to a field or to a file is
// the resolver's business; the parser accepts every documented one.
type Attribute int

const (
	// AttrValue is the field's stored value, or a file's content (the default).
	AttrValue Attribute = iota
	// AttrOTP is the current one-time password computed from an OTP field
	// (query "?attribute=otp" or "?attribute=totp").
	AttrOTP
	// AttrType is the field's type (e.g. CONCEALED), or "FILE" for a file.
	AttrType
	// AttrID is the field's or the file's ID.
	AttrID
	// AttrPurpose is the field's purpose (USERNAME, PASSWORD, NOTES or empty).
	AttrPurpose
	// AttrTitle is the field's label (query "?attribute=title" or
	// "?attribute=label": 1Password's items call it a label, the issue and
	// some of 1Password's pages a title; both are accepted).
	AttrTitle
	// AttrContent is a file's bytes.
	AttrContent
	// AttrSize is a file's size in bytes, in decimal.
	AttrSize
	// AttrName is a file's name.
	AttrName
)

var attrNames = map[Attribute]string{
	AttrValue: "value", AttrOTP: "otp", AttrType: "type", AttrID: "id", AttrPurpose: "purpose",
	AttrTitle: "title", AttrContent: "content", AttrSize: "size", AttrName: "name",
}

// attrByName maps a query value (lower case) to its attribute.
var attrByName = map[string]Attribute{
	"value": AttrValue, "otp": AttrOTP, "totp": AttrOTP, "type": AttrType, "id": AttrID,
	"purpose": AttrPurpose, "title": AttrTitle, "label": AttrTitle, "content": AttrContent, "size": AttrSize, "name": AttrName,
}

// String returns the attribute as written in a reference query.
func (a Attribute) String() string {
	if s, ok := attrNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Attribute(%d)", int(a))
}

// FileAttribute reports whether a applies to file attachments.
func (a Attribute) FileAttribute() bool {
	switch a {
	case AttrValue, AttrType, AttrID, AttrContent, AttrSize, AttrName:
		return true
	}
	return false
}

// FieldAttribute reports whether a applies to fields.
func (a Attribute) FieldAttribute() bool {
	switch a {
	case AttrValue, AttrOTP, AttrType, AttrID, AttrPurpose, AttrTitle:
		return true
	}
	return false
}

// SSHFormatOpenSSH is the one value of the "ssh-format" query parameter
// 1Password documents: an SSH key's private key in OpenSSH format.
const SSHFormatOpenSSH = "openssh"

// Ref is a parsed secret reference. Parts are percent-decoded. Vault, Item
// and Field are never empty in a Ref returned by [Parse]; Section is empty
// when the reference has none.
type Ref struct {
	Vault, Item, Section, Field string
	Attribute                   Attribute
	// SSHFormat is "" or SSHFormatOpenSSH ("?ssh-format=openssh").
	SSHFormat string
}

// HasSection reports whether the reference names a section. Without one,
// the field may be in any section of the item.
func (r Ref) HasSection() bool { return r.Section != "" }

// String returns the canonical form of r: "op://" with every part escaped so
// that, for any r returned by Parse, Parse(r.String()) returns r again; and
// the query ("?attribute=…", "ssh-format=openssh") when it is not the default.
// It contains no secret and is safe to log.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(escape(r.Vault))
	b.WriteByte('/')
	b.WriteString(escape(r.Item))
	if r.HasSection() {
		b.WriteByte('/')
		b.WriteString(escape(r.Section))
	}
	b.WriteByte('/')
	b.WriteString(escape(r.Field))
	sep := "?"
	if r.Attribute != AttrValue {
		b.WriteString(sep + "attribute=")
		b.WriteString(r.Attribute.String())
		sep = "&"
	}
	if r.SSHFormat != "" {
		b.WriteString(sep + "ssh-format=")
		b.WriteString(r.SSHFormat)
	}
	return b.String()
}

// IsID reports whether s has the shape of a 1Password ID: exactly 26
// lowercase ASCII letters or digits. A name can have that shape too; the
// resolver decides which to try first.
func IsID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ErrInvalid matches (with [errors.Is]) every error returned by [Parse].
var ErrInvalid = errors.New("invalid secret reference")

// Part values of [Error].
const (
	PartScheme  = "scheme"
	PartVault   = "vault"
	PartItem    = "item"
	PartSection = "section"
	PartField   = "field"
	PartQuery   = "query"
	PartWhole   = "" // the reference as a whole (shape, encoding, fragment)
)

// Error describes why a reference is invalid. Its message quotes the
// reference, which names a secret but holds none, so it is safe to log.
type Error struct {
	// Ref is the reference as parsed (after trimming surrounding
	// whitespace). It is empty when the input does not start with "op://":
	// such input may not be a reference at all but a secret pasted in its
	// place, and must not end up in logs.
	Ref string
	// Part is the offending part: one of the Part* constants.
	Part string
	// Reason says what is wrong, in words meant for the user.
	Reason string
}

func (e *Error) Error() string {
	if e.Ref == "" {
		return "invalid secret reference: " + e.Reason
	}
	return fmt.Sprintf("invalid secret reference %q: %s", e.Ref, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

const (
	scheme = "op://"
	shape  = "op://<vault>/<item>/[<section>/]<field>"
)

// Parse parses a secret reference. See the package documentation for the
// accepted syntax. Every error is an [*Error] and matches [ErrInvalid].
func Parse(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return Ref{}, schemeError()
	}
	fail := func(part, format string, args ...any) (Ref, error) {
		return Ref{}, &Error{Ref: s, Part: part, Reason: fmt.Sprintf(format, args...)}
	}

	// Whole-reference checks first, so that later messages can assume
	// printable, valid text.
	if !utf8.ValidString(s) {
		return fail(PartWhole, "not valid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fail(PartWhole, "contains control character %U", r)
	}
	if strings.Contains(s, "#") {
		return fail(PartWhole, `fragments ("#...") are not supported; write a "#" inside a name as %%23`)
	}

	path, query, hasQuery := strings.Cut(s[len(scheme):], "?")
	segs := strings.Split(path, "/")
	var parts []string
	switch len(segs) {
	case 3:
		parts = []string{PartVault, PartItem, PartField}
	case 4:
		parts = []string{PartVault, PartItem, PartSection, PartField}
	default:
		hint := ""
		if len(segs) > 4 {
			hint = ` (write a "/" inside a name as %2F)`
		}
		return fail(PartWhole, "expected %s, found %d %s%s", shape, len(segs), plural(len(segs), "segment"), hint)
	}

	vals := make([]string, len(segs))
	for i, seg := range segs {
		part := parts[i]
		if seg == "" {
			return fail(part, "%s is empty", part)
		}
		v, bad := unescape(seg)
		if bad != "" {
			return fail(part, "%s has bad percent-encoding %q: %q must be followed by two hex digits", part, bad, "%")
		}
		if !utf8.ValidString(v) {
			return fail(part, "%s is not valid UTF-8 after percent-decoding", part)
		}
		if j := strings.IndexFunc(v, unicode.IsControl); j >= 0 {
			r, _ := utf8.DecodeRuneInString(v[j:])
			return fail(part, "%s contains control character %U", part, r)
		}
		// Names reach Connect as `title eq "<name>"`; a quote would end
		// the string early, so the lookup cannot be expressed safely.
		if (part == PartVault || part == PartItem) && strings.Contains(v, `"`) {
			return fail(part, `%s name contains a double quote ("), which cannot be looked up by name: refer to the %s by its ID instead`, part, part)
		}
		vals[i] = v
	}

	ref := Ref{Vault: vals[0], Item: vals[1], Field: vals[len(vals)-1]}
	if len(vals) == 4 {
		ref.Section = vals[2]
	}
	if hasQuery {
		q, part, reason := parseQuery(query)
		if reason != "" {
			return fail(part, "%s", reason)
		}
		ref.Attribute, ref.SSHFormat = q.attr, q.ssh
	}
	return ref, nil
}

type query struct {
	attr Attribute
	ssh  string
}

// parseQuery parses the text after "?": "attribute" (alias "attr") and
// "ssh-format", each at most once, joined by "&". On failure it returns the
// offending part and a reason.
func parseQuery(q string) (query, string, string) {
	if q == "" {
		return query{}, PartQuery, `empty query after "?"`
	}
	var out query
	seenAttr, seenSSH := "", false
	for _, param := range strings.Split(q, "&") {
		if param == "" {
			return query{}, PartQuery, `empty query parameter (stray "&")`
		}
		rawKey, rawVal, _ := strings.Cut(param, "=")
		key, bad := unescape(rawKey)
		val, badVal := unescape(rawVal)
		if bad == "" {
			bad = badVal
		}
		if bad != "" {
			return query{}, PartQuery, fmt.Sprintf("query has bad percent-encoding %q: %q must be followed by two hex digits", bad, "%")
		}
		switch strings.ToLower(key) {
		case "attribute", "attr":
			if seenAttr != "" {
				return query{}, PartQuery, fmt.Sprintf("attribute given more than once (as %q and %q)", seenAttr, key)
			}
			seenAttr = key
			if val == "" {
				return query{}, PartQuery, fmt.Sprintf("%s has no value: use %s=otp", key, key)
			}
			a, ok := attrByName[strings.ToLower(val)]
			if !ok {
				return query{}, PartQuery, fmt.Sprintf(`unsupported attribute %q: fields have type, value, id, purpose, title (or label), otp (or totp); files have type, content, size, id, name`, val)
			}
			out.attr = a
		case "ssh-format":
			if seenSSH {
				return query{}, PartQuery, "ssh-format given more than once"
			}
			seenSSH = true
			if !strings.EqualFold(val, SSHFormatOpenSSH) {
				return query{}, PartQuery, fmt.Sprintf(`unsupported ssh-format %q: only "openssh" is supported`, val)
			}
			out.ssh = SSHFormatOpenSSH
		default:
			return query{}, PartQuery, fmt.Sprintf(`unknown query parameter %q: only "attribute" (or "attr") and "ssh-format" are supported`, key)
		}
	}
	if out.ssh != "" && out.attr != AttrValue {
		return query{}, PartQuery, fmt.Sprintf("ssh-format applies to an SSH key's private key value, not to attribute %s", out.attr)
	}
	return out, "", ""
}

// schemeError reports input that does not start with "op://". It does not
// quote the input, not even a URL-like prefix: the input may be a secret
// pasted where a reference belongs (a password may well contain "://").
func schemeError() error {
	return &Error{Part: PartScheme, Reason: `secret reference must start with "op://"`}
}

// unescape decodes %XX sequences. On a malformed sequence it returns it as
// the second result.
func unescape(s string) (string, string) {
	if !strings.Contains(s, "%") {
		return s, ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			end := min(i+3, len(s))
			return "", s[i:end]
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), ""
}

// escape percent-encodes what Parse would otherwise read as syntax ("%",
// "/", "?", "#"), control characters, and whitespace at either end of a
// part (Parse trims the reference, which would eat it at the ends).
func escape(s string) string {
	start := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	end := len(strings.TrimRightFunc(s, unicode.IsSpace))
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case i < start || i >= end, r == '%', r == '/', r == '?', r == '#', unicode.IsControl(r):
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteString(s[i : i+n]) // bytes as they are, even if not UTF-8
		}
		i += n
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
