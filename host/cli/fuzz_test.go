package cli

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDotenvParse: the parser never panics, and whatever it reads, written
// back by dotenvBytes, reads back the same (through the compose model
// too).
func FuzzDotenvParse(f *testing.F) {
	f.Add([]byte("A=op://v/i/f\n"))
	f.Add([]byte("export A='x' # c\nB=\"y\\n\\$z\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := parseDotenv(data, "fuzz.env")
		if err != nil {
			return
		}
		var secrets []namedSecret
		for _, v := range vars {
			if !dotenvKeyPattern.MatchString(v.Name) {
				t.Fatalf("parser returned the invalid name %q", v.Name)
			}
			if strings.IndexByte(v.Value, 0) >= 0 {
				return // NUL cannot be written back; reading it is fine
			}
			secrets = append(secrets, namedSecret{Name: v.Name, Value: []byte(v.Value)})
		}
		out, err := dotenvBytes(secrets)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseDotenv(out, "again.env")
		if err != nil {
			t.Fatalf("re-parse: %v\n%q", err, out)
		}
		compose, err := composeParse(string(out), nil)
		if err != nil {
			t.Fatalf("compose model: %v\n%q", err, out)
		}
		for i, v := range vars {
			if again[i].Name != v.Name || again[i].Value != v.Value {
				t.Fatalf("round trip: %s=%q became %s=%q", v.Name, v.Value, again[i].Name, again[i].Value)
			}
			if compose[v.Name] != v.Value {
				t.Fatalf("compose reads %s=%q, want %q", v.Name, compose[v.Name], v.Value)
			}
		}
	})
}

// FuzzDotenvValue: every value without NUL survives dotenvBytes and
// both parsers exactly.
func FuzzDotenvValue(f *testing.F) {
	for _, v := range trickyValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		if bytes.IndexByte(value, 0) >= 0 {
			return
		}
		out, err := dotenvBytes([]namedSecret{{Name: "K", Value: value}, {Name: "NEXT", Value: []byte("n")}})
		if err != nil {
			t.Fatal(err)
		}
		vars, err := parseDotenv(out, "v.env")
		if err != nil || len(vars) != 2 || vars[0].Value != string(value) || vars[1].Value != "n" {
			t.Fatalf("own parser: %v %q\n%q", err, vars, out)
		}
		m, err := composeParse(string(out), func(string) (string, bool) { return "INTERPOLATED", true })
		if err != nil || m["K"] != string(value) || m["NEXT"] != "n" {
			t.Fatalf("compose model: %v %q\n%q", err, m, out)
		}
	})
}

// FuzzRefsYAML: the YAML reader never panics and returns only named,
// non-empty references with unique names.
func FuzzRefsYAML(f *testing.F) {
	f.Add([]byte("external_secrets:\n  A: op://v/i/f\n"))
	f.Add([]byte("A: op://v/i/f\nB: file://b\n"))
	f.Add([]byte("name: x\n---\nexternal_secrets:\n  A: &a op://x\n  B: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := parseRefsYAML(data, "fuzz.yml")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range vars {
			if v.Name == "" || v.Value == "" || seen[v.Name] {
				t.Fatalf("bad entry %+v in %q", v, vars)
			}
			seen[v.Name] = true
		}
	})
}

// FuzzInjectTemplate: parsing never panics, rendering without values gives
// the template back, and every slot's reference is trimmed, single-line and
// starts with scheme://.
func FuzzInjectTemplate(f *testing.F) {
	f.Add("user: {{ op://Demo/Postgres/username }}\n")
	f.Add("{{{op://a/b/c}}} {{ .x }} {{ op://x")
	f.Add("{{ file://x }}{{file://y}}")
	f.Fuzz(func(t *testing.T, src string) {
		tmpl := parseTemplate(src)
		if got := string(tmpl.Render(nil)); got != src {
			t.Fatalf("identity render: got %q, want %q", got, src)
		}
		values := map[string][]byte{}
		for _, r := range tmpl.Refs() {
			if !refLike(r) || strings.ContainsAny(r, "\n\r") || strings.Trim(r, " \t") != r {
				t.Fatalf("bad reference %q", r)
			}
			values[r] = []byte("V")
		}
		out := tmpl.Render(values)
		if len(tmpl.Refs()) > 0 && bytes.Equal(out, []byte(src)) && utf8.ValidString(src) {
			t.Fatalf("references found but nothing replaced in %q", src)
		}
	})
}
