package cli

// End-to-end tests: the built secrethost binary, real plugins built into a
// plugin directory, the 1Password Connect emulator over HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secrethost/secrethost/internal/syncbuf"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// childEnv makes the test binary act as a child command of `secrethost run`.
const childEnv = "SECRETHOST_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// child implements the commands `secrethost run` starts in these tests.
func child(mode string) int {
	switch mode {
	case "dribble":
		// The secret one byte at a time on stdout, in 3-byte pieces on
		// stderr, with pauses: the masker sees it split across reads.
		s := os.Getenv("SECRET")
		os.Stdout.WriteString("value: ")
		for i := range len(s) {
			os.Stdout.Write([]byte{s[i]})
			time.Sleep(5 * time.Millisecond)
		}
		os.Stdout.WriteString(" end\n")
		for i := 0; i < len(s); i += 3 {
			os.Stderr.WriteString(s[i:min(i+3, len(s))])
			time.Sleep(5 * time.Millisecond)
		}
		os.Stderr.WriteString("\n")
		return 0
	case "exit":
		n, _ := strconv.Atoi(os.Getenv("CHILD_CODE"))
		return n
	case "trap":
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1)
		os.Stdout.WriteString("ready\n")
		for s := range sigs {
			if s == syscall.SIGUSR1 {
				os.Stdout.WriteString("usr1\n")
				continue
			}
			os.Stdout.WriteString("term\n")
			return 42
		}
	case "sleep":
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Minute)
		return 0
	case "env":
		// Write the named variables and the plugin processes still alive
		// to CHILD_OUT, as JSON (stdout would be masked).
		out := map[string]any{}
		for _, n := range strings.Split(os.Getenv("CHILD_VARS"), ",") {
			if v, ok := os.LookupEnv(n); ok {
				out[n] = v
			}
		}
		out["plugins_running"] = pluginProcesses(os.Getenv("PLUGIN_DIR"))
		b, _ := json.Marshal(out)
		if err := os.WriteFile(os.Getenv("CHILD_OUT"), b, 0o600); err != nil {
			return 3
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown child mode %q\n", mode)
	return 99
}

// pluginProcesses lists running processes whose executable is in dir.
func pluginProcesses(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && filepath.Dir(exe) == dir {
			out = append(out, e.Name()+" "+exe)
		}
	}
	return out
}

// --- fixtures -------------------------------------------------------------

type fixture struct {
	bin       string // the secrethost binary
	pluginDir string
	srv       *emulator.Server
	dir       string // per-test working directory with config files
	secrets   string // the file provider's directory
	env       map[string]string
}

const testToken = "test-token-4f1a"

// connectValues are field values of the Tricky item: every byte class the
// output formats must carry (Connect holds JSON strings, so valid UTF-8).
var connectValues = func() []string {
	var out []string
	for _, v := range trickyValues {
		if v != "" && utf8.ValidString(v) {
			out = append(out, v)
		}
	}
	return out
}()

var (
	binOnce   sync.Mutex
	builtBins = map[string]string{}
)

func buildAll(t *testing.T) (bin, pluginDir string) {
	t.Helper()
	binOnce.Lock()
	defer binOnce.Unlock()
	root := testbin.PluginDir()
	pluginDir = filepath.Join(root, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	testbin.Build(t, pluginDir, "onepassword-connect", "./plugins/onepassword-connect", "")
	testbin.Build(t, pluginDir, "file", "./examples/file-provider", "")
	bin = testbin.Build(t, root, "secrethost", "./host/cmd/secrethost", "")
	return bin, pluginDir
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin, pluginDir := buildAll(t)
	data := emulator.NewData()
	demo := data.AddVault("Demo")
	pg := demo.AddItem("Postgres", "DATABASE")
	pg.AddField(emulator.Field{Label: "username", Value: "app_user"})
	pg.AddField(emulator.Field{Label: "password", Type: "CONCEALED", Purpose: "PASSWORD", Value: "pg-s3cret-9f2c"})
	tricky := demo.AddItem("Tricky", "PASSWORD")
	for i, v := range connectValues {
		tricky.AddField(emulator.Field{Label: fmt.Sprintf("f%d", i), Type: "CONCEALED", Value: v})
	}
	hidden := data.AddVault("Hidden")
	hi := hidden.AddItem("Root", "PASSWORD")
	hi.AddField(emulator.Field{Label: "password", Type: "CONCEALED", Value: "root-pw"})
	data.Grant(testToken, demo.ID)
	srv := emulator.NewTestServer(t, data)

	f := &fixture{bin: bin, pluginDir: pluginDir, srv: srv, dir: t.TempDir(), secrets: t.TempDir()}
	f.env = map[string]string{
		"PATH":                          os.Getenv("PATH"),
		"HOME":                          f.dir,
		"SECRET_PROVIDER":               "1password",
		"SECRET_PROVIDER_CONNECT_HOST":  srv.URL(),
		"SECRET_PROVIDER_CONNECT_TOKEN": testToken,
	}
	f.writeFile("api_key", "file-api-key-77")
	// The file provider removes one trailing newline: this value ends in one.
	f.writeFile("binary", "\xff\xfe raw \x85 bytes\n\n")
	// The built-in default configuration would look for plugins next to
	// the binary; these files say where they are.
	f.writeConfig("op.hcl", `
plugin_dir = %q
select     = env("SECRET_PROVIDER", "")
provider "onepassword-connect" {
  select          = "1password"
  config_from_env = true
}
`, pluginDir)
	f.writeConfig("mixed.hcl", `
plugin_dir = %q
provider "onepassword-connect" {
  config_from_env = true
}
provider "file" {
  config = { dir = %q }
}
`, pluginDir, f.secrets)
	return f
}

func (f *fixture) writeFile(name, content string) {
	if err := os.WriteFile(filepath.Join(f.secrets, name), []byte(content), 0o600); err != nil {
		panic(err)
	}
}

func (f *fixture) writeConfig(name, format string, args ...any) {
	if err := os.WriteFile(filepath.Join(f.dir, name), fmt.Appendf(nil, format, args...), 0o600); err != nil {
		panic(err)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs secrethost with args in the fixture's directory and environment
// (plus extra "K=V" entries).
func (f *fixture) run(t *testing.T, stdin string, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Dir = f.dir
	cmd.Env = f.environ(extraEnv)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run secrethost: %v", err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (f *fixture) environ(extra []string) []string {
	var env []string
	for k, v := range f.env {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

func (r result) expect(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// noLeak fails if any secret of the fixture appears in s.
func noLeak(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{"pg-s3cret-9f2c", "file-api-key-77", "root-pw", testToken} {
		if strings.Contains(s, v) {
			t.Errorf("%s leaks %q:\n%s", what, v, s)
		}
	}
}

func trickyArgs() ([]string, map[string]string) {
	var args []string
	want := map[string]string{}
	for i, v := range connectValues {
		name := fmt.Sprintf("T%d", i)
		args = append(args, fmt.Sprintf("%s=op://Demo/Tricky/f%d", name, i))
		want[name] = v
	}
	return args, want
}

// --- resolve --------------------------------------------------------------

func TestE2EResolveDotenvExactBytes(t *testing.T) {
	f := newFixture(t)
	args, want := trickyArgs()
	r := f.run(t, "", nil, append([]string{"--config", "op.hcl", "resolve"}, args...)...)
	r.expect(t, 0)
	got, err := composeParse(r.stdout, func(k string) (string, bool) { return "INTERPOLATED", true })
	if err != nil {
		t.Fatalf("compose cannot read the output: %v\n%s", err, r.stdout)
	}
	own, err := parseDotenv([]byte(r.stdout), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("compose reads %s = %q, want %q", k, got[k], v)
		}
		if varsMap(own)[k] != v {
			t.Errorf("parseDotenv reads %s = %q, want %q", k, varsMap(own)[k], v)
		}
	}
	// The output file works as a docker compose --env-file.
	envFile := filepath.Join(f.dir, "out.env")
	os.WriteFile(envFile, []byte(r.stdout), 0o600)
	got2, _ := composeParse(mustRead(t, envFile), nil)
	if got2["T0"] != want["T0"] {
		t.Error("round trip through a file failed")
	}
	noLeak(t, "stderr", r.stderr)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestE2EResolveJSONExactBytes(t *testing.T) {
	f := newFixture(t)
	args, want := trickyArgs()
	args = append(args, "op://Demo/Postgres/password") // a bare reference is its own key
	want["op://Demo/Postgres/password"] = "pg-s3cret-9f2c"
	r := f.run(t, "", nil, append([]string{"resolve", "--config", "op.hcl", "--format", "json"}, args...)...)
	r.expect(t, 0)
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
}

func TestE2EResolveShellExactBytes(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	f := newFixture(t)
	args, want := trickyArgs()
	// Bytes that are not UTF-8 come from the file provider.
	args = append(args, "RAW=file://binary")
	want["RAW"] = "\xff\xfe raw \x85 bytes\n"
	r := f.run(t, "", nil, append([]string{"--config", "mixed.hcl", "resolve", "--format=shell"}, args...)...)
	r.expect(t, 0)
	file := filepath.Join(f.dir, "secrets.sh")
	os.WriteFile(file, []byte(r.stdout), 0o600)
	var names []string
	for k := range want {
		names = append(names, k)
	}
	got := shellRead(t, file, names)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sh reads %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestE2EResolveFromDocoCDFile(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.dir, ".doco-cd.yml"), []byte(`name: app
external_secrets:
  DB_USER: op://Demo/Postgres/username
  DB_PASSWORD: op://Demo/Postgres/password
`), 0o600)
	r := f.run(t, "", nil, "--config", "op.hcl", "resolve", "--from", ".doco-cd.yml", "EXTRA=op://Demo/Postgres/username")
	r.expect(t, 0)
	want := "DB_USER=\"app_user\"\nDB_PASSWORD=\"pg-s3cret-9f2c\"\nEXTRA=\"app_user\"\n"
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

func TestE2EResolveFailureLeavesStdoutEmpty(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", []string{"SECRETHOST_LOG_LEVEL=trace"}, "--config", "op.hcl", "resolve",
		"GOOD=op://Demo/Postgres/password", "MISSING=op://Demo/Postgres/nope", "HIDDEN=op://Hidden/Root/password",
		"BAD=op://Demo", "OTHER=vault://x/y")
	r.expect(t, 1)
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", r.stdout)
	}
	for _, want := range []string{
		"4 of 5 secret references failed; nothing was printed",
		"MISSING (op://Demo/Postgres/nope): not_found",
		"HIDDEN (op://Hidden/Root/password): not_found",
		"BAD (op://Demo): invalid_reference",
		// Not a reference of a configured scheme: named, not shown.
		"OTHER (argument 5): not a reference of a configured scheme (op://); the value is not shown",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "GOOD (") {
		t.Errorf("stderr lists a reference that resolved:\n%s", r.stderr)
	}
	// Even at trace level, no value, no token.
	noLeak(t, "stderr", r.stderr)
}

func TestE2EMixedProviders(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", nil, "--config", "mixed.hcl", "resolve", "--format", "json",
		"DB=op://Demo/Postgres/password", "API=file://api_key")
	r.expect(t, 0)
	var got map[string]string
	json.Unmarshal([]byte(r.stdout), &got)
	if got["DB"] != "pg-s3cret-9f2c" || got["API"] != "file-api-key-77" {
		t.Errorf("got %q", got)
	}

	out := filepath.Join(f.dir, "child.json")
	r = f.run(t, "", []string{
		childEnv + "=env", "CHILD_OUT=" + out, "CHILD_VARS=DB,API,PLAIN,URL,FROMFILE",
		"PLUGIN_DIR=" + f.pluginDir,
		"DB=op://Demo/Postgres/password", "API=file://api_key", "PLAIN=plain", "URL=https://example.com/x",
	}, "--config", "mixed.hcl", "run", "--env-file", writeTemp(t, f.dir, "extra.env", "FROMFILE=file://api_key\n"), "--", os.Args[0])
	r.expect(t, 0)
	var env map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, out)), &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DB": "pg-s3cret-9f2c", "API": "file-api-key-77", "PLAIN": "plain", "URL": "https://example.com/x", "FROMFILE": "file-api-key-77"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("child sees %s = %v, want %q", k, env[k], v)
		}
	}
	// No plugin runs alongside the child.
	if ps, _ := env["plugins_running"].([]any); len(ps) > 0 {
		t.Errorf("plugins still running while the child ran: %v", ps)
	}
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// --- run ------------------------------------------------------------------

func TestE2ERunMasksSecretSplitAcrossReads(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", []string{childEnv + "=dribble", "SECRET=op://Demo/Postgres/password"},
		"--config", "op.hcl", "run", "--", os.Args[0])
	r.expect(t, 0)
	if r.stdout != "value: "+concealed+" end\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.stderr != concealed+"\n" {
		t.Errorf("stderr %q", r.stderr)
	}

	// --no-masking passes the output through untouched.
	r = f.run(t, "", []string{childEnv + "=dribble", "SECRET=op://Demo/Postgres/password"},
		"--config", "op.hcl", "run", "--no-masking", "--", os.Args[0])
	r.expect(t, 0)
	if r.stdout != "value: pg-s3cret-9f2c end\n" {
		t.Errorf("--no-masking stdout %q", r.stdout)
	}
}

func TestE2ERunPassesExitCode(t *testing.T) {
	f := newFixture(t)
	for _, code := range []int{0, 1, 7, 113} {
		r := f.run(t, "", []string{childEnv + "=exit", "CHILD_CODE=" + strconv.Itoa(code), "DB=op://Demo/Postgres/password"},
			"--config", "op.hcl", "run", "--", os.Args[0])
		r.expect(t, code)
	}
	r := f.run(t, "", nil, "--config", "op.hcl", "run", "--", "/nonexistent/command")
	r.expect(t, 127)
	r = f.run(t, "", nil, "--config", "op.hcl", "run")
	r.expect(t, 2)
}

func TestE2ERunFailureDoesNotStartTheCommand(t *testing.T) {
	f := newFixture(t)
	marker := filepath.Join(f.dir, "started")
	r := f.run(t, "", []string{"DB=op://Demo/Postgres/nope"}, "--config", "op.hcl", "run", "--", "sh", "-c", "touch "+marker)
	r.expect(t, 1)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although a reference failed")
	}
	if !strings.Contains(r.stderr, "DB (op://Demo/Postgres/nope): not_found") || !strings.Contains(r.stderr, "the command was not started") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	// Every --from entry must resolve, whatever its scheme.
	from := writeTemp(t, f.dir, "refs.env", "TYPO=opp://Demo/Postgres/password\n")
	r = f.run(t, "", nil, "--config", "op.hcl", "run", "--from", from, "--", "sh", "-c", "touch "+marker)
	r.expect(t, 1)
	if !strings.Contains(r.stderr, "TYPO ("+from+":1): not a reference of a configured scheme") || strings.Contains(r.stderr, "opp://") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// startRun starts secrethost run in the background and waits until the
// child printed "ready".
func (f *fixture) startRun(t *testing.T, mode string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(f.bin, "--config", "op.hcl", "run", "--", os.Args[0])
	cmd.Dir = f.dir
	cmd.Env = f.environ([]string{childEnv + "=" + mode, "DB=op://Demo/Postgres/password"})
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "ready\n") {
		if time.Now().After(deadline) {
			t.Fatalf("child never got ready: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, out
}

func waitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatal("secrethost did not exit")
		return -1
	}
}

func TestE2ERunForwardsSignals(t *testing.T) {
	f := newFixture(t)
	cmd, out := f.startRun(t, "trap")
	cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "usr1\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitCode(t, cmd); code != 42 {
		t.Fatalf("exit code %d, want the child's 42; output:\n%s", code, out.String())
	}
	if out.String() != "ready\nusr1\nterm\n" {
		t.Errorf("output %q", out.String())
	}
}

func TestE2ERunReportsDeathBySignal(t *testing.T) {
	f := newFixture(t)
	cmd, out := f.startRun(t, "sleep")
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitCode(t, cmd); code != 128+int(syscall.SIGINT) {
		t.Fatalf("exit code %d, want %d; output:\n%s", code, 128+int(syscall.SIGINT), out.String())
	}
}

// --- inject ---------------------------------------------------------------

func TestE2EInject(t *testing.T) {
	f := newFixture(t)
	tmpl := "user={{ op://Demo/Postgres/username }}\npass={{op://Demo/Postgres/password}}\nkeep={{ .Go.Template }} {{ https://example.com }}\n"
	want := "user=app_user\npass=pg-s3cret-9f2c\nkeep={{ .Go.Template }} {{ https://example.com }}\n"

	// stdin to stdout
	r := f.run(t, tmpl, nil, "--config", "op.hcl", "inject")
	r.expect(t, 0)
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}

	// file to file: atomic, 0600
	in := writeTemp(t, f.dir, "app.tmpl", tmpl)
	out := filepath.Join(f.dir, "app.conf")
	r = f.run(t, "", nil, "--config", "op.hcl", "inject", "-i", in, "-o", out)
	r.expect(t, 0)
	if got := mustRead(t, out); got != want {
		t.Errorf("OUT %q, want %q", got, want)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	r = f.run(t, "", nil, "--config", "op.hcl", "inject", "-i", in, "-o", out, "--file-mode", "0640")
	r.expect(t, 0)
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
}

func TestE2EInjectFailureLeavesOutputUntouched(t *testing.T) {
	f := newFixture(t)
	out := writeTemp(t, f.dir, "app.conf", "previous content\n")
	os.Chmod(out, 0o644)
	in := writeTemp(t, f.dir, "bad.tmpl", "ok={{ op://Demo/Postgres/password }}\nbad={{ op://Demo/Postgres/nope }}\n")
	r := f.run(t, "", nil, "--config", "op.hcl", "inject", "-i", in, "-o", out)
	r.expect(t, 1)
	if got := mustRead(t, out); got != "previous content\n" {
		t.Errorf("OUT changed to %q", got)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o644 {
		t.Errorf("OUT mode changed to %v", st.Mode().Perm())
	}
	if !strings.Contains(r.stderr, "op://Demo/Postgres/nope: not_found") || !strings.Contains(r.stderr, "was left as it was") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "secrethost-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	noLeak(t, "stderr", r.stderr)
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// --- validate -------------------------------------------------------------

func TestE2EValidateIsOffline(t *testing.T) {
	f := newFixture(t)
	f.srv.ResetRequests()
	r := f.run(t, "", nil, "--config", "op.hcl", "validate",
		"op://Demo/Postgres/password", "op://Nowhere/Item/field", "DB=op://Demo/Postgres/username", "op://Demo", "file://x")
	r.expect(t, 1)
	want := "ok  op://Demo/Postgres/password\n" +
		"ok  op://Nowhere/Item/field\n" +
		"ok  op://Demo/Postgres/username (DB)\n"
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout:\n%s\nwant it to start with:\n%s", r.stdout, want)
	}
	for _, line := range []string{"invalid  op://Demo: ", "invalid  argument 5: not a reference of a configured scheme (op://); the value is not shown"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
	if n := f.srv.RequestCount(); n != 0 {
		t.Errorf("validate made %d requests to Connect: %+v", n, f.srv.Requests())
	}
	r = f.run(t, "", nil, "--config", "op.hcl", "validate", "op://Demo/Postgres/password")
	r.expect(t, 0)
	if n := f.srv.RequestCount(); n != 0 {
		t.Errorf("validate made %d requests to Connect", n)
	}

	// Without credentials (a CI job linting a deploy file), validate still
	// checks the references; resolve of course cannot.
	r = f.run(t, "", []string{"SECRET_PROVIDER_CONNECT_TOKEN="}, "--config", "op.hcl", "validate", "op://Demo/Postgres/password", "op://Demo")
	r.expect(t, 1)
	if !strings.Contains(r.stdout, "ok  op://Demo/Postgres/password\n") || !strings.Contains(r.stdout, "invalid  op://Demo: ") {
		t.Errorf("validate without a token:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r = f.run(t, "", []string{"SECRET_PROVIDER_CONNECT_TOKEN="}, "--config", "op.hcl", "resolve", "A=op://Demo/Postgres/password")
	if r.code == 0 || r.stdout != "" {
		t.Errorf("resolve without a token: exit %d, stdout %q", r.code, r.stdout)
	}
	if n := f.srv.RequestCount(); n != 0 {
		t.Errorf("made %d requests to Connect without a token", n)
	}
}

// --- doctor, plugins, version ---------------------------------------------

func TestE2EDoctorHealthy(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", nil, "--config", "op.hcl", "doctor", "DB=op://Demo/Postgres/password")
	r.expect(t, 0)
	for _, want := range []string{
		"ok    plugin binary found: " + filepath.Join(f.pluginDir, "onepassword-connect"),
		"ok    checksum: not pinned",
		"ok    plugin starts",
		"ok    protocol version: protocol 1",
		"ok    configuration valid",
		`ok    vault "Demo"`,
		"ok    DB (op://Demo/Postgres/password): resolves",
		"All checks passed.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Hidden") {
		t.Errorf("doctor lists a vault the token cannot see:\n%s", r.stdout)
	}
	noLeak(t, "stdout", r.stdout)

	r = f.run(t, "", nil, "--config", "op.hcl", "doctor", "--format", "json")
	r.expect(t, 0)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || len(rep.Providers) != 1 || rep.Providers[0].Info == nil {
		t.Errorf("json report: %v\n%s", err, r.stdout)
	}
}

func TestE2EDoctorWrongToken(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", []string{"SECRET_PROVIDER_CONNECT_TOKEN=wrong-token-123"}, "--config", "op.hcl", "doctor")
	r.expect(t, 1)
	if !strings.Contains(r.stdout, "FAIL  token accepted") || !strings.Contains(r.stdout, "unauthenticated") || !strings.Contains(r.stdout, "fix: ") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "wrong-token-123") {
		t.Error("doctor echoes the token")
	}
}

func TestE2EDoctorVaultTheTokenCannotSee(t *testing.T) {
	f := newFixture(t)
	r := f.run(t, "", nil, "--config", "op.hcl", "doctor", "ROOT=op://Hidden/Root/password")
	r.expect(t, 1)
	for _, want := range []string{
		`ok    vault "Demo"`,
		"FAIL  ROOT (op://Hidden/Root/password): not_found",
		"grant the token read access",
		"1 problem found.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	noLeak(t, "stdout", r.stdout)
}

func TestE2EDoctorConfigurationProblems(t *testing.T) {
	f := newFixture(t)
	tokenFile := writeTemp(t, f.dir, "token", testToken+"\n")
	// Both inline token and token file: the plugin's configuration check fails.
	r := f.run(t, "", []string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE=" + tokenFile}, "--config", "op.hcl", "doctor")
	r.expect(t, 1)
	if !strings.Contains(r.stdout, "FAIL  configuration valid") || !strings.Contains(r.stdout, "SECRET_PROVIDER_CONNECT_TOKEN_FILE") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// The token file alone works.
	f.env["SECRET_PROVIDER_CONNECT_TOKEN"] = ""
	r = f.run(t, "", []string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE=" + tokenFile}, "--config", "op.hcl", "doctor")
	r.expect(t, 0)

	// A missing plugin and a wrong pin.
	f.writeConfig("broken.hcl", `
plugin_dir = %q
provider "gone" {
  plugin = "no-such-plugin"
}
provider "file" {
  sha256 = "%s"
  config = { dir = "/" }
}
`, f.pluginDir, strings.Repeat("ab", 32))
	r = f.run(t, "", nil, "--config", "broken.hcl", "doctor")
	r.expect(t, 1)
	for _, want := range []string{"FAIL  plugin binary found", "fix: install the plugin binary as", "FAIL  checksum", "set sha256 ="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestE2EPluginsAndVersion(t *testing.T) {
	f := newFixture(t)
	f.srv.ResetRequests()
	r := f.run(t, "", nil, "--config", "mixed.hcl", "plugins")
	r.expect(t, 0)
	for _, want := range []string{"onepassword-connect", "op://", "file://", "file 0.1.0", filepath.Join(f.pluginDir, "file")} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := f.srv.RequestCount(); n != 0 {
		t.Errorf("plugins made %d requests to Connect", n)
	}
	r = f.run(t, "", nil, "version")
	r.expect(t, 0)
	if !strings.HasPrefix(r.stdout, "secrethost ") || !strings.Contains(r.stdout, "plugin protocol 1") {
		t.Errorf("version: %q", r.stdout)
	}
}

// --- configuration and usage ----------------------------------------------

func TestE2EBuiltInDefaultConfiguration(t *testing.T) {
	// No --config: the built-in doco-cd default reads SECRET_PROVIDER and
	// the Connect variables; plugins are found next to the binary.
	f := newFixture(t)
	r := f.run(t, "", nil, "resolve", "DB=op://Demo/Postgres/password")
	r.expect(t, 0)
	if r.stdout != "DB=\"pg-s3cret-9f2c\"\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	r = f.run(t, "", []string{"SECRET_PROVIDER=vault"}, "resolve", "DB=op://Demo/Postgres/password")
	r.expect(t, 2)
	if !strings.Contains(r.stderr, `unknown provider in SECRET_PROVIDER (its value, read with env() or file(), is not shown)`) || strings.Contains(r.stderr, "vault") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestE2EUsageErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"resolve", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"--bogus", "resolve"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{}, 2, "Usage: secrethost"},
		{[]string{"resolve", "--config", "missing.hcl", "A=op://x/y/z"}, 2, "missing.hcl"},
		{[]string{"--config", "missing.hcl", "resolve", "A=op://x/y/z"}, 2, "missing.hcl"},
		{[]string{"resolve", "A=op://x/y/z", "--log-level", "loud"}, 2, `invalid log level "loud"`},
		{[]string{"resolve", "--config", "op.hcl"}, 2, "no references"},
		{[]string{"resolve", "--config", "op.hcl", "op://Demo/Postgres/password"}, 2, "dotenv output needs NAME=REF"},
		{[]string{"resolve", "--config", "op.hcl", "--format", "yaml", "A=op://x/y/z"}, 2, `unknown format "yaml"`},
		{[]string{"resolve", "--config", "op.hcl", "--from", "nope.yml"}, 2, "--from"},
		{[]string{"inject", "--config", "op.hcl", "--file-mode", "999"}, 2, "--file-mode"},
		{[]string{"doctor", "--config", "op.hcl", "--format", "xml"}, 2, "unknown format"},
	} {
		r := f.run(t, "", nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("%q: stdout %q", tc.args, r.stdout)
		}
	}
	r := f.run(t, "", []string{"SECRETHOST_LOG_LEVEL=loud"}, "version")
	r.expect(t, 2)

	// A config.hcl mistake names file:line:col and shows the line.
	f.writeConfig("typo.hcl", `
provider "onepassword-connect" {
  tiemout = "5s"
}
`)
	r = f.run(t, "", nil, "resolve", "--config", "typo.hcl", "A=op://x/y/z")
	if r.code != 2 || !strings.Contains(r.stderr, "typo.hcl:3:3: Unsupported argument") || !strings.Contains(r.stderr, `tiemout = "5s"`) {
		t.Errorf("config typo: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	for _, cmd := range []string{"resolve", "run", "inject", "validate", "doctor", "plugins", "version"} {
		r := f.run(t, "", nil, cmd, "--help")
		r.expect(t, 0)
		if !strings.HasPrefix(r.stdout, "Usage: secrethost "+cmd) || !strings.Contains(r.stdout, "-config") {
			t.Errorf("%s --help:\n%s", cmd, r.stdout)
		}
		r2 := f.run(t, "", nil, "help", cmd)
		if r2.code != 0 || r2.stdout != r.stdout {
			t.Errorf("help %s differs from %s --help", cmd, cmd)
		}
	}
}

func TestE2ERunInterruptedDuringResolution(t *testing.T) {
	f := newFixture(t)
	asking := make(chan struct{})
	var once sync.Once
	if err := f.srv.AddFault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 20 * time.Second, Path: "/v1/",
		Match: func(*http.Request) bool { once.Do(func() { close(asking) }); return true }}); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(f.dir, "started")
	cmd := exec.Command(f.bin, "--config", "op.hcl", "run", "--", "sh", "-c", "touch "+marker)
	cmd.Dir = f.dir
	cmd.Env = f.environ([]string{"DB=op://Demo/Postgres/password"})
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the plugin is asking Connect, then interrupt.
	select {
	case <-asking:
	case <-time.After(30 * time.Second):
		t.Fatal("no request reached Connect")
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitCode(t, cmd); code != 128+int(syscall.SIGINT) {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	t.Logf("stopped %s after SIGINT", time.Since(start))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to stop after SIGINT", d)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command started after an interrupted resolution")
	}
	if !strings.Contains(stderr.String(), "interrupted; the command was not started") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
