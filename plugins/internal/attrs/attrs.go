// Package attrs checks the names in a plugin's configuration map against
// its schema, for the 1Password plugins: a name the schema does not know is
// a mistake to report (with the closest known name), not something to
// ignore while a required attribute is reported missing.
package attrs

import (
	"fmt"
	"slices"
	"strings"
)

// Check returns an error naming each key of cfg that is not in known, with
// the closest known name when one is close; nil when all are known. Only
// names appear in the message, never values.
func Check(cfg map[string]string, known []string) error {
	var unknown []string
	for k := range cfg {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	parts := make([]string, len(unknown))
	for i, k := range unknown {
		parts[i] = fmt.Sprintf("%q", k)
		if s := Closest(k, known); s != "" {
			parts[i] += fmt.Sprintf(" (did you mean %s?)", s)
		}
	}
	noun := "attribute"
	if len(unknown) > 1 {
		noun = "attributes"
	}
	return fmt.Errorf("unknown configuration %s %s; known: %s", noun, strings.Join(parts, ", "), strings.Join(known, ", "))
}

// Closest returns the name in known nearest to name (by edit distance,
// ignoring case, a swap of two neighbouring characters counting as one
// edit), or "" when none is near enough to be a plausible typo.
func Closest(name string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := distance(strings.ToLower(name), strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(2, len([]rune(name))/4) {
		return ""
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours.
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
