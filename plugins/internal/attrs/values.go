package attrs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The value parsers below are shared by the 1Password plugins, so both
// read and reject values in the same words. A value is trimmed; a blank
// one counts as unset (as in shared/credential) and gives the default. A
// value that does not parse is never echoed: something that is not a
// boolean, duration or number may be a token set in the wrong place.

// Lookup returns the trimmed value of name and whether it is set.
func Lookup(cfg map[string]string, name string) (string, bool) {
	v := strings.TrimSpace(cfg[name])
	return v, v != ""
}

// Bool parses name as true or false.
func Bool(cfg map[string]string, name string, def bool) (bool, error) {
	v, ok := Lookup(cfg, name)
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s is not a boolean (%d-character value, not shown); use true or false", name, len(v))
	}
	return b, nil
}

// Duration parses name as a Go duration.
func Duration(cfg map[string]string, name string, def time.Duration) (time.Duration, error) {
	v, ok := Lookup(cfg, name)
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s is not a duration (%d-character value, not shown); use a Go duration, a number with a unit such as 1500ms, 10s, 5m or 1h", name, len(v))
	}
	return d, nil
}

// Int parses name as a whole number from lo to hi (hi = math.MaxInt: no
// upper bound).
func Int(cfg map[string]string, name string, def, lo, hi int) (int, error) {
	v, ok := Lookup(cfg, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s is not a whole number (%d-character value, not shown); %s", name, len(v), rangeText(lo, hi))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s = %d is out of range: %s", name, n, rangeText(lo, hi))
	}
	return n, nil
}

func rangeText(lo, hi int) string {
	if hi == math.MaxInt {
		return fmt.Sprintf("it must be at least %d", lo)
	}
	return fmt.Sprintf("it must be between %d and %d", lo, hi)
}
