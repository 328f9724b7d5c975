package provider

import "testing"

func TestSchemeOf(t *testing.T) {
	for _, tc := range []struct {
		ref, scheme string
		ok          bool
	}{
		{"op://v/i/f", "op", true},
		{"OP://v/i/f", "op", true},
		{" \top://v/i/f ", "op", true},
		{"git+ssh://x", "git+ssh", true},
		{"a1.b-c://x", "a1.b-c", true},
		{"https://oauth2:tok@github.com/o/r", "https", true},
		{"://x", "", false},
		{"op:/x", "", false},
		{"1op://x", "", false},
		{"my secret://x", "", false},
		{"op ://x", "", false},
		{"plain value", "", false},
		{"", "", false},
	} {
		sc, ok := SchemeOf(tc.ref)
		if sc != tc.scheme || ok != tc.ok {
			t.Errorf("SchemeOf(%q) = %q, %v; want %q, %v", tc.ref, sc, ok, tc.scheme, tc.ok)
		}
	}
}

func TestSchemeList(t *testing.T) {
	if got := SchemeList(nil); got != "none" {
		t.Errorf("SchemeList(nil) = %q", got)
	}
	if got := SchemeList([]string{"op", "file", "op"}); got != "file://, op://" {
		t.Errorf("SchemeList = %q", got)
	}
}
