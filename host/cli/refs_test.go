package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func varsMap(vs []refVar) map[string]string {
	m := map[string]string{}
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

func names(vs []refVar) string {
	var n []string
	for _, v := range vs {
		n = append(n, v.Name)
	}
	return strings.Join(n, ",")
}

func TestParseRefsYAMLDocoCD(t *testing.T) {
	src := `# deploy config
name: demo
reference: main
external_secrets:
  DB_USER: op://Demo/Postgres/username
  DB_PASSWORD: "op://Demo/Postgres/password"
  GITHUB_OTP: 'op://Demo/GitHub/one-time password?attribute=otp'
---
name: other
external_secrets:
  API_KEY: file://api_key
`
	vars, err := parseRefsYAML([]byte(src), ".doco-cd.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vars); got != "DB_USER,DB_PASSWORD,GITHUB_OTP,API_KEY" {
		t.Errorf("names in order: %s", got)
	}
	m := varsMap(vars)
	if m["GITHUB_OTP"] != "op://Demo/GitHub/one-time password?attribute=otp" || m["API_KEY"] != "file://api_key" {
		t.Errorf("values: %q", m)
	}
	if vars[1].Where != ".doco-cd.yml:6" {
		t.Errorf("Where = %q", vars[1].Where)
	}
}

func TestParseRefsYAMLPlainMapping(t *testing.T) {
	vars, err := parseRefsYAML([]byte("A: op://v/i/f\nB: file://b\n"), "refs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m := varsMap(vars); len(m) != 2 || m["A"] != "op://v/i/f" || m["B"] != "file://b" {
		t.Errorf("got %q", m)
	}
}

func TestParseRefsYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "empty file"},
		{"list", "- a\n- b\n", "expected a mapping"},
		{"nested", "A:\n  b: c\n", "expected a secret reference string, found a mapping"},
		{"null", "A:\n", "found nothing"},
		{"duplicate across documents", "external_secrets:\n  A: op://x/y/z\n---\nexternal_secrets:\n  A: op://x/y/w\n", "already defined at x.yml:2"},
		{"external_secrets not a mapping", "external_secrets: op://x\n", "expected a mapping"},
		{"syntax", "A: [unclosed\n", "x.yml"},
		{"documents without external_secrets", "A: op://x/y/z\n---\nB: op://x/y/z\n", "no external_secrets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRefsYAML([]byte(tc.src), "x.yml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// An empty external_secrets is no references, not an error.
	vars, err := parseRefsYAML([]byte("name: x\nexternal_secrets:\n"), "x.yml")
	if err != nil || len(vars) != 0 {
		t.Errorf("empty external_secrets: %v, %v", vars, err)
	}
}

func TestParseDotenv(t *testing.T) {
	src := "\ufeff# comment\n\nexport A=op://v/i/f\nB = 'file://b' # c\nC=\"op://v/i/f?attribute=otp\"\nA=op://v/i/g\nD=\nE=  x  #  y\n"
	vars, err := parseDotenv([]byte(src), "refs.env")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vars); got != "A,B,C,D,E" {
		t.Errorf("names: %s", got)
	}
	m := varsMap(vars)
	want := map[string]string{"A": "op://v/i/g", "B": "file://b", "C": "op://v/i/f?attribute=otp", "D": "", "E": "x"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if vars[0].Where != "refs.env:6" {
		t.Errorf("A comes from %s, want its last definition", vars[0].Where)
	}
}

func TestParseDotenvErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"A", "refs.env:1: expected NAME=VALUE"},
		{"\n\n1A=x", "refs.env:3: invalid variable name"},
		{"A B=x", "invalid variable name"},
		{"A=\"open\nstill open", "refs.env:1: unterminated \"-quoted value"},
		{"A='x' y", "unexpected text after the closing quote"},
	} {
		_, err := parseDotenv([]byte(tc.src), "refs.env")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestReadRefsFileDetectsFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ file, content string }{
		{".doco-cd.yml", "external_secrets:\n  A: op://v/i/f\n"},
		{"refs.yaml", "A: op://v/i/f\n"},
		{".env", "A=op://v/i/f\n"},
		{"prod.env", "A='op://v/i/f'\n"},
		{".env.local", "A=op://v/i/f\n"},
		{"secrets", "A: op://v/i/f\n"},
		{"secrets.txt", "A=op://v/i/f\n"},
	} {
		vars, err := readRefsFile(write(tc.file, tc.content))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if m := varsMap(vars); len(m) != 1 || m["A"] != "op://v/i/f" {
			t.Errorf("%s: got %q", tc.file, m)
		}
	}
	if _, err := readRefsFile(filepath.Join(dir, "missing.yml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestParseRefArgs(t *testing.T) {
	vars := parseRefArgs([]string{"DB=op://v/i/f", "op://v/i/f?attribute=otp", "file://x", "A.B=file://y", "x=y=z"})
	want := []refVar{
		{Name: "DB", Value: "op://v/i/f"},
		{Name: "op://v/i/f?attribute=otp", Value: "op://v/i/f?attribute=otp"},
		{Name: "file://x", Value: "file://x"},
		{Name: "A.B", Value: "file://y"},
		{Name: "x", Value: "y=z"},
	}
	for i, w := range want {
		if vars[i].Name != w.Name || vars[i].Value != w.Value {
			t.Errorf("%d: got %s=%s, want %s=%s", i, vars[i].Name, vars[i].Value, w.Name, w.Value)
		}
	}
	if !vars[1].isBare() || vars[0].isBare() {
		t.Error("isBare wrong")
	}
}

func TestMergeRefs(t *testing.T) {
	a := []refVar{{Name: "A", Value: "op://1", Where: "f:1"}}
	if got, err := mergeRefs(a, []refVar{{Name: "A", Value: "op://1"}, {Name: "B", Value: "op://2"}}); err != nil || len(got) != 2 {
		t.Errorf("same pair twice: %v, %v", got, err)
	}
	if _, err := mergeRefs(a, []refVar{{Name: "A", Value: "op://3", Where: "argument 1"}}); err == nil || !strings.Contains(err.Error(), "f:1") {
		t.Errorf("conflict: %v", err)
	}
}
