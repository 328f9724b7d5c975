package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const (
	envSecret  = "ops_eyJzZWNyZXQiOiJ2YWx1ZSJ9/PLANTED+ENV+SECRET=="
	fileSecret = "file secret: correct horse battery staple"
)

// secretFragments are pieces of the planted secrets that must not show up
// either (a partial leak is still a leak).
var secretFragments = []string{envSecret, fileSecret, "PLANTED+ENV", "eyJzZWNyZXQi", "correct horse", "battery staple"}

// Values read by env() and file() never appear in errors, whatever goes
// wrong with them.
func TestSecretsNeverInErrors(t *testing.T) {
	env := map[string]string{"TOKEN": envSecret, "TOKEN_FILE": "secret.txt"}
	files := map[string]string{"secret.txt": "\n" + fileSecret + "\n"}

	// Positive control: the secrets are really read.
	cfg, err := loadHere(t, withConfig(files, `provider "p" {
  config = {
    e = env("TOKEN")
    f = file(env("TOKEN_FILE"))
  }
}`), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].Config["e"] != envSecret || cfg.Providers[0].Config["f"] != fileSecret {
		t.Fatalf("control failed: %v", cfg.Providers[0].Config)
	}

	bad := []string{
		// Top-level attributes.
		`log_level = env("TOKEN")`,
		`log_level = upper(file("secret.txt"))`,
		`select = env("TOKEN")`,
		`select = file("secret.txt")`,
		`select = lower(env("TOKEN"))`,
		`plugin_dir = [env("TOKEN")]`,
		// Provider attributes.
		`provider "p" { sha256 = env("TOKEN") }`,
		`provider "p" { sha256 = file("secret.txt") }`,
		`provider "p" { sha256 = "${env("TOKEN")}${env("TOKEN")}" }`,
		`provider "p" { plugin = env("TOKEN") }`,
		`provider "p" { plugin = "${file("secret.txt")}/x" }`,
		`provider "p" { plugin = "../${env("TOKEN")}" }`,
		`provider "p" { select = [env("TOKEN")] }`,
		`provider "p" { enabled = env("TOKEN") }`,
		`provider "p" { enabled = file("secret.txt") }`,
		`provider "p" { config_from_env = env("TOKEN") }`,
		`provider "p" { enabled = env("TOKEN") != "" ? env("TOKEN") : false }`,
		// Config values.
		`provider "p" { config = env("TOKEN") }`,
		`provider "p" { config = { x = [env("TOKEN")] } }`,
		`provider "p" { config = { x = { y = file("secret.txt") } } }`,
		`provider "p" { config = { (env("TOKEN")) = [1] } }`,
		`provider "p" { config = { (file("secret.txt")) = { a = 1 } } }`,
		`provider "p" { config = { x = { a = 1 }[env("TOKEN")] } }`,
		`provider "p" { config = { x = { a = 1 }[file("secret.txt")] } }`,
		`provider "p" { config = { x = [1][env("TOKEN")] } }`,
		`provider "p" { config = { x = env(env("TOKEN")) } }`,
		`provider "p" { config = { x = env(file("secret.txt")) } }`,
		`provider "p" { config = { x = file(env("TOKEN")) } }`,
		`provider "p" { config = { x = file(file("secret.txt")) } }`,
		`provider "p" { config = { x = env("TOKEN") + 1 } }`,
		`provider "p" { config = { x = -file("secret.txt") } }`,
		`provider "p" { config = { x = !env("TOKEN") } }`,
		`provider "p" { config = { x = env("TOKEN") && true } }`,
		`provider "p" { config = { x = env("TOKEN") ? "a" : "b" } }`,
		`provider "p" { config = { x = env("TOKEN")[0] } }`,
		`provider "p" { config = { x = env("TOKEN").attr } }`,
		`provider "p" { config = { x = env("TOKEN")[*].attr } }`,
		`provider "p" { config = { x = [for c in env("TOKEN") : c] } }`,
		`provider "p" { config = { x = { for k, v in { a = env("TOKEN") } : v => k }.nope } }`,
		`provider "p" { config = { x = { for k, v in { a = env("TOKEN") } : v => k }["nope"] } }`,
		`provider "p" { config = { x = "${env("TOKEN")}${[1]}" } }`,
		`provider "p" { config = { x = "%{ if env("TOKEN") }y%{ endif }" } }`,
		`provider "p" { config = { x = upper(env("TOKEN"), 1) } }`,
		`provider "p" { config = { x = coalesce(env("TOKEN"), [1]) } }`,
		`provider "p" { config = { x = nosuch(env("TOKEN")) } }`,
		`provider "p" { config = { x = trimspace(env("TOKEN"), file("secret.txt")) } }`,
		`provider "p" { config = { x = env("TOKEN", file("secret.txt"), "z") } }`,
		`provider "p" { config = { x = env("TOKEN") == "a" ? 1 : [1] } }`,
		`provider "p" { config = { x = { (env("TOKEN")) = 1, (env("TOKEN")) = 2 } } }`,
		// HCL itself names the object attribute (here: the secret) in this
		// message; the text redaction of library diagnostics catches it.
		`provider "p" { config = { x = env("NOPE", "") == "" ? { (env("TOKEN")) = 1 } : { b = [1] } } }`,
		`provider "p" { config = { x = env("NOPE", "") == "" ? { for k, v in { a = file("secret.txt") } : v => [k] } : { b = "x" } } }`,
	}
	for i, src := range bad {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			// Add a provider so top-level-only sources reach selection.
			if !strings.Contains(src, "provider") {
				src += "\nprovider \"p\" {}"
			}
			_, err := loadHere(t, withConfig(files, src+"\n"), env)
			if err == nil {
				t.Fatalf("no error for %s", src)
			}
			text := err.Error()
			var ce *Error
			if errors.As(err, &ce) {
				for _, d := range ce.Diagnostics { // including any beyond the rendering cap
					text += "\n" + d.Summary + "\n" + d.Detail + "\n" + d.Snippet
				}
			}
			for _, s := range secretFragments {
				if strings.Contains(text, s) {
					t.Fatalf("secret fragment %q leaked for %s:\n%s", s, src, text)
				}
			}
		})
	}
}

func withConfig(files map[string]string, src string) map[string]string {
	out := map[string]string{"config.hcl": src}
	for k, v := range files {
		out[k] = v
	}
	return out
}

// The selector value is the one value from env() that errors may show: it
// names a provider, and the error would be useless without it. It is shown
// only when it looks like a provider name.
func TestSelectorShownOnlyWhenPlausible(t *testing.T) {
	src := "select = env(\"SP\")\nprovider \"a\" {}\n"
	tests := []struct {
		value, want string
	}{
		{"bitwarden_sm", `unknown provider "bitwarden_sm" in SP; available: a`},
		{"aws.secrets-manager", `unknown provider "aws.secrets-manager" in SP; available: a`},
		{strings.Repeat("x", 33), `unknown provider (a 33-character value that does not look like a provider name, not shown) in SP; available: a`},
		{"pass word", `unknown provider (a 9-character value that does not look like a provider name, not shown) in SP; available: a`},
	}
	for _, tt := range tests {
		_, err := loadSrc(t, src, map[string]string{"SP": tt.value})
		if err == nil || err.Error() != tt.want {
			t.Errorf("SP=%q:\n got %v\nwant %s", tt.value, err, tt.want)
		}
	}
}

// Messages from the HCL library go through text redaction as a safety net;
// messages written by this package do not need it.
func TestRedactLibraryDiagnostics(t *testing.T) {
	rng := hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Bad s3cret-value", Detail: "value s3cret-value and abc", Subject: &rng},
		{Severity: hcl.DiagWarning, Summary: "ignored warning", Subject: &rng},
		diagf(rng, "Own", "keeps %s", "s3cret-value"),
	}
	e := newError(diags, nil, []string{"s3cret-value", "abc"})
	if len(e.Diagnostics) != 2 {
		t.Fatalf("diagnostics: %+v", e.Diagnostics)
	}
	if d := e.Diagnostics[0]; d.Summary != "Bad (sensitive value)" || d.Detail != "value (sensitive value) and abc" {
		t.Errorf("library diagnostic: %+v", d)
	}
	if d := e.Diagnostics[1]; d.Detail != "keeps s3cret-value" {
		t.Errorf("own diagnostic: %+v", d)
	}
}
