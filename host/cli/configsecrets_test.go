package cli

// Values the configuration reads with env() or file() are secrets, whatever
// attribute they set: none appears in any message, at any log level, through
// the real binary or the library (issue 9, finding 4).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
)

// secretCase is one attribute set from env("V") (single line) or from
// file("v.txt") (two lines).
type secretCase struct {
	name string
	// config is the file; %[1]s is the plugin directory, %[2]s the
	// expression reading the secret.
	config string
	// single is V for the env() variant; the file() variant holds two
	// lines derived from it.
	single string
	// refs are resolved and validated.
	refs []string
	// want must appear in the output of every command (so the test knows
	// it reached the code that used to leak); one of them is enough.
	want []string
	// noFile skips the multi-line variant.
	noFile bool
}

func (c secretCase) multi() string {
	return "ml-first-" + c.single + "\nml-second-" + c.single
}

const pinSecret = "5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a"

func secretCases(pluginDir, secretPlugin string) []secretCase {
	return []secretCase{
		{name: "plugin_dir missing", single: "/nonexistent-sl-secret-pdir-7f3a/plugins",
			config: "plugin_dir = %[2]s\nprovider \"test\" {}\n", refs: []string{"test://a"},
			want: []string{"plugin binary not found", "not shown"}},
		{name: "plugin_dir valid", single: pluginDir, noFile: true,
			config: "plugin_dir = %[2]s\nprovider \"test\" {}\n", refs: []string{"test://a"},
			want: []string{"configuration in use"}},
		{name: "log_level", single: "sl-secret-loglevel-7f3a",
			config: "plugin_dir = %[1]q\nlog_level = %[2]s\nprovider \"test\" {}\n", refs: []string{"test://a"},
			want: []string{"Invalid log_level"}},
		{name: "select", single: "sl-secret-select-7f3a",
			config: "plugin_dir = %[1]q\nselect = %[2]s\nprovider \"test\" {}\n", refs: []string{"test://a"},
			want: []string{"unknown provider"}},
		{name: "plugin missing", single: "sl-secret-plugin-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" { plugin = %[2]s }\n", refs: []string{"test://a"},
			want: []string{"plugin binary not found"}},
		{name: "plugin valid", single: secretPlugin, noFile: true,
			config: "plugin_dir = %[1]q\nprovider \"test\" { plugin = %[2]s }\n", refs: []string{"test://missing-x"},
			want: []string{"no secret"}},
		{name: "sha256", single: pinSecret,
			config: "plugin_dir = %[1]q\nprovider \"test\" { sha256 = %[2]s }\n", refs: []string{"test://a"},
			want: []string{"sha256"}},
		{name: "provider select", single: "sl-secret-pselect-7f3a",
			config: "plugin_dir = %[1]q\nselect = \"nomatch\"\nprovider \"test\" { select = %[2]s }\n", refs: []string{"test://a"},
			want: []string{"unknown provider"}},
		{name: "enabled", single: "sl-secret-enabled-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" { enabled = %[2]s }\n", refs: []string{"test://a"},
			want: []string{"enabled"}},
		{name: "config_from_env", single: "sl-secret-cfe-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" { config_from_env = %[2]s }\n", refs: []string{"test://a"},
			want: []string{"config_from_env"}},
		{name: "config value echoed", single: "sl-secret-cfgvalue-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" {\n config = { echo = \"1\", prefix = %[2]s }\n}\n",
			refs:   []string{"test://echo"}, want: []string{redactedMark}},
		{name: "config value rejected", single: "sl-secret-cfgreject-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" {\n config = { echo = \"reject\", other = %[2]s }\n}\n",
			refs:   []string{"test://a"}, want: []string{redactedMark}},
		{name: "config value in crash output", single: "sl-secret-cfgcrash-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" {\n config = { echo = \"1\", other = %[2]s }\n}\n",
			refs:   []string{"test://echo-exit"}, want: []string{"crashed"}},
		{name: "config key", single: "sl-secret-cfgkey-7f3a",
			config: "plugin_dir = %[1]q\nprovider \"test\" {\n config = { echo = \"1\", (%[2]s) = \"x\" }\n}\n",
			refs:   []string{"test://echo"}, want: []string{redactedMark}},
		{name: "connect host", single: "ftp://sl-secret-connecthost-7f3a.example:8080",
			config: "plugin_dir = %[1]q\nprovider \"onepassword-connect\" {\n config = {\n  SECRET_PROVIDER_CONNECT_HOST = %[2]s\n  SECRET_PROVIDER_CONNECT_TOKEN = \"tok-literal-1234\"\n }\n}\n",
			refs:   []string{"op://Demo/Postgres/password"}, want: []string{"SECRET_PROVIDER_CONNECT_HOST"}},
	}
}

const redactedMark = "<redacted>"

// secretPieces are the strings that must not appear: the value and each
// line of it.
func secretPieces(v string) []string {
	out := []string{v}
	if strings.Contains(v, "\n") {
		out = append(out, strings.Split(v, "\n")...)
	}
	return out
}

func checkNoPieces(t *testing.T, what, out string, pieces []string) {
	t.Helper()
	for _, p := range pieces {
		if strings.Contains(out, p) {
			t.Errorf("%s shows %q:\n%s", what, p, out)
		}
	}
}

func checkWant(t *testing.T, what, out string, want []string) {
	t.Helper()
	for _, w := range want {
		if strings.Contains(out, w) {
			return
		}
	}
	t.Errorf("%s has none of %q (the test did not reach the code it checks):\n%s", what, want, out)
}

type secretVariant struct {
	name, expr, value string
	env               []string
	write             func(dir string)
}

func variantsOf(c secretCase) []secretVariant {
	vs := []secretVariant{{name: "env", expr: `env("V")`, value: c.single, env: []string{"V=" + c.single}}}
	if !c.noFile {
		ml := c.multi()
		vs = append(vs, secretVariant{name: "file", expr: `file("v.txt")`, value: ml, write: func(dir string) {
			if err := os.WriteFile(filepath.Join(dir, "v.txt"), []byte(ml+"\n"), 0o600); err != nil {
				panic(err)
			}
		}})
	}
	return vs
}

func TestConfigSecretsNeverShownByBinary(t *testing.T) {
	f := newFixture(t)
	testbin.Build(t, f.pluginDir, "test", "./host/internal/testplugin", "")
	secretPlugin := "test-sl-secret-plugname-7f3a"
	testbin.Build(t, f.pluginDir, secretPlugin, "./host/internal/testplugin", "")
	for _, c := range secretCases(f.pluginDir, secretPlugin) {
		for _, v := range variantsOf(c) {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				if v.write != nil {
					v.write(f.dir)
				}
				f.writeConfig("secret.hcl", c.config, f.pluginDir, v.expr)
				pieces := secretPieces(v.value)
				var all strings.Builder
				var refArgs []string
				for i, r := range c.refs {
					refArgs = append(refArgs, fmt.Sprintf("R%d=%s", i, r))
				}
				for _, args := range [][]string{
					append([]string{"resolve"}, refArgs...),
					append([]string{"validate"}, c.refs...),
					append([]string{"doctor"}, refArgs...),
					append([]string{"doctor", "--json"}, refArgs...),
					{"plugins"},
					append([]string{"run"}, "--", "true"),
				} {
					argv := append([]string{"--config", "secret.hcl", "--log-level", "trace"}, args...)
					env := v.env
					if args[0] == "run" {
						env = append(append([]string{}, v.env...), "RUNREF="+c.refs[0])
					}
					r := f.run(t, "", env, argv...)
					out := r.stdout + r.stderr
					checkNoPieces(t, strings.Join(args, " "), out, pieces)
					all.WriteString(out)
				}
				checkWant(t, "output", all.String(), c.want)
			})
		}
	}
}

func TestConfigSecretsNeverShownByLibrary(t *testing.T) {
	f := newFixture(t)
	testbin.Build(t, f.pluginDir, "test", "./host/internal/testplugin", "")
	secretPlugin := "test-sl-secret-plugname-7f3a"
	testbin.Build(t, f.pluginDir, secretPlugin, "./host/internal/testplugin", "")
	for _, c := range secretCases(f.pluginDir, secretPlugin) {
		for _, v := range variantsOf(c) {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				dir := t.TempDir()
				if v.write != nil {
					v.write(dir)
				}
				path := filepath.Join(dir, "secret.hcl")
				if err := os.WriteFile(path, fmt.Appendf(nil, c.config, f.pluginDir, v.expr), 0o600); err != nil {
					t.Fatal(err)
				}
				env := map[string]string{}
				for k, val := range f.env {
					env[k] = val
				}
				for _, kv := range v.env {
					k, val, _ := strings.Cut(kv, "=")
					env[k] = val
				}
				var logs syncbuf.Buffer
				logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})
				var out strings.Builder
				h, err := host.Open(path, host.WithLogger(logger), host.WithLookupEnv(func(k string) (string, bool) {
					val, ok := env[k]
					return val, ok
				}))
				if err != nil {
					out.WriteString(err.Error())
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if _, err := h.Resolve(ctx, c.refs); err != nil {
						out.WriteString(err.Error() + "\n")
					}
					if res, err := h.Validate(ctx, c.refs); err != nil {
						out.WriteString(err.Error() + "\n")
					} else {
						b, _ := json.Marshal(res)
						out.Write(b)
					}
					for _, d := range append(h.Diagnose(ctx), h.Describe(ctx)...) {
						b, _ := json.Marshal(d)
						out.Write(b)
					}
					if _, err := h.SensitiveEnv(ctx, os.Environ()); err != nil {
						out.WriteString(err.Error() + "\n")
					}
					out.WriteString(h.ShownPluginDir() + "\n")
					h.Close()
				}
				text := out.String() + "\n" + logs.String()
				checkNoPieces(t, "library output and logs", text, secretPieces(v.value))
				checkWant(t, "library output and logs", text, c.want)
			})
		}
	}
}
