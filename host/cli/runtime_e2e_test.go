package cli

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secrethost/secrethost/internal/testbin"
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

// TestE2EConfigurationErrorsExit2: every configuration error exits 2,
// whether config.hcl, the plugin (rejecting its settings) or the host (two
// providers for one scheme) finds it, and says what to fix.
func TestE2EConfigurationErrorsExit2(t *testing.T) {
	f := newFixture(t)
	tokenFile := writeTemp(t, f.dir, "token", testToken+"\n")
	f.writeConfig("banana.hcl", `
plugin_dir = %q
provider "onepassword-connect" {
  config_from_env = true
  config = { request_timeout = "banana" }
}
`, f.pluginDir)
	f.writeConfig("twice.hcl", `
plugin_dir = %q
provider "connect-a" {
  plugin          = "onepassword-connect"
  config_from_env = true
}
provider "connect-b" {
  plugin          = "onepassword-connect"
  config_from_env = true
}
`, f.pluginDir)
	f.writeConfig("typo.hcl", `
plugin_dir = %q
provider "onepassword-connect" {
  config = {
    SECRET_PROVIDER_CONNECT_HOTS  = %q
    SECRET_PROVIDER_CONNECT_TOKEN = env("SECRET_PROVIDER_CONNECT_TOKEN")
  }
}
`, f.pluginDir, f.srv.URL())
	testbin.Build(t, f.pluginDir, "onepassword-sa", "./plugins/onepassword-sa", "")
	f.writeConfig("satypo.hcl", `
plugin_dir = %q
provider "onepassword-sa" {
  config = { SECRET_PROVIDER_ACCES_TOKEN = "ops_x" }
}
`, f.pluginDir)
	ref := "DB=op://Demo/Postgres/password"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no token", []string{"SECRET_PROVIDER_CONNECT_TOKEN="}, []string{"resolve", ref},
			[]string{"SECRET_PROVIDER_CONNECT_TOKEN", "not set"}},
		{"token and token file", []string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE=" + tokenFile}, []string{"resolve", ref},
			[]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE", "mutually exclusive"}},
		{"IP host without scheme", []string{"SECRET_PROVIDER_CONNECT_HOST=127.0.0.1:18080"}, []string{"resolve", ref},
			[]string{"scheme is missing: write http://127.0.0.1:18080"}},
		{"host without scheme", []string{"SECRET_PROVIDER_CONNECT_HOST=localhost:18080"}, []string{"resolve", ref},
			[]string{"scheme is missing: write http://localhost:18080"}},
		{"token without host", []string{"SECRET_PROVIDER_CONNECT_HOST="}, []string{"resolve", ref},
			[]string{"SECRET_PROVIDER_CONNECT_HOST is not set"}},
		{"timeout not a duration", nil, []string{"--config", "banana.hcl", "resolve", ref},
			[]string{"request_timeout is not a duration"}},
		{"two providers for op", nil, []string{"--config", "twice.hcl", "resolve", ref},
			[]string{`providers "connect-a"`, `"connect-b"`, `both handle "op" references`}},
		{"misspelt attribute", nil, []string{"--config", "typo.hcl", "resolve", ref},
			[]string{`unknown configuration attribute "SECRET_PROVIDER_CONNECT_HOTS" (did you mean SECRET_PROVIDER_CONNECT_HOST?)`}},
		{"run", []string{"SECRET_PROVIDER_CONNECT_TOKEN="}, []string{"run", "--", "true"}, []string{"SECRET_PROVIDER_CONNECT_TOKEN"}},
		{"service account without a token", []string{"SECRET_PROVIDER_CONNECT_HOST=", "SECRET_PROVIDER_CONNECT_TOKEN="}, []string{"resolve", ref},
			[]string{`provider "onepassword-sa"`, "SECRET_PROVIDER_ACCESS_TOKEN"}},
		{"service account, misspelt attribute", nil, []string{"--config", "satypo.hcl", "resolve", ref},
			[]string{`"SECRET_PROVIDER_ACCES_TOKEN" (did you mean SECRET_PROVIDER_ACCESS_TOKEN?)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if tc.name == "run" {
				env = append(env, "DB=op://Demo/Postgres/password")
			}
			r := f.run(t, "", env, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if !strings.HasPrefix(tc.name, "service account") && strings.Contains(r.stderr, "SECRET_PROVIDER_ACCESS_TOKEN") {
				t.Errorf("stderr speaks of the service account:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			noLeak(t, "stderr", r.stderr)
		})
	}
}

// TestE2EReferenceTrimmingAndFieldList: whitespace around a reference is
// no part of it, at the start as at the end; a field that is not found is
// reported with the item's field labels (never their values).
func TestE2EReferenceTrimmingAndFieldList(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", nil, "--config", "op.hcl", "resolve", "--format", "json",
		"LEAD= op://Demo/Postgres/password", "TRAIL=op://Demo/Postgres/password ", "BOTH=\top://Demo/Postgres/username ")
	r.expect(t, 0)
	for _, want := range []string{`"LEAD":"pg-s3cret-9f2c"`, `"TRAIL":"pg-s3cret-9f2c"`, `"BOTH":"app_user"`} {
		if !strings.Contains(strings.ReplaceAll(r.stdout, " ", ""), want) {
			t.Errorf("stdout lacks %s:\n%s", want, r.stdout)
		}
	}

	r = f.run(t, "", nil, "--config", "op.hcl", "resolve", "MISSING=op://Demo/Postgres/nope")
	r.expect(t, 1)
	if !strings.Contains(r.stderr, `no field "nope"; its fields: "username", "password"`) {
		t.Errorf("stderr does not list the fields:\n%s", r.stderr)
	}
	noLeak(t, "stderr", r.stderr)
	if strings.Contains(r.stderr, "app_user") {
		t.Errorf("stderr shows a field's value:\n%s", r.stderr)
	}
}
