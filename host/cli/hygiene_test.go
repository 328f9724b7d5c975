//go:build linux

package cli

// Secret hygiene: these tests plant known tokens and secret values, drive
// the real secrethost binary and the real plugins (onepassword-connect
// against the emulator, the file provider, the test plugin; the
// onepassword-sa plugin where it is cheap) with them, and then search every
// place a secret could end up: logs at trace level, error messages, the
// output of a plugin that crashed, the plugins' /proc environ and cmdline,
// temporary directories, the files inject writes, and the environment of
// the command `secrethost run` starts.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// Planted values besides the fixture's (testToken, pg-s3cret-9f2c,
// file-api-key-77, root-pw; see noLeak).
const (
	hygWrongToken = "wrong-token-hygiene-7731"
	hygTestToken  = "planted-test-token-5e1d"           // the test plugin's TEST_TOKEN (declared Sensitive)
	hygSAToken    = "ops_planted-sa-token-hygiene-93b0" // a (malformed) service account token
	hygEnvCopy    = "CI_OP_TOKEN"                       // another variable holding the Connect token
)

// hygNoLeak is noLeak plus the values planted here.
func hygNoLeak(t *testing.T, what, s string) {
	t.Helper()
	noLeak(t, what, s)
	for _, v := range []string{hygWrongToken, hygTestToken, hygSAToken} {
		if strings.Contains(s, v) {
			t.Errorf("%s leaks %q:\n%s", what, v, s)
		}
	}
}

type hygiene struct {
	*fixture
	tokenFile string // holds testToken
}

func newHygiene(t *testing.T) *hygiene {
	t.Helper()
	f := newFixture(t)
	testbin.Build(t, f.pluginDir, "test", "./host/internal/testplugin", "")
	h := &hygiene{fixture: f, tokenFile: writeTemp(t, f.dir, "op_token", testToken+"\n")}
	// The Connect token read by the configuration itself, with file().
	f.writeConfig("filefn.hcl", `
plugin_dir = %q
provider "onepassword-connect" {
  config = {
    SECRET_PROVIDER_CONNECT_HOST  = env("SECRET_PROVIDER_CONNECT_HOST")
    SECRET_PROVIDER_CONNECT_TOKEN = file("op_token")
  }
}
provider "file" {
  config = { dir = %q }
}
`, f.pluginDir, f.secrets)
	// The test plugin's token from the environment and from the file.
	f.writeConfig("test.hcl", `
plugin_dir = %q
provider "test" {
  config_from_env = true
}
`, f.pluginDir)
	writeTemp(t, f.dir, "test_token", hygTestToken+"\n")
	f.writeConfig("testfile.hcl", `
plugin_dir = %q
provider "test" {
  config = { TEST_TOKEN = file("test_token") }
}
`, f.pluginDir)
	return h
}

// tokenVariant is one way of handing the plugin the Connect token.
type tokenVariant struct {
	name   string
	config string
	env    map[string]string // on top of the fixture's; "" removes
}

func (h *hygiene) variants() []tokenVariant {
	return []tokenVariant{
		{"inline", "mixed.hcl", nil},
		{"token-file", "mixed.hcl", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "", "SECRET_PROVIDER_CONNECT_TOKEN_FILE": h.tokenFile}},
		{"config-file-func", "filefn.hcl", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": ""}},
	}
}

// environ is the fixture's environment with over applied, then extra.
func (h *hygiene) environ(over map[string]string, extra ...string) []string {
	m := map[string]string{}
	for k, v := range h.env {
		m[k] = v
	}
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	var env []string
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// exec runs argv in the fixture's directory with env.
func (h *hygiene) exec(t *testing.T, env []string, stdin string, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = h.dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", argv[0], err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// hygCommand is one secrethost invocation that handles secrets.
type hygCommand struct {
	name  string
	stdin string
	env   []string
	args  []string // after the global flags
	code  int
	// printsSecrets: stdout carries the values by design (and must hold
	// want); every other stdout is searched too.
	printsSecrets bool
	want          []string
}

func hygCommands() []hygCommand {
	return []hygCommand{
		{name: "resolve", args: []string{"resolve", "DB=op://Demo/Postgres/password", "API=file://api_key"},
			printsSecrets: true, want: []string{"pg-s3cret-9f2c", "file-api-key-77"}},
		{name: "resolve-failing", code: 1, args: []string{"resolve", "DB=op://Demo/Postgres/password", "API=file://api_key",
			"NOPE=op://Demo/Postgres/nope", "ROOT=op://Hidden/Root/password", "GONE=file://gone"}},
		{name: "run", env: []string{childEnv + "=exit", "CHILD_CODE=0", "DB=op://Demo/Postgres/password", "API=file://api_key"},
			args: []string{"run", "--", os.Args[0]}},
		{name: "inject", stdin: "db={{ op://Demo/Postgres/password }} api={{file://api_key}}\n", args: []string{"inject"},
			printsSecrets: true, want: []string{"db=pg-s3cret-9f2c api=file-api-key-77\n"}},
		{name: "doctor", args: []string{"doctor", "DB=op://Demo/Postgres/password", "API=file://api_key"}},
	}
}

// TestHygieneTraceLogs: at trace level, set by flag or by environment,
// stderr of every command that handles secrets holds neither the Connect
// token (inline, from a token file, or read by the configuration's file())
// nor any resolved value, whether the command succeeds or fails.
func TestHygieneTraceLogs(t *testing.T) {
	h := newHygiene(t)
	levels := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--log-level", "trace"}},
		{"env", []string{envLogLevel + "=trace"}, nil},
	}
	for _, v := range h.variants() {
		for _, lvl := range levels {
			for _, c := range hygCommands() {
				t.Run(v.name+"/"+lvl.name+"/"+c.name, func(t *testing.T) {
					args := append(append(slices.Clone(lvl.args), "--config", v.config), c.args...)
					r := h.exec(t, h.environ(v.env, append(slices.Clone(c.env), lvl.env...)...), c.stdin, append([]string{h.bin}, args...)...)
					r.expect(t, c.code)
					// Positive controls: trace logs of host and plugin were
					// written, and the secrets were really resolved.
					for _, want := range []string{"[TRACE]", "secrethost.onepassword-connect", "connect request"} {
						if !strings.Contains(r.stderr, want) {
							t.Errorf("stderr lacks %q: not at trace level?\n%s", want, r.stderr)
						}
					}
					for _, w := range c.want {
						if !strings.Contains(r.stdout, w) {
							t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
						}
					}
					hygNoLeak(t, "stderr", r.stderr)
					if !c.printsSecrets {
						hygNoLeak(t, "stdout", r.stdout)
					}
				})
			}
		}
	}
}

// TestHygieneErrorMessages: what goes wrong is explained without the token
// or a secret value, at trace level, on stdout and stderr alike.
func TestHygieneErrorMessages(t *testing.T) {
	h := newHygiene(t)
	wrongFile := writeTemp(t, h.dir, "wrong_token", hygWrongToken+"\n")
	wrong := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": hygWrongToken}
	wrongByFile := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "", "SECRET_PROVIDER_CONNECT_TOKEN_FILE": wrongFile}
	both := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": h.tokenFile}
	noToken := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": ""}
	bad := func(name, body string) string {
		h.writeConfig(name, "plugin_dir = %q\n%s\n", h.pluginDir, body)
		return name
	}
	cases := []struct {
		name   string
		config string
		env    map[string]string
		args   []string
		code   int
		has    []string // on stdout or stderr
	}{
		{"wrong token/resolve", "mixed.hcl", wrong, []string{"resolve", "DB=op://Demo/Postgres/password", "API=file://api_key"}, 1,
			[]string{"unauthenticated", "SECRET_PROVIDER_CONNECT_TOKEN"}},
		{"wrong token/run", "mixed.hcl", wrong, []string{"run", "--from", writeTemp(t, h.dir, "db.env", "DB=op://Demo/Postgres/password\n"), "--", "true"}, 1,
			[]string{"unauthenticated", "the command was not started"}},
		{"wrong token/inject", "mixed.hcl", wrong, []string{"inject", "-i", writeTemp(t, h.dir, "t.tmpl", "{{ op://Demo/Postgres/password }}")}, 1,
			[]string{"unauthenticated"}},
		{"wrong token/doctor", "mixed.hcl", wrong, []string{"doctor", "DB=op://Demo/Postgres/password"}, 1, []string{"FAIL  token accepted"}},
		{"wrong token file/resolve", "mixed.hcl", wrongByFile, []string{"resolve", "DB=op://Demo/Postgres/password"}, 1,
			[]string{"unauthenticated"}},
		{"wrong token file/doctor", "mixed.hcl", wrongByFile, []string{"doctor"}, 1, []string{"FAIL  token accepted"}},
		{"missing vault", "mixed.hcl", nil, []string{"resolve", "DB=op://NoSuchVault/Postgres/password", "API=file://api_key"}, 1,
			[]string{"NoSuchVault", "not_found"}},
		{"vault the token cannot see", "filefn.hcl", noToken, []string{"resolve", "ROOT=op://Hidden/Root/password"}, 1,
			[]string{"not_found"}},
		{"missing item and field", "mixed.hcl", nil, []string{"resolve", "A=op://Demo/Nothing/password", "B=op://Demo/Postgres/nothing"}, 1,
			[]string{"not_found"}},
		{"malformed references", "mixed.hcl", nil, []string{"resolve", "A=op://Demo", "B=op://Demo/Postgres/password?attribute=bogus",
			"C=op://Demo//password", "D=file://../op_token", "E=op://Demo/Postgres/password"}, 1, []string{"invalid_reference"}},
		{"malformed reference/run", "mixed.hcl", nil, []string{"run", "--from", writeTemp(t, h.dir, "refs.env", "A=op://Demo\n"), "--", "true"}, 1,
			[]string{"invalid_reference"}},
		{"token inline and as a file", "mixed.hcl", both, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2,
			[]string{"configuration rejected", "mutually exclusive"}},
		{"bad config/token as log level", bad("b1.hcl", `log_level = file("op_token")`), nil, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2,
			[]string{"log_level"}},
		{"bad config/token as pin", bad("b2.hcl", `provider "onepassword-connect" {
  sha256 = env("SECRET_PROVIDER_CONNECT_TOKEN")
  config_from_env = true
}`), nil, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2, []string{"sha256"}},
		{"bad config/token as plugin", bad("b3.hcl", `provider "onepassword-connect" {
  plugin = "../${file("op_token")}"
}`), nil, []string{"doctor"}, 2, []string{"plugin"}},
		{"bad config/token as enabled", bad("b4.hcl", `provider "onepassword-connect" {
  enabled = env("SECRET_PROVIDER_CONNECT_TOKEN")
}`), nil, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2, []string{"enabled"}},
		{"bad config/syntax error next to the token", bad("b5.hcl", `provider "onepassword-connect" {
  config = { SECRET_PROVIDER_CONNECT_TOKEN = file("op_token") }
  config_from_env = true true
}`), nil, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2, []string{"b5.hcl:"}},
		{"bad config/unknown setting", bad("b6.hcl", `provider "onepassword-connect" {
  config = {
    SECRET_PROVIDER_CONNECT_HOST = env("SECRET_PROVIDER_CONNECT_HOST")
    SECRET_PROVIDER_CONNECT_TOKEN = file("op_token")
    request_timeout = file("op_token")
  }
}`), noToken, []string{"resolve", "DB=op://Demo/Postgres/password"}, 2, []string{"request_timeout", "not shown"}},
		{"bad config/token as host", bad("b7.hcl", `provider "onepassword-connect" {
  config = {
    SECRET_PROVIDER_CONNECT_HOST  = file("op_token")
    SECRET_PROVIDER_CONNECT_TOKEN = file("op_token")
  }
}`), noToken, []string{"doctor"}, 1, []string{"SECRET_PROVIDER_CONNECT_HOST"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{h.bin, "--log-level", "trace", "--config", c.config}, c.args...)
			r := h.exec(t, h.environ(c.env), "", args...)
			r.expect(t, c.code)
			out := r.stdout + r.stderr
			for _, want := range c.has {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
				}
			}
			hygNoLeak(t, "stdout", r.stdout)
			hygNoLeak(t, "stderr", r.stderr)
		})
	}
}

// TestHygienePanicHoldingToken: a plugin that panics while it holds its
// token (in memory and as an argument of the panicking frame) crashes, is
// restarted, crashes again; the host's error and logs quote the plugin's
// last words and traceback, never the token.
func TestHygienePanicHoldingToken(t *testing.T) {
	h := newHygiene(t)
	for _, c := range []struct {
		name, config string
		env          []string
	}{
		{"from env", "test.hcl", []string{"TEST_TOKEN=" + hygTestToken}},
		{"from config file()", "testfile.hcl", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.exec(t, h.environ(nil, c.env...), "", h.bin, "--log-level", "trace", "--config", c.config, "resolve",
				"OK=test://fine", "BOOM=test://panic-token")
			r.expect(t, 1)
			// The crash, its message and the frame that held the token
			// reached the host.
			for _, want := range []string{host.ErrCrashed.Error(), "asked to panic while holding a 23-byte token", "testprovider.panicHolding("} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			hygNoLeak(t, "stderr", r.stderr)
			hygNoLeak(t, "stdout", r.stdout)
		})
	}
	// Control: without a token the plugin refuses instead of panicking,
	// so the crashes above happened while it held one.
	r := h.exec(t, h.environ(nil), "", h.bin, "--config", "test.hcl", "resolve", "BOOM=test://panic-token")
	r.expect(t, 1)
	if !strings.Contains(r.stderr, "TEST_TOKEN is not set") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// --- plugin processes -----------------------------------------------------

// childPlugins returns the live child processes of this test process whose
// executable is in dir: pid → executable name.
func childPlugins(dir string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		// After "(comm)": state, ppid, ...
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != me {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || filepath.Dir(exe) != dir {
			continue
		}
		out[pid] = filepath.Base(exe)
	}
	return out
}

// checkProc searches the plugin's /proc environ and cmdline for the
// planted values, and returns its socket directory.
func checkProc(t *testing.T, pid int, exe string, secrets []string) (socketDir string) {
	t.Helper()
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(environ, []byte(s)) {
			t.Errorf("%s (pid %d): /proc/environ contains %q", exe, pid, s)
		}
		if bytes.Contains(cmdline, []byte(s)) {
			t.Errorf("%s (pid %d): /proc/cmdline contains %q", exe, pid, s)
		}
	}
	if args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00"); len(args) != 1 || filepath.Base(args[0]) != exe {
		t.Errorf("%s (pid %d): argv %q, want the path alone", exe, pid, args)
	}
	for _, kv := range strings.Split(strings.TrimSuffix(string(environ), "\x00"), "\x00") {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case name == goplugin.EnvUnixSocketDir:
			socketDir = value
		case name == plugin.LogLevelEnv, name == plugin.Handshake.MagicCookieKey, strings.HasPrefix(name, "PLUGIN_"):
		default:
			t.Errorf("%s (pid %d): unexpected variable %s in its environment", exe, pid, name)
		}
	}
	return socketDir
}

// checkSocketDir: the plugin's socket lives in a private directory inside
// tmp, and nothing else is there.
func checkSocketDir(t *testing.T, exe, dir, tmp string) {
	t.Helper()
	if dir == "" || filepath.Dir(dir) != tmp {
		t.Errorf("%s: socket directory %q, want one inside the host's TMPDIR %s", exe, dir, tmp)
		return
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: socket directory %s: %v, %v; want mode 0700", exe, dir, st, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Type()&os.ModeSocket == 0 {
		t.Errorf("%s: socket directory holds %v, want one socket", exe, entries)
	}
}

// TestHygienePluginProcesses starts every real plugin through the host,
// each configured with a planted token, resolves through each, and reads
// the /proc entries of the running plugin processes: no token, no value,
// no variable but go-plugin's own; their sockets are in a private
// directory of the host's TMPDIR, removed when the host closes.
func TestHygienePluginProcesses(t *testing.T) {
	f := newFixture(t)
	testbin.Build(t, f.pluginDir, "test", "./host/internal/testplugin", "")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv(hygEnvCopy, testToken) // in the host's environment only
	lookup := map[string]string{"TEST_TOKEN": hygTestToken}
	log := &syncbuf.Buffer{}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{
		{Name: "onepassword-connect", Plugin: "onepassword-connect", Pos: "t:1:1",
			Config: map[string]string{"SECRET_PROVIDER_CONNECT_HOST": f.srv.URL(), "SECRET_PROVIDER_CONNECT_TOKEN": testToken}},
		{Name: "file", Plugin: "file", Pos: "t:2:1", Config: map[string]string{"dir": f.secrets}},
		{Name: "test", Plugin: "test", Pos: "t:3:1", ConfigFromEnv: true, Config: map[string]string{"prefix": "pfx-"}},
	}}, host.WithPluginDir(f.pluginDir), host.WithLookupEnv(func(k string) (string, bool) { v, ok := lookup[k]; return v, ok }),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: log})))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := h.ResolveSecretReferences(ctx, map[string]string{
		"DB": "op://Demo/Postgres/password", "API": "file://api_key", "T": "test://value",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["DB"] != "pg-s3cret-9f2c" || got["API"] != "file-api-key-77" || got["T"] != "pfx-value" {
		t.Fatalf("resolved %q", got)
	}
	// The test plugin holds its token: control for the search below.
	_, err = h.GetSecret(ctx, "test://panic-token")
	if !errors.Is(err, host.ErrCrashed) {
		t.Fatalf("test://panic-token: want a crash, got %v", err)
	}
	hygNoLeak(t, "crash error", err.Error())
	if _, err := h.GetSecret(ctx, "test://value"); err != nil {
		t.Fatal(err)
	}

	secrets := []string{testToken, hygTestToken, "pg-s3cret-9f2c", "file-api-key-77", f.secrets}
	procs := childPlugins(f.pluginDir)
	var names []string
	for pid, exe := range procs {
		names = append(names, exe)
		checkSocketDir(t, exe, checkProc(t, pid, exe, secrets), tmp)
	}
	slices.Sort(names)
	if want := []string{"file", "onepassword-connect", "test"}; !slices.Equal(names, want) {
		t.Fatalf("plugin processes %v, want one each of %v", procs, want)
	}

	h.Close()
	for pid := range procs {
		waitExit(t, pid)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("left in TMPDIR after Close: %v", entryNames(entries))
	}
	if !strings.Contains(log.String(), "asked to panic while holding") {
		t.Errorf("the crash is not in the host's log:\n%s", log.String())
	}
	hygNoLeak(t, "host and plugin log", log.String())

	t.Run("onepassword-sa", func(t *testing.T) {
		if testing.Short() {
			t.Skip("loads the 1Password SDK's WebAssembly core (slow)")
		}
		path := testbin.Build(t, f.pluginDir, "onepassword-sa", "./plugins/onepassword-sa", "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		log := &syncbuf.Buffer{}
		proc, err := launch.Start(ctx, launch.Spec{Name: "onepassword-sa", Path: path, LogLevel: hclog.Trace,
			Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: log})})
		if err != nil {
			t.Fatal(err)
		}
		defer proc.Kill()
		// A malformed token is refused offline, but the plugin has had it.
		_, err = proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"OP_SERVICE_ACCOUNT_TOKEN": hygSAToken}})
		if !errors.Is(err, provider.ErrInvalidConfig) {
			t.Fatalf("Configure: want invalid_config, got %v", err)
		}
		hygNoLeak(t, "Configure error", err.Error())
		checkSocketDir(t, "onepassword-sa", checkProc(t, proc.Pid(), "onepassword-sa", []string{hygSAToken}), tmp)
		pid := proc.Pid()
		proc.Kill()
		waitExit(t, pid)
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			t.Errorf("left in TMPDIR after Kill: %v", entryNames(entries))
		}
		hygNoLeak(t, "plugin log", log.String())
	})
}

func waitExit(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
	}
	t.Errorf("process %d still running", pid)
}

func entryNames(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// --- temporary files ------------------------------------------------------

// tmpSockets lists /tmp entries named like go-plugin's sockets.
func tmpSockets() map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir("/tmp")
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name(), "plugin"); ok {
			if _, err := strconv.Atoi(rest); err == nil {
				out[e.Name()] = true
			}
		}
	}
	return out
}

// TestHygieneTempFiles: every command, including one whose plugin
// crashes, leaves nothing behind in its TMPDIR, and its plugins (which get
// no TMPDIR of their own) leave nothing in /tmp.
func TestHygieneTempFiles(t *testing.T) {
	h := newHygiene(t)
	before := tmpSockets()
	cmds := hygCommands()
	cmds = append(cmds,
		hygCommand{name: "inject-to-file", args: []string{"inject", "-i", writeTemp(t, h.dir, "app.tmpl", "{{ op://Demo/Postgres/password }}"),
			"-o", filepath.Join(h.dir, "app.conf")}},
		hygCommand{name: "validate", args: []string{"validate", "op://Demo/Postgres/password", "file://api_key"}},
		hygCommand{name: "plugins", args: []string{"plugins"}},
	)
	for _, v := range h.variants() {
		for _, c := range cmds {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				tmp := t.TempDir()
				env := h.environ(v.env, append(slices.Clone(c.env), "TMPDIR="+tmp)...)
				r := h.exec(t, env, c.stdin, append([]string{h.bin, "--log-level", "debug", "--config", v.config}, c.args...)...)
				r.expect(t, c.code)
				if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
					t.Errorf("left in TMPDIR: %v\nstderr:\n%s", entryNames(entries), r.stderr)
				}
			})
		}
	}
	t.Run("crashing plugin", func(t *testing.T) {
		tmp := t.TempDir()
		r := h.exec(t, h.environ(nil, "TMPDIR="+tmp, "TEST_TOKEN="+hygTestToken), "", h.bin, "--config", "test.hcl", "resolve", "X=test://panic-token")
		r.expect(t, 1)
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			t.Errorf("left in TMPDIR: %v", entryNames(entries))
		}
	})
	// Other packages' tests may run at the same time, but they launch
	// plugins the same way: a new /tmp/plugin<N> is a socket a plugin
	// created outside its private directory.
	for name := range tmpSockets() {
		if !before[name] {
			t.Errorf("a plugin left /tmp/%s behind", name)
		}
	}
}

// --- inject file modes ----------------------------------------------------

type fsEvent struct {
	name string
	mask uint32
}

func (e fsEvent) String() string {
	var parts []string
	for _, m := range []struct {
		bit  uint32
		name string
	}{{syscall.IN_CREATE, "CREATE"}, {syscall.IN_MODIFY, "MODIFY"}, {syscall.IN_ATTRIB, "ATTRIB"}, {syscall.IN_CLOSE_WRITE, "CLOSE_WRITE"},
		{syscall.IN_MOVED_FROM, "MOVED_FROM"}, {syscall.IN_MOVED_TO, "MOVED_TO"}, {syscall.IN_DELETE, "DELETE"}} {
		if e.mask&m.bit != 0 {
			parts = append(parts, m.name)
		}
	}
	return e.name + ":" + strings.Join(parts, "|")
}

// watchDir records what happens to the files in dir until the returned
// function is called; the kernel queues the events meanwhile.
func watchDir(t *testing.T, dir string) func() []fsEvent {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	mask := uint32(syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE |
		syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO | syscall.IN_DELETE)
	if _, err := syscall.InotifyAddWatch(fd, dir, mask); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	return func() []fsEvent {
		defer syscall.Close(fd)
		var out []fsEvent
		buf := make([]byte, 64<<10)
		for {
			n, err := syscall.Read(fd, buf)
			if err != nil || n <= 0 {
				return out
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				l := int(binary.NativeEndian.Uint32(buf[off+12:]))
				name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+l]), "\x00")
				out = append(out, fsEvent{name, mask})
				off += syscall.SizeofInotifyEvent + l
			}
		}
	}
}

// TestHygieneInjectFileModes: inject's output is 0600 unless --file-mode
// says otherwise, whatever the umask; and the temporary file it writes
// first is created private (os.CreateTemp: 0600), written, and only then
// given its mode and renamed: no byte of the content is ever written to a
// file more visible than 0600.
func TestHygieneInjectFileModes(t *testing.T) {
	h := newHygiene(t)
	tmpl := writeTemp(t, h.dir, "app.tmpl", "pw={{ op://Demo/Postgres/password }}\n")
	for _, c := range []struct {
		umask string
		mode  []string
		want  os.FileMode
	}{
		{"000", nil, 0o600},
		{"022", nil, 0o600},
		{"077", []string{"--file-mode", "0644"}, 0o644},
		{"022", []string{"--file-mode", "0640"}, 0o640},
		{"000", []string{"--file-mode", "0400"}, 0o400},
	} {
		t.Run(fmt.Sprintf("umask%s/%o", c.umask, c.want), func(t *testing.T) {
			out := t.TempDir()
			target := filepath.Join(out, "app.conf")
			stop := watchDir(t, out)
			args := append([]string{"sh", "-c", `umask "$0"; exec "$@"`, c.umask, h.bin, "--config", "op.hcl", "inject", "-i", tmpl, "-o", target}, c.mode...)
			r := h.exec(t, h.environ(nil), "", args...)
			events := stop()
			r.expect(t, 0)
			if got := mustRead(t, target); got != "pw=pg-s3cret-9f2c\n" {
				t.Errorf("content %q", got)
			}
			if st, err := os.Stat(target); err != nil || st.Mode().Perm() != c.want {
				t.Errorf("mode %v, %v; want %v", st.Mode().Perm(), err, c.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 1 {
				t.Errorf("directory holds %v, want app.conf alone", entryNames(entries))
			}
			checkWriteOrder(t, events, "app.conf")
		})
	}
}

// checkWriteOrder checks the life of inject's temporary file: created,
// written, chmod'ed, closed, renamed over target, in that order, and
// nothing else touched.
func checkWriteOrder(t *testing.T, events []fsEvent, target string) {
	t.Helper()
	var tmp string
	firstAttrib, lastModify, created, moved := -1, -1, false, false
	for i, e := range events {
		if e.name == target {
			if e.mask != syscall.IN_MOVED_TO {
				t.Errorf("the target itself was touched other than by the rename: %v", e)
			}
			continue
		}
		if tmp == "" {
			tmp = e.name
			if !strings.HasPrefix(tmp, "."+target+".secrethost-") {
				t.Errorf("unexpected file %q", tmp)
			}
		}
		if e.name != tmp {
			t.Errorf("a second file was written: %v", e)
			continue
		}
		switch {
		case e.mask&syscall.IN_CREATE != 0:
			created = true
		case e.mask&syscall.IN_MODIFY != 0:
			lastModify = i
		case e.mask&syscall.IN_ATTRIB != 0 && firstAttrib < 0:
			firstAttrib = i
		case e.mask&syscall.IN_MOVED_FROM != 0:
			moved = true
		}
	}
	switch {
	case !created || lastModify < 0 || !moved:
		t.Errorf("expected create, write and rename of a temporary file; events: %v", events)
	case firstAttrib < 0:
		t.Errorf("the temporary file was never chmod'ed: it was created with its final mode; events: %v", events)
	case firstAttrib < lastModify:
		t.Errorf("the temporary file was chmod'ed before the content was written; events: %v", events)
	}
}

// --- run: the command does not get the providers' credentials --------------

func (h *hygiene) runChild(t *testing.T, over map[string]string, vars []string, extra []string, args ...string) (map[string]any, result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "child.json")
	env := h.environ(over, append([]string{childEnv + "=env", "CHILD_OUT=" + out, "CHILD_VARS=" + strings.Join(vars, ","),
		"PLUGIN_DIR=" + h.pluginDir}, extra...)...)
	r := h.exec(t, env, "", append(append([]string{h.bin}, args...), "--", os.Args[0])...)
	if r.code != 0 {
		return nil, r
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, out)), &got); err != nil {
		t.Fatal(err)
	}
	return got, r
}

// TestHygieneRunWithholdsProviderCredentials: secrethost run hands its
// command the resolved secrets and its own environment, but not the
// variables that carry the providers' credentials, unless
// --keep-provider-env says so.
func TestHygieneRunWithholdsProviderCredentials(t *testing.T) {
	h := newHygiene(t)
	h.writeConfig("envfn.hcl", `
plugin_dir = %q
provider "onepassword-connect" {
  config = {
    SECRET_PROVIDER_CONNECT_HOST  = env("SECRET_PROVIDER_CONNECT_HOST")
    SECRET_PROVIDER_CONNECT_TOKEN = env(%q)
  }
}
provider "test" {
  config_from_env = true
}
`, h.pluginDir, hygEnvCopy)
	vars := []string{"SECRET_PROVIDER_CONNECT_TOKEN", "SECRET_PROVIDER_CONNECT_HOST", "SECRET_PROVIDER_CONNECT_TOKEN_FILE",
		"OP_CONNECT_TOKEN", hygEnvCopy, "TEST_TOKEN", "DB", "PLAIN", "FROMFILE"}
	type want map[string]string // name → value; "-" absent
	cases := []struct {
		name   string
		over   map[string]string
		extra  []string
		args   []string
		expect want
	}{
		{"connect token from env", nil, []string{"DB=op://Demo/Postgres/password", "PLAIN=plain", "OP_CONNECT_TOKEN=" + testToken, hygEnvCopy + "=" + testToken},
			[]string{"--config", "op.hcl", "run"},
			want{"SECRET_PROVIDER_CONNECT_TOKEN": "-", "OP_CONNECT_TOKEN": "-", hygEnvCopy: "-",
				"SECRET_PROVIDER_CONNECT_HOST": h.srv.URL(), "DB": "pg-s3cret-9f2c", "PLAIN": "plain"}},
		{"no reference at all", map[string]string{"SECRET_PROVIDER_CONNECT_HOST": ""}, []string{"PLAIN=plain"}, []string{"--config", "op.hcl", "run"},
			want{"SECRET_PROVIDER_CONNECT_TOKEN": "-", "PLAIN": "plain"}},
		{"token file: the path is no secret", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "", "SECRET_PROVIDER_CONNECT_TOKEN_FILE": h.tokenFile},
			[]string{"DB=op://Demo/Postgres/password"}, []string{"--config", "op.hcl", "run"},
			want{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": h.tokenFile, "DB": "pg-s3cret-9f2c"}},
		{"token under another name, read by env()", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": ""},
			[]string{hygEnvCopy + "=" + testToken, "TEST_TOKEN=" + hygTestToken, "DB=op://Demo/Postgres/password"},
			[]string{"--config", "envfn.hcl", "run"},
			want{hygEnvCopy: "-", "TEST_TOKEN": "-", "DB": "pg-s3cret-9f2c"}},
		{"--keep-provider-env", nil, []string{"DB=op://Demo/Postgres/password", hygEnvCopy + "=" + testToken},
			[]string{"--config", "op.hcl", "run", "--keep-provider-env"},
			want{"SECRET_PROVIDER_CONNECT_TOKEN": testToken, hygEnvCopy: testToken, "DB": "pg-s3cret-9f2c"}},
		{"--env-file sets it on purpose", nil, []string{"DB=op://Demo/Postgres/password"},
			[]string{"--config", "op.hcl", "run", "--env-file", writeTemp(t, h.dir, "explicit.env", "SECRET_PROVIDER_CONNECT_TOKEN=for-the-child\nFROMFILE=x\n")},
			want{"SECRET_PROVIDER_CONNECT_TOKEN": "for-the-child", "FROMFILE": "x", "DB": "pg-s3cret-9f2c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, r := h.runChild(t, c.over, vars, c.extra, append([]string{"--log-level", "debug"}, c.args...)...)
			r.expect(t, 0)
			for name, v := range c.expect {
				val, ok := got[name]
				switch {
				case v == "-" && ok:
					t.Errorf("the command received %s", name)
				case v != "-" && val != v:
					t.Errorf("the command sees %s = %v, want %q", name, val, v)
				}
			}
			if ps, _ := got["plugins_running"].([]any); len(ps) > 0 {
				t.Errorf("plugins still running while the command ran: %v", ps)
			}
			hygNoLeak(t, "stderr", r.stderr)
		})
	}

	// A plugin that cannot describe itself: the command is not started.
	h.writeConfig("gone.hcl", "plugin_dir = %q\nprovider \"gone\" {}\n", h.pluginDir)
	noURL := map[string]string{"SECRET_PROVIDER_CONNECT_HOST": ""} // no reference-like variable
	_, r := h.runChild(t, noURL, vars, []string{"PLAIN=plain"}, "--config", "gone.hcl", "run")
	r.expect(t, 1)
	if !strings.Contains(r.stderr, "cannot tell which variables hold provider credentials") || !strings.Contains(r.stderr, "--keep-provider-env") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	got, r := h.runChild(t, noURL, vars, []string{"PLAIN=plain"}, "--config", "gone.hcl", "run", "--keep-provider-env")
	r.expect(t, 0)
	if got["PLAIN"] != "plain" {
		t.Errorf("child: %v", got)
	}

	r = h.exec(t, h.environ(nil), "", h.bin, "run", "--help")
	r.expect(t, 0)
	if !strings.Contains(r.stdout, "--keep-provider-env") || !strings.Contains(r.stdout, "-keep-provider-env\n") {
		t.Errorf("run --help does not document --keep-provider-env:\n%s", r.stdout)
	}
}
