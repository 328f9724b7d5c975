package config

import (
	"errors"
	"fmt"
	"reflect"
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

// The selected value is read with env() like any other secret source, so it
// is never shown, however much it looks like a provider name; a literal one
// is. A provider's own select value read with env() or file() is not listed
// among the available ones either.
func TestSelectorNeverShown(t *testing.T) {
	src := "select = env(\"SP\")\nprovider \"a\" {}\n"
	for _, v := range []string{"bitwarden_sm", "aws.secrets-manager", strings.Repeat("x", 33), "pass word", "line1\nline2"} {
		_, err := loadSrc(t, src, map[string]string{"SP": v})
		want := `unknown provider in SP (its value, read with env() or file(), is not shown); available: a`
		if err == nil || err.Error() != want {
			t.Errorf("SP=%q:\n got %v\nwant %s", v, err, want)
		}
	}
	_, err := loadSrc(t, "select = \"vault\"\nprovider \"a\" {}\n", nil)
	if want := `unknown provider "vault" in select (config.hcl:1:1); available: a`; err == nil || err.Error() != want {
		t.Errorf("literal select:\n got %v\nwant %s", err, want)
	}

	files := map[string]string{"sel.txt": "hidden-select-one\nhidden-select-two\n"}
	src = `select = "nope"
provider "a" { select = env("PSEL") }
provider "b" { select = file("sel.txt") }
provider "c" {}
`
	_, err = loadHere(t, withConfig(files, src), map[string]string{"PSEL": "hidden-select-env"})
	var se *SelectionError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	want := `unknown provider "nope" in select (config.hcl:1:1); available: ` + HiddenSelect + `, c`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if got := fmt.Sprint(se.Available); got != "["+HiddenSelect+" c]" {
		t.Errorf("Available = %s", got)
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

// Every attribute whose value is computed from env() or file() is recorded
// as secret, so the host can keep it out of its messages; literal values are
// not.
func TestSecretAttributesRecorded(t *testing.T) {
	env := map[string]string{"PD": "pd", "LL": "info", "SEL": "s", "PL": "plug", "PIN": strings.Repeat("a", 64), "T": "true", "K": "key", "V": "val"}
	files := map[string]string{"v.txt": "line1\nline2\n"}
	cfg, err := loadHere(t, withConfig(files, `plugin_dir = env("PD")
log_level  = env("LL")
select     = env("SEL")
provider "p" {
  plugin          = env("PL")
  sha256          = env("PIN")
  select          = "s"
  enabled         = env("T")
  config_from_env = file("v.txt") != ""
  config = {
    a = env("V")
    b = file("v.txt")
    c = "literal"
    d = "${env("V")}-suffix"
    e = 5
  }
}
provider "q" {
  select = lower(upper(env("SEL")))
  config = { (env("K")) = "x", y = "literal" }
}
`), env)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"plugin_dir", "log_level", "select"}; !reflect.DeepEqual(cfg.Secret, want) {
		t.Errorf("Config.Secret = %v, want %v", cfg.Secret, want)
	}
	p := cfg.Providers[0]
	if want := []string{"plugin", "sha256", "enabled", "config_from_env"}; !reflect.DeepEqual(p.Secret, want) {
		t.Errorf("p.Secret = %v, want %v", p.Secret, want)
	}
	if want := map[string]bool{"a": true, "b": true, "d": true}; !reflect.DeepEqual(p.SecretConfig, want) {
		t.Errorf("p.SecretConfig = %v, want %v", p.SecretConfig, want)
	}
	if p.Config["b"] != "line1\nline2" {
		t.Errorf("b = %q", p.Config["b"])
	}
	q := cfg.Providers[1]
	if want := []string{"select", "config"}; !reflect.DeepEqual(q.Secret, want) {
		t.Errorf("q.Secret = %v, want %v", q.Secret, want)
	}
	if want := map[string]bool{"key": true, "y": true}; !reflect.DeepEqual(q.SecretConfig, want) {
		t.Errorf("q.SecretConfig = %v, want %v (a computed key makes every entry secret)", q.SecretConfig, want)
	}

	// Literals only: nothing is secret.
	cfg, err = loadSrc(t, `plugin_dir = "x"
provider "p" { config = { a = "b" } }
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secret != nil || cfg.Providers[0].Secret != nil || cfg.Providers[0].SecretConfig != nil {
		t.Errorf("literals recorded as secret: %+v", cfg)
	}
}
