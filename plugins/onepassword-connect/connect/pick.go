package connect

import "strings"

// The matching rules fields and file attachments share, as 1Password's
// references name them: a name is looked for among the members of the
// named section (any section whose label or ID matches), or, without a
// section, first among those outside any section and then among the rest;
// within a pool, by ID first, then by exact name, then by name ignoring
// case. The first rule and pool with any hit decide: one hit is the match,
// more are ambiguous. Never a silent first match.

// pools splits members into the pools a name is matched in. inSection
// reports the section ID of a member ("" for none); secs holds the IDs of
// the sections a reference names, nil when it names none.
func pools[T any](members []*T, inSection func(*T) string, secs map[string]bool) [][]*T {
	if secs != nil {
		var in []*T
		for _, m := range members {
			if m != nil && secs[inSection(m)] {
				in = append(in, m)
			}
		}
		return [][]*T{in}
	}
	var outside, inside []*T
	for _, m := range members {
		switch {
		case m == nil:
		case inSection(m) == "":
			outside = append(outside, m)
		default:
			inside = append(inside, m)
		}
	}
	return [][]*T{outside, inside}
}

// firstMatch returns the hits of the first rule (ID, exact name, name ignoring
// case) and pool that has any: nil when nothing matches.
func firstMatch[T any](ps [][]*T, id, name func(*T) string, want string) []*T {
	rules := []func(*T) bool{
		func(m *T) bool { return id(m) == want },
		func(m *T) bool { return name(m) == want },
		func(m *T) bool { return strings.EqualFold(name(m), want) },
	}
	for _, rule := range rules {
		for _, pool := range ps {
			var hits []*T
			for _, m := range pool {
				if rule(m) {
					hits = append(hits, m)
				}
			}
			if len(hits) > 0 {
				return hits
			}
		}
	}
	return nil
}
