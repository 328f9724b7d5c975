package cli

// Which configuration is used, and whether it can be trusted (issue 9,
// finding 1), and what relative paths mean (finding 12).

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
)

// attacker is a plain HTTP listener standing in for a server the attacker
// controls: it records every Authorization header it receives.
type attacker struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
	hits int
}

func newAttacker(t *testing.T) *attacker {
	a := &attacker{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits++
		if h := r.Header.Get("Authorization"); h != "" {
			a.auth = append(a.auth, h)
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attacker) seen() (int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits, append([]string(nil), a.auth...)
}

// hostileScript writes dir/tools/name, a script that touches marker.
func hostileScript(t *testing.T, dir, name, marker string) {
	t.Helper()
	tools := filepath.Join(dir, "tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\ntouch %q\nexit 1\n", marker)
	if err := os.WriteFile(filepath.Join(tools, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A ./config.hcl in the working directory (a deploy repository anyone may
// commit to) changes nothing: the token goes to the real Connect host, not
// to the one the file names, and a plugin_dir it sets is never used.
func TestE2EWorkingDirectoryConfigIsIgnored(t *testing.T) {
	f := newFixture(t)
	evil := newAttacker(t)
	marker := filepath.Join(t.TempDir(), "script-ran")
	hostileScript(t, f.dir, "onepassword-connect", marker)

	for _, tc := range []struct {
		name, config string
	}{
		{"redirect", fmt.Sprintf(`select = env("SECRET_PROVIDER", "")
provider "onepassword-connect" {
  select          = "1password"
  config_from_env = true
  config = { SECRET_PROVIDER_CONNECT_HOST = %q }
}
`, evil.srv.URL)},
		{"plugin_dir", `plugin_dir = "tools"
select = env("SECRET_PROVIDER", "")
provider "onepassword-connect" {
  select          = "1password"
  config_from_env = true
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.writeConfig("config.hcl", "%s", tc.config)
			f.srv.ResetRequests()

			r := f.run(t, "", []string{"DB=op://Demo/Postgres/password"}, "--log-level", "info", "run", "--", "true")
			r.expect(t, 0)
			if !strings.Contains(r.stderr, "configuration in use: built-in default") {
				t.Errorf("no info line naming the built-in default:\n%s", r.stderr)
			}
			noLeak(t, "run stderr", r.stderr)

			r = f.run(t, "", nil, "resolve", "DB=op://Demo/Postgres/password")
			r.expect(t, 0)
			if r.stdout != "DB=\"pg-s3cret-9f2c\"\n" {
				t.Errorf("stdout %q", r.stdout)
			}
			if len(f.srv.Requests()) == 0 {
				t.Error("the real Connect host saw no request")
			}

			r = f.run(t, "", nil, "validate", "op://a/b/c")
			r.expect(t, 0)

			if hits, auth := evil.seen(); hits != 0 || len(auth) != 0 {
				t.Errorf("the attacker's listener got %d requests, Authorization %q", hits, auth)
			}
			if exists(marker) {
				t.Error("the script in ./tools ran")
			}
		})
	}

	// Positive control: the same file named with --config is used, so the
	// test would see the attack if the working directory were searched.
	f.writeConfig("evil.hcl", `provider "onepassword-connect" {
  config_from_env = true
  config = { SECRET_PROVIDER_CONNECT_HOST = %q }
}
`, evil.srv.URL)
	f.run(t, "", nil, "--config", "evil.hcl", "resolve", "DB=op://Demo/Postgres/password")
	if _, auth := evil.seen(); len(auth) == 0 || !strings.Contains(auth[0], testToken) {
		t.Errorf("control: the listener saw Authorization %q", auth)
	}
	f.writeConfig("evil2.hcl", `plugin_dir = "tools"
provider "onepassword-connect" {}
`)
	f.run(t, "", nil, "--config", "evil2.hcl", "validate", "op://a/b/c")
	if !exists(marker) {
		t.Error("control: the script did not run with --config")
	}
}

// A configuration file that its group, others, or another user may change
// is refused, from --config and from SECRETHOST_CONFIG alike: exit 2, and a
// message naming the file, the reason and the fix.
func TestE2EUntrustedConfigRefused(t *testing.T) {
	f := newFixture(t)
	src := fmt.Sprintf("plugin_dir = %q\nprovider \"onepassword-connect\" { config_from_env = true }\n", f.pluginDir)
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		chown bool
		want  []string
	}{
		{"0664", 0o664, false, []string{"writable by its group", "mode 0664", "chmod go-w"}},
		{"0666", 0o666, false, []string{"writable by its group and by others", "mode 0666", "chmod go-w"}},
		{"nobody", 0o644, true, []string{"owned by uid 65534", "chown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "untrusted-" + tc.name + ".hcl"
			path := filepath.Join(f.dir, name)
			f.writeConfig(name, "%s", src)
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.chown {
				if os.Geteuid() != 0 {
					t.Skip("chown to nobody needs root")
				}
				if err := os.Chown(path, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			for _, via := range []struct {
				env  []string
				args []string
				from string
			}{
				{nil, []string{"--config", name}, "(from --config)"},
				{[]string{config.EnvConfigPath + "=" + path}, nil, "(from SECRETHOST_CONFIG)"},
			} {
				r := f.run(t, "", via.env, append(via.args, "resolve", "DB=op://Demo/Postgres/password")...)
				r.expect(t, 2)
				if r.stdout != "" {
					t.Errorf("stdout %q", r.stdout)
				}
				for _, w := range append([]string{filepath.Base(name), via.from, "refused"}, tc.want...) {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
					}
				}
			}
		})
	}
	// Control: the same file, 0600 and ours, works.
	f.writeConfig("trusted.hcl", "%s", src)
	f.run(t, "", nil, "--config", "trusted.hcl", "resolve", "DB=op://Demo/Postgres/password").expect(t, 0)
}

// The info line says which configuration is in use and where it came from,
// and holds no value of it.
func TestE2EConfigurationInUseIsLogged(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "op.hcl")
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--config", "op.hcl"}, `configuration in use: "op.hcl" (from --config)`},
		{[]string{config.EnvConfigPath + "=" + path}, nil, fmt.Sprintf("configuration in use: %q (from SECRETHOST_CONFIG)", path)},
		{nil, nil, "configuration in use: built-in default"},
	} {
		r := f.run(t, "", tc.env, append(tc.args, "--log-level", "info", "resolve", "DB=op://Demo/Postgres/password")...)
		r.expect(t, 0)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
		}
		noLeak(t, "stderr", r.stderr)
		for _, line := range strings.Split(r.stderr, "\n") {
			if strings.Contains(line, "configuration in use") && strings.Contains(line, f.srv.URL()) {
				t.Errorf("the info line shows the Connect host: %s", line)
			}
		}
	}
	// At the default level (warn) the line is not shown.
	r := f.run(t, "", nil, "--config", "op.hcl", "resolve", "DB=op://Demo/Postgres/password")
	if strings.Contains(r.stderr, "configuration in use") {
		t.Errorf("info line at warn level:\n%s", r.stderr)
	}
}

// The library does not read ./config.hcl either: host.Open("") uses
// $SECRETHOST_CONFIG or the built-in default, and says which at info level.
func TestOpenIgnoresWorkingDirectoryConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	marker := filepath.Join(t.TempDir(), "script-ran")
	hostileScript(t, dir, "onepassword-sa", marker)
	hostile := "plugin_dir = \"tools\"\nprovider \"onepassword-sa\" { select = \"1password\" }\nprovider \"evil\" {}\n"
	if err := os.WriteFile("config.hcl", []byte(hostile), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SECRET_PROVIDER": "1password"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var logs syncbuf.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &logs})

	h, err := host.Open("", host.WithLookupEnv(lookup), host.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Name() != "onepassword-sa" || strings.HasPrefix(h.PluginDir(), dir) {
		t.Errorf("./config.hcl was used: providers %q, plugin dir %s", h.Name(), h.PluginDir())
	}
	if !strings.Contains(logs.String(), "configuration in use: built-in default") {
		t.Errorf("logs:\n%s", logs.String())
	}
	h.Validate(t.Context(), []string{"op://a/b/c"}) // the default plugin dir has no plugin here; that is fine
	if exists(marker) {
		t.Error("the script in ./tools ran")
	}

	// Control: the same file given to Open is used (and runs the script).
	h2, err := host.Open("config.hcl", host.WithLookupEnv(lookup))
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.Name() != "onepassword-sa+evil" {
		t.Errorf("control: providers %q", h2.Name())
	}
	h2.Validate(t.Context(), []string{"op://a/b/c"})
	if !exists(marker) {
		t.Error("control: the script did not run")
	}
}

// mkfile writes content to path, creating its directory.
func mkfile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A relative SECRET_PROVIDER_CONNECT_TOKEN_FILE is relative to the caller's
// working directory, never to the plugin's: a same-named file in the plugin
// directory (holding a wrong token here) is not used.
func TestE2ERelativeTokenFileFromEnvironment(t *testing.T) {
	f := newFixture(t)
	name := "tok-" + filepath.Base(f.dir)
	mkfile(t, filepath.Join(f.dir, name), testToken+"\n")
	decoy := filepath.Join(f.pluginDir, name)
	mkfile(t, decoy, "wrong-token-in-plugin-dir\n")
	t.Cleanup(func() { os.Remove(decoy) })
	f.env["SECRET_PROVIDER_CONNECT_TOKEN"] = ""
	f.env["SECRET_PROVIDER_CONNECT_TOKEN_FILE"] = name

	for _, args := range [][]string{{"--config", "op.hcl"}, nil} { // a file, and the built-in default
		r := f.run(t, "", nil, append(args, "resolve", "DB=op://Demo/Postgres/password")...)
		r.expect(t, 0)
		if r.stdout != "DB=\"pg-s3cret-9f2c\"\n" {
			t.Errorf("%v: stdout %q", args, r.stdout)
		}
	}
}

// A relative path in a configuration file's config map is relative to that
// file's directory (the README's own provider "file" example); one from the
// environment (config_from_env) to the working directory. Never to the
// plugin directory or the plugin's working directory.
func TestE2ERelativePathsInConfiguration(t *testing.T) {
	f := newFixture(t)
	mkfile(t, filepath.Join(f.dir, "conf", "secrets", "api_key"), "from-config-dir")
	mkfile(t, filepath.Join(f.dir, "secrets", "api_key"), "from-working-dir")
	decoy := filepath.Join(f.pluginDir, "secrets", "api_key")
	if !exists(decoy) {
		mkfile(t, decoy, "from-plugin-dir")
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(decoy)) })
	}
	mkfile(t, filepath.Join(f.dir, "conf", "file.hcl"), fmt.Sprintf(`plugin_dir = %q
provider "file" {
  config = { dir = "./secrets" }
}
`, f.pluginDir))
	mkfile(t, filepath.Join(f.dir, "conf", "fromenv.hcl"), fmt.Sprintf(`plugin_dir = %q
provider "file" {
  config_from_env = true
}
`, f.pluginDir))

	r := f.run(t, "", nil, "--config", "conf/file.hcl", "resolve", "A=file://api_key")
	r.expect(t, 0)
	if r.stdout != "A=\"from-config-dir\"\n" {
		t.Errorf("config map: stdout %q", r.stdout)
	}
	r = f.run(t, "", []string{"dir=./secrets"}, "--config", "conf/fromenv.hcl", "resolve", "A=file://api_key")
	r.expect(t, 0)
	if r.stdout != "A=\"from-working-dir\"\n" {
		t.Errorf("config_from_env: stdout %q", r.stdout)
	}

	// The library does the same.
	t.Chdir(f.dir)
	h, err := host.Open(filepath.Join("conf", "file.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	v, err := h.GetSecret(t.Context(), "file://api_key")
	if err != nil || v != "from-config-dir" {
		t.Errorf("library: %q, %v", v, err)
	}
}
