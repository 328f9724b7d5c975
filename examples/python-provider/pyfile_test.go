// Package pythonprovider_test drives the Python example provider (pyfile,
// in src/) through the real secrethost binary and the conformance kit. The
// provider was written from shared/proto alone; these tests are what keeps
// shared/proto/README.md true for a plugin that is not written in Go.
package pythonprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// python is the interpreter of the plugin's #! line: an absolute path,
// since the host gives a plugin no PATH.
const python = "/usr/bin/python3"

// requirePython skips the test, saying why, when Debian's Python or its
// gRPC, protobuf and cryptography packages are missing. .ci/run installs
// them, so in CI this only happens where apt-get cannot.
func requirePython(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Python example provider is tested on Linux only")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing (%v); install Debian's python3, python3-grpcio, python3-protobuf and python3-cryptography", python, err)
	}
	out, err := exec.Command(python, "-c", "import grpc, google.protobuf, cryptography").CombinedOutput()
	if err != nil {
		t.Skipf("%s cannot import grpc, google.protobuf and cryptography (%v: %s); install them with "+
			"apt-get install -y python3-grpcio python3-protobuf python3-cryptography (.ci/run does)",
			python, err, bytes.TrimSpace(out))
	}
}

// buildPlugin builds the plugin (a zip application, see build.sh) into a
// fresh private plugin directory, as an operator would install it: the
// directory 0700, the file 0755.
func buildPlugin(t *testing.T) string {
	t.Helper()
	requirePython(t)
	dir, err := os.MkdirTemp("", "pyfile-plugins-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pyfile")
	cmd := exec.Command("/bin/sh", filepath.Join(testbin.Root(), "examples", "python-provider", "build.sh"), path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// secrets makes the provider's directory: one file per secret.
func secrets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"a":     "alpha",
		"b":     "beta\nwith a newline, \"quotes\" and $dollars",
		"sub/c": "gamma",
		"empty": "",
	}
	for name, value := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type fixture struct {
	bin    string // secrethost
	plugin string // the built plugin
	dir    string // its secrets directory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	plugin := buildPlugin(t)
	bin := testbin.Build(t, testbin.PluginDir(), "secrethost", "./host/cmd/secrethost", "")
	return &fixture{bin: bin, plugin: plugin, dir: secrets(t)}
}

// config writes a configuration file (0600) naming the plugin, with body
// inside its provider block.
func (f *fixture) config(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.hcl")
	text := fmt.Sprintf("plugin_dir = %q\n\nprovider \"pyfile\" {\n%s\n}\n", filepath.Dir(f.plugin), body)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fixture) goodConfig(t *testing.T) string {
	return f.config(t, fmt.Sprintf("  config = { dir = %q }", f.dir))
}

type result struct {
	stdout, stderr string
	code           int
}

func (f *fixture) run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Dir = t.TempDir()
	// Nothing of the test's environment that could configure secrethost.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("secrethost %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	cfg := f.goodConfig(t)
	r := f.run(t, "--config", cfg, "resolve", "--format", "json",
		"A=pyfile://a", "B=pyfile://b", "C=pyfile://sub/c", "E=pyfile://empty", "UPPER=PYFILE://a")
	if r.code != 0 {
		t.Fatalf("resolve exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("resolve --format json printed %q: %v", r.stdout, err)
	}
	want := map[string]string{
		"A": "alpha", "B": "beta\nwith a newline, \"quotes\" and $dollars", "C": "gamma", "E": "", "UPPER": "alpha",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resolve printed %d values, want %d: %q", len(got), len(want), got)
	}
	if r.stderr != "" {
		t.Errorf("resolve at the default log level wrote to stderr:\n%s", r.stderr)
	}
}

func TestResolveMissing(t *testing.T) {
	f := newFixture(t)
	cfg := f.goodConfig(t)
	r := f.run(t, "--config", cfg, "resolve", "A=pyfile://a", "NOPE=pyfile://nope", "BAD=pyfile://../etc/passwd")
	if r.code != 1 {
		t.Fatalf("resolve with a missing reference exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("resolve printed values although a reference failed: %q", r.stdout)
	}
	for _, s := range []string{"NOPE", "pyfile://nope", `no file 'nope' in the secrets directory`, "BAD", "pyfile://../etc/passwd", "relative path"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not mention %q:\n%s", s, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "alpha") {
		t.Errorf("stderr shows a secret value:\n%s", r.stderr)
	}
}

func TestValidate(t *testing.T) {
	f := newFixture(t)
	cfg := f.goodConfig(t)
	r := f.run(t, "--config", cfg, "validate", "pyfile://a", "pyfile://nope", "pyfile://../x", "pyfile://")
	if r.code != 1 {
		t.Fatalf("validate with invalid references exited %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	want := []string{
		"ok  pyfile://a",
		"ok  pyfile://nope",
		"invalid  pyfile://../x: expected pyfile://<name>, a relative path without empty, . or .. segments",
		"invalid  pyfile://: expected pyfile://<name>, a relative path without empty, . or .. segments",
	}
	if got := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("validate printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRejectedConfig: Configure answers CODE_INVALID_CONFIG, so resolve
// fails with the plugin's reason and exit 2 (a configuration error), and validate still works, through the
// host's unconfigured fallback (a CI job without the secrets directory).
func TestRejectedConfig(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(t, `  config = { dir = "/nonexistent/secrets" }`)

	r := f.run(t, "--config", cfg, "resolve", "A=pyfile://a")
	if r.code != 2 || !strings.Contains(r.stderr, "configuration rejected") || !strings.Contains(r.stderr, `dir '/nonexistent/secrets' is not a readable directory`) {
		t.Errorf("resolve with a rejected configuration: exit %d, want 2 and the plugin's reason\nstderr:\n%s", r.code, r.stderr)
	}

	r = f.run(t, "--config", cfg, "validate", "pyfile://a", "pyfile://../x")
	if r.code != 1 || !strings.Contains(r.stdout, "ok  pyfile://a\n") || !strings.Contains(r.stdout, "invalid  pyfile://../x") {
		t.Errorf("validate with a rejected configuration: exit %d, want 1 with one ok and one invalid line\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = f.run(t, "--config", cfg, "validate", "pyfile://a")
	if r.code != 0 {
		t.Errorf("validate of a valid reference with a rejected configuration exited %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// An unknown attribute is rejected too, naming it.
	cfg = f.config(t, fmt.Sprintf("  config = { dir = %q, directory = \"x\" }", f.dir))
	r = f.run(t, "--config", cfg, "resolve", "A=pyfile://a")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown attribute(s) directory") {
		t.Errorf("resolve with an unknown attribute: exit %d, want 2 naming it\nstderr:\n%s", r.code, r.stderr)
	}
}

// TestBadConfigFile: a configuration file secrethost cannot use exits 2
// before any plugin starts.
func TestBadConfigFile(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(t, fmt.Sprintf("  config = { dir = %q }\n  sha256 = \"not-hex\"", f.dir))
	r := f.run(t, "--config", cfg, "resolve", "A=pyfile://a")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("resolve with a bad sha256 pin: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	cfg = f.config(t, fmt.Sprintf("  confg = { dir = %q }", f.dir))
	r = f.run(t, "--config", cfg, "validate", "pyfile://a")
	if r.code != 2 || !strings.Contains(r.stderr, "confg") {
		t.Errorf("validate with a misspelt attribute: exit %d, want 2 naming it\nstderr:\n%s", r.code, r.stderr)
	}
}

// TestLogsAndStop checks the facts of shared/proto/README.md that only
// show in the host's log: the environment a plugin gets, log lines parsed
// as hclog JSON (not demoted to plain text), and a clean stop through
// GRPCController.Shutdown (no 2 s kill).
func TestLogsAndStop(t *testing.T) {
	f := newFixture(t)
	cfg := f.goodConfig(t)
	r := f.run(t, "--config", cfg, "--log-level", "trace", "resolve", "A=pyfile://a")
	if r.code != 0 {
		t.Fatalf("resolve exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	for _, bad := range []string{"plugin failed to exit gracefully", "signal: killed", `{"@level"`, "[ERROR]", "[WARN]"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("the host's log contains %q:\n%s", bad, r.stderr)
		}
	}
	// The plugin's own lines, re-emitted by the host at their level.
	for _, s := range []string{"[DEBUG] secrethost.pyfile.pyfile: plugin serving: ", "[DEBUG] secrethost.pyfile.pyfile: plugin shutting down"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("the host's log lacks %q:\n%s", s, r.stderr)
		}
	}
	// The environment, exactly: what shared/proto/README.md promises.
	// LC_CTYPE is Python's own (PEP 538 locale coercion), not the host's.
	want := "LC_CTYPE,PLUGIN_CLIENT_CERT,PLUGIN_MAX_PORT,PLUGIN_MIN_PORT,PLUGIN_PROTOCOL_VERSIONS,PLUGIN_UNIX_SOCKET_DIR,SECRETHOST_PLUGIN,SECRETHOST_PLUGIN_LOG_LEVEL"
	if !strings.Contains(r.stderr, `plugin environment: names="`+want+`"`) {
		t.Errorf("the plugin's environment is not %s (update shared/proto/README.md if the host changed it):\n%s", want, r.stderr)
	}
}

func TestConformance(t *testing.T) {
	plugin := buildPlugin(t)
	dir := secrets(t)
	providertest.Run(t, providertest.Suite{
		New:       providertest.Binary(plugin),
		Config:    map[string]string{"dir": dir},
		BadConfig: map[string]string{"dir": filepath.Join(dir, "nonexistent")},
		Valid:     []string{"pyfile://a", "pyfile://b", "pyfile://sub/c"},
		Invalid:   []string{"pyfile://", "pyfile://../etc/passwd", "pyfile:///etc/passwd", "pyfile://a//b", "pyfile"},
		Missing:   []string{"pyfile://nope", "pyfile://sub/nope"},
	})
}

// start launches the plugin the way the host does.
func start(t *testing.T, plugin string) *launch.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), launch.DefaultStartTimeout)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Spec{Name: "pyfile", Path: plugin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Kill)
	return proc
}

// TestLargeMessages: batches and values beyond gRPC's default 4 MiB limit
// cross in both directions.
func TestLargeMessages(t *testing.T) {
	plugin := buildPlugin(t)
	dir := secrets(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // 6 MiB
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, plugin).Client
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := p.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"dir": dir}}); err != nil {
		t.Fatal(err)
	}
	refs := make([]string, 100_000) // about 6 MiB of references
	for i := range refs {
		refs[i] = fmt.Sprintf("pyfile://some/rather/long/path/to/secret-%06d", i)
	}
	v, err := p.Validate(ctx, provider.ValidateRequest{References: refs})
	if err != nil {
		t.Fatalf("Validate of %d references: %v", len(refs), err)
	}
	if len(v.Results) != len(refs) || v.Results[len(refs)-1].Err != nil {
		t.Errorf("Validate of %d references returned %d results", len(refs), len(v.Results))
	}
	res, err := p.Resolve(ctx, provider.ResolveRequest{References: []string{"pyfile://big"}})
	if err != nil {
		t.Fatalf("Resolve of a 6 MiB secret: %v", err)
	}
	if r := res.Results[0]; r.Err != nil || !bytes.Equal(r.Value, big) {
		t.Errorf("Resolve of a 6 MiB secret: %d bytes, error %v", len(r.Value), r.Err)
	}
}

// TestInterrupt: the plugin shares the host's process group, so a Ctrl-C
// at the terminal reaches it as well; it must keep serving.
func TestInterrupt(t *testing.T) {
	plugin := buildPlugin(t)
	proc := start(t, plugin)
	if err := syscall.Kill(proc.Pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
		t.Fatalf("GetInfo after SIGINT: %v\nstderr:\n%s", err, proc.StderrTail())
	}
	if proc.Exited() {
		t.Fatal("the plugin exited on SIGINT")
	}
}

// TestConformanceRunner: the conformance command (what `make conformance`
// runs) passes the Python provider, as it would any third party's binary.
func TestConformanceRunner(t *testing.T) {
	plugin := buildPlugin(t)
	dir := secrets(t)
	runner := testbin.Build(t, testbin.PluginDir(), "conformance", "./shared/providertest/cmd/conformance", "")
	cmd := exec.CommandContext(t.Context(), runner, "-plugin", plugin,
		"-config", "dir="+dir,
		"-bad-config", "dir="+filepath.Join(dir, "nonexistent"),
		"-valid", "pyfile://a pyfile://b pyfile://sub/c",
		"-missing", "pyfile://nope pyfile://sub/nope",
		"-invalid", `pyfile:// pyfile://../etc/passwd pyfile:///etc/passwd pyfile://a//b pyfile`)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance on the Python provider: %v\n%s", err, out)
	}
	for _, name := range providertest.CheckNames() {
		if !strings.Contains(string(out), "PASS  "+name+"\n") && !strings.Contains(string(out), "SKIP  "+name+"\n") {
			t.Errorf("check %s did not pass:\n%s", name, out)
		}
	}
	if strings.Contains(string(out), "FAIL") {
		t.Errorf("a check failed:\n%s", out)
	}
}
