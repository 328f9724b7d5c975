package providertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// TestSkips pins down which checks skip, and why, so that a skip cannot
// silently replace a check.
func TestSkips(t *testing.T) {
	f := newFixture(t)
	s := f.suite(InProcess(func() provider.Provider { return f.provider() }))
	s.Requests = nil
	s.SensitiveConfig = nil // and the schema marks nothing sensitive
	got := record(t, s)
	for name, r := range got {
		want := name == "ValidateOffline" || name == "NoSecretsInErrors"
		if r.Failed() || r.Skipped() != want {
			t.Errorf("%s: failed=%v skipped=%v, want failed=false skipped=%v\n%s", name, r.Failed(), r.Skipped(), want, strings.Join(r.log, "\n"))
		}
	}
}

func TestSuiteValidate(t *testing.T) {
	f := newFixture(t)
	good := f.suite(InProcess(func() provider.Provider { return f.provider() }))
	if err := good.validate(); err != nil {
		t.Fatalf("valid suite rejected: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Suite)
		want   string
	}{
		{"no New", func(s *Suite) { s.New = nil }, "New is nil"},
		{"one valid", func(s *Suite) { s.Valid = s.Valid[:1] }, "at least 2"},
		{"no invalid", func(s *Suite) { s.Invalid = nil }, "Invalid is empty"},
		{"no missing", func(s *Suite) { s.Missing = nil }, "Missing is empty"},
		{"listed twice", func(s *Suite) { s.Missing = append(s.Missing, s.Valid[0]) }, "listed in Valid and in Missing"},
		{"duplicate valid", func(s *Suite) { s.Valid = append(s.Valid, s.Valid[0]) }, "listed in Valid and in Valid"},
		{"empty valid", func(s *Suite) { s.Valid = append(s.Valid, "") }, "empty reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			s.Valid = append([]string(nil), good.Valid...)
			s.Missing = append([]string(nil), good.Missing...)
			tc.change(&s)
			err := s.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestBinaryRefusesUnsafeFile: Binary applies the host's trust rules (shared/launch),
// so a binary the host would not run fails the check that launches it.
func TestBinaryRefusesUnsafeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := recordFunc(t, func(r testing.TB) {
		Binary(path)(r)
		t.Error("Binary returned a provider for a file that is not executable")
	})
	if !r.Failed() || !strings.Contains(strings.Join(r.log, "\n"), "not executable") {
		t.Errorf("Binary on a non-executable file: failed=%v, log %q; want a failure saying it is not executable", r.Failed(), r.log)
	}
}
