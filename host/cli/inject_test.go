package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	src := "user: {{ op://Demo/Postgres/username }}\npw: {{op://Demo/Postgres/password}}\n" +
		"otp: {{  op://Demo/GitHub/one-time password?attribute=otp\t}}\n" +
		"go: {{ .Values.x }} jinja: {{ var }} url: {{ http }}\n" +
		"triple: {{{ file://x }}}\nbroken: {{ op://a\n}} open: {{ op://never/closed"
	tmpl := parseTemplate(src)
	refs := tmpl.Refs()
	want := []string{"op://Demo/Postgres/username", "op://Demo/Postgres/password", "op://Demo/GitHub/one-time password?attribute=otp", "file://x"}
	if strings.Join(refs, "|") != strings.Join(want, "|") {
		t.Errorf("refs:\n got %q\nwant %q", refs, want)
	}
	got := string(tmpl.Render(map[string][]byte{
		"op://Demo/Postgres/username": []byte("app"),
		"op://Demo/Postgres/password": []byte("p{{w}}"),
		"file://x":                    []byte("X"),
	}))
	wantOut := "user: app\npw: p{{w}}\n" +
		"otp: {{  op://Demo/GitHub/one-time password?attribute=otp\t}}\n" +
		"go: {{ .Values.x }} jinja: {{ var }} url: {{ http }}\n" +
		"triple: {X}\nbroken: {{ op://a\n}} open: {{ op://never/closed"
	if got != wantOut {
		t.Errorf("render:\n got %q\nwant %q", got, wantOut)
	}
	if string(tmpl.Render(nil)) != src {
		t.Error("rendering without values does not reproduce the template")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "app.env")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(out, []byte("new"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	st, _ := os.Stat(out)
	if string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v", b, st.Mode().Perm())
	}
	if err := writeFileAtomic(out, []byte("x"), 0o640, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}

	// A directory in the way: error, nothing left behind.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := writeFileAtomic(sub, []byte("x"), 0o600, true); err == nil {
		t.Error("wrote over a directory")
	}
	// A missing directory: error.
	if err := writeFileAtomic(filepath.Join(dir, "nope", "f"), []byte("x"), 0o600, true); err == nil {
		t.Error("no error for a missing directory")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".secrethost-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestParseFileMode(t *testing.T) {
	for in, want := range map[string]os.FileMode{"0600": 0o600, "600": 0o600, "0o640": 0o640, "0": 0} {
		if got, err := parseFileMode(in); err != nil || got != want {
			t.Errorf("%s: %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "rw", "0800", "1777", "-1"} {
		if _, err := parseFileMode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestOutputTargetRefusesDescriptors: the real /dev/stdout and friends are
// refused before anything is written (checked without writing).
func TestOutputTargetRefusesDescriptors(t *testing.T) {
	for _, p := range []string{"/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/1", "/dev/null"} {
		if _, _, err := outputTarget(p); err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
}
