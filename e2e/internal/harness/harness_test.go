package harness

import (
	"fmt"
	"testing"
)

type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }

// TestNoSecretIn: the leak check every e2e host gets fails on a secret in
// the log, once per secret, and not on a clean log or an empty secret.
func TestNoSecretIn(t *testing.T) {
	r := &recorder{TB: t}
	NoSecretIn(r, `2026 [DEBUG] plugin: configured token=tok-1 other=ok`, "tok-1", "absent-2", "")
	if len(r.errs) != 1 || r.errs[0] != `the log contains the secret "tok-1"` {
		t.Errorf("NoSecretIn reported %q, want the one leaked secret", r.errs)
	}
}
