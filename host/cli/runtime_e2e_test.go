package cli

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestE2EInvalidUTF8Reference: a reference that is not UTF-8 next to good
// ones fails on its own, under its name, and shows none of its bytes; the
// good ones are not blamed on the plugin.
func TestE2EInvalidUTF8Reference(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"--config", "op.hcl", "resolve", "GOOD=op://Demo/Postgres/password", "BAD=op://Demo/Postgres/\xffhunter2", "MISSING=op://Demo/Postgres/nope"},
		{"--config", "mixed.hcl", "resolve", "GOOD=op://Demo/Postgres/password", "API=file://api_key", "BAD=file://\xfe\xffhunter2", "MISSING=op://Demo/Postgres/nope"},
	} {
		r := f.run(t, "", []string{"SECRETHOST_LOG_LEVEL=trace"}, args...)
		r.expect(t, 1)
		if r.stdout != "" {
			t.Errorf("stdout not empty: %q", r.stdout)
		}
		for _, want := range []string{"BAD (<not valid UTF-8>): invalid_reference: not valid UTF-8", "MISSING (op://Demo/Postgres/nope): not_found"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		for _, bad := range []string{"GOOD", "API (", "protocol", "hunter2"} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("stderr has %q:\n%s", bad, r.stderr)
			}
		}
		if !utf8.ValidString(r.stderr) {
			t.Errorf("stderr carries the reference's bytes: %q", r.stderr)
		}
		noLeak(t, "stderr", r.stderr)
	}

	r := f.run(t, "", nil, "--config", "op.hcl", "validate", "op://Demo/Postgres/password", "op://Demo/\xffhunter2")
	r.expect(t, 1)
	if !strings.Contains(r.stdout, "ok  op://Demo/Postgres/password") || !strings.Contains(r.stdout, "invalid  <not valid UTF-8>") || strings.Contains(r.stdout+r.stderr, "hunter2") || !utf8.ValidString(r.stdout) {
		t.Errorf("validate: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}
