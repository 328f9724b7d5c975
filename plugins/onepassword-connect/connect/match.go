package connect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// maxListed bounds how many candidates a message lists.
const maxListed = 10

// byTitle re-checks on the client what a server-side title filter (or a
// full listing) returned: the SDK trusts the server, and servers differ in
// case sensitivity. Exact matches win; otherwise a unique case-insensitive
// match. It returns the matches: none, one, or several (ambiguous).
func byTitle[T any](cands []T, want string, title func(T) string) []T {
	var exact, folded []T
	for _, c := range cands {
		switch t := title(c); {
		case t == want:
			exact = append(exact, c)
		case strings.EqualFold(t, want):
			folded = append(folded, c)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return folded
}

// matchField finds the field ref names in item.
//
// With a section, only that section's fields count; the section is matched
// by ID, then by label exactly, then by label or ID case-insensitively.
// Without one, a unique match among the fields outside any section wins,
// else a unique match inside a section. Within that, a field matches by ID
// first, then by exact label, then by case-insensitive label; the first
// rule that matches anything decides, and several matches are ambiguous.
func matchField(item *onepassword.Item, ref opref.Ref) (*onepassword.ItemField, *failure) {
	labels := sectionLabels(item)
	var secs map[string]bool
	if ref.HasSection() {
		secs = matchSections(item, ref.Section)
		if len(secs) == 0 {
			return nil, fail(provider.CodeNotFound, "item %s has no section %q%s", describeItem(item), ref.Section, listSections(item))
		}
	}
	ps := pools(item.Fields, sectionID, secs)
	switch hits := firstMatch(ps, func(f *onepassword.ItemField) string { return f.ID }, func(f *onepassword.ItemField) string { return f.Label }, ref.Field); {
	case len(hits) == 1:
		return hits[0], nil
	case len(hits) > 1:
		return nil, fail(provider.CodeAmbiguous, "field %q matches %d fields of item %s: %s; refer to the field by its ID%s",
			ref.Field, len(hits), describeItem(item), listFields(hits, labels), sectionHint(ref, hits))
	}
	where := ""
	var pool []*onepassword.ItemField
	if ref.HasSection() {
		where = fmt.Sprintf(" in section %q", ref.Section)
		pool = ps[0]
	} else {
		pool = append(ps[0], ps[1]...)
	}
	return nil, fail(provider.CodeNotFound, "item %s has no field %q%s%s", describeItem(item), ref.Field, where, listLabels(pool, labels, !ref.HasSection()))
}

// listLabels lists the fields a reference could have named, by label (by
// ID when unlabelled), never by value; withSection adds each field's
// section.
func listLabels(fs []*onepassword.ItemField, labels map[string]string, withSection bool) string {
	if len(fs) == 0 {
		return " (it has no fields there)"
	}
	parts := make([]string, 0, min(len(fs), maxListed+1))
	for i, f := range fs {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-i))
			break
		}
		s := f.ID
		if f.Label != "" {
			s = fmt.Sprintf("%q", f.Label)
		}
		if id := sectionID(f); withSection && id != "" {
			if l := labels[id]; l != "" {
				s += fmt.Sprintf(" (section %q)", l)
			} else {
				s += fmt.Sprintf(" (section %s)", id)
			}
		}
		parts = append(parts, s)
	}
	return "; its fields: " + strings.Join(parts, ", ")
}

// fieldValue applies the reference's attribute to the field.
func fieldValue(item *onepassword.Item, f *onepassword.ItemField, ref opref.Ref, now nowFunc) ([]byte, *failure) {
	if ref.Attribute != opref.AttrOTP {
		return []byte(f.Value), nil
	}
	if !strings.EqualFold(string(f.Type), fieldTypeOTP) {
		return nil, fail(provider.CodeInvalidReference,
			"?attribute=otp needs a one-time password field, but field %s of item %s has type %s",
			describeField(f), describeItem(item), f.Type)
	}
	if f.TOTP != "" {
		return []byte(f.TOTP), nil // the code the server computed
	}
	code, err := totpFromURI(f.Value, now())
	if err != nil {
		return nil, fail(provider.CodeNotFound,
			"one-time password field %s of item %s has no current code: Connect sent none and the field's value is %v",
			describeField(f), describeItem(item), err)
	}
	return []byte(code), nil
}

// matchSections returns the IDs of the sections name selects.
func matchSections(item *onepassword.Item, name string) map[string]bool {
	rules := []func(*onepassword.ItemSection) bool{
		func(s *onepassword.ItemSection) bool { return s.ID == name },
		func(s *onepassword.ItemSection) bool { return s.Label == name },
		func(s *onepassword.ItemSection) bool {
			return strings.EqualFold(s.Label, name) || strings.EqualFold(s.ID, name)
		},
	}
	for _, rule := range rules {
		out := map[string]bool{}
		for _, s := range item.Sections {
			if s != nil && s.ID != "" && rule(s) {
				out[s.ID] = true
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	// A field may point at a section the item does not list; its ID still
	// names it.
	for _, f := range item.Fields {
		if f != nil && sectionID(f) == name {
			return map[string]bool{name: true}
		}
	}
	return nil
}

func sectionID(f *onepassword.ItemField) string {
	if f.Section == nil {
		return ""
	}
	return f.Section.ID
}

func sectionLabels(item *onepassword.Item) map[string]string {
	m := map[string]string{}
	for _, s := range item.Sections {
		if s != nil {
			m[s.ID] = s.Label
		}
	}
	return m
}

func describeItem(item *onepassword.Item) string {
	return fmt.Sprintf("%q (%s)", item.Title, item.ID)
}

func describeField(f *onepassword.ItemField) string {
	if f.Label == "" {
		return f.ID
	}
	return fmt.Sprintf("%q (%s)", f.Label, f.ID)
}

func listFields(fs []*onepassword.ItemField, labels map[string]string) string {
	parts := make([]string, 0, len(fs))
	for i, f := range fs {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-i))
			break
		}
		s := "id " + f.ID
		if id := sectionID(f); id != "" {
			if l := labels[id]; l != "" {
				s += fmt.Sprintf(" in section %q", l)
			} else {
				s += fmt.Sprintf(" in section %s", id)
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// sectionHint suggests naming the section when the matches sit in
// different sections.
func sectionHint(ref opref.Ref, hits []*onepassword.ItemField) string {
	if ref.HasSection() {
		return ""
	}
	secs := map[string]bool{}
	for _, f := range hits {
		secs[sectionID(f)] = true
	}
	if len(secs) > 1 {
		return " or name its section (op://vault/item/section/field)"
	}
	return ""
}

func listSections(item *onepassword.Item) string {
	var names []string
	for _, s := range item.Sections {
		if s == nil {
			continue
		}
		if s.Label != "" {
			names = append(names, fmt.Sprintf("%q (%s)", s.Label, s.ID))
		} else {
			names = append(names, s.ID)
		}
	}
	if len(names) == 0 {
		return " (it has no sections)"
	}
	sort.Strings(names)
	if len(names) > maxListed {
		names = append(names[:maxListed], fmt.Sprintf("and %d more", len(names)-maxListed))
	}
	return "; its sections: " + strings.Join(names, ", ")
}

// listIDs lists candidates for an ambiguity message.
func listIDs[T any](cands []T, describe func(T) string) string {
	parts := make([]string, 0, len(cands))
	for i, c := range cands {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(cands)-i))
			break
		}
		parts = append(parts, describe(c))
	}
	return strings.Join(parts, ", ")
}
