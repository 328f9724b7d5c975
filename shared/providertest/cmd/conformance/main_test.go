package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/providertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  a  b\tc\n", []string{"a", "b", "c"}},
		{`file://"a b" 'it''s' x\ y`, []string{"file://a b", "its", "x y"}},
		{`"q\"uote\\" '\n' "" ''`, []string{`q"uote\`, `\n`, "", ""}},
		{`"a\b"`, []string{`a\b`}},
		{`dir=/srv/my\ secrets token='p a$s'`, []string{"dir=/srv/my secrets", "token=p a$s"}},
	} {
		got, err := splitWords(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`'open`, `"open`, `end\`} {
		if got, err := splitWords(in); err == nil {
			t.Errorf("splitWords(%q) = %q, want an error", in, got)
		}
	}
}

func TestKeyValues(t *testing.T) {
	m, err := keyValues([]string{"a=1", "b=", "c=x=y"})
	if err != nil || len(m) != 3 || m["a"] != "1" || m["b"] != "" || m["c"] != "x=y" {
		t.Errorf("keyValues = %q, %v", m, err)
	}
	for _, ws := range [][]string{{"novalue-s3cret"}, {"=v"}, {"a=1", "a=2"}} {
		_, err := keyValues(ws)
		if err == nil {
			t.Errorf("keyValues(%q) succeeded", ws)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("keyValues(%q) echoes the word: %v", ws, err)
		}
	}
}

type result struct {
	out  string
	code int
}

// runner runs the real conformance command, built once.
func runner(t *testing.T, args ...string) result {
	t.Helper()
	bin := testbin.Build(t, testbin.PluginDir(), "conformance", "./shared/providertest/cmd/conformance", "")
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), code}
}

// secrets makes a directory for the file provider, with a space in its
// name, so that the quoting rule is exercised.
func secrets(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my secrets")
	for name, value := range map[string]string{"alpha": "alpha-secret\n", "two words": "beta", "nested/gamma": "gamma"} {
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

func fileArgs(plugin, dir string) []string {
	return []string{"-plugin", plugin,
		"-config", "dir='" + dir + "'",
		"-valid", `file://alpha "file://two words" file://nested/gamma`,
		"-missing", `file://nope file://nested/nope`,
		"-invalid", `file://../outside file:///etc/passwd notaref`,
		"-bad-config", `dir=no-such-dir`,
	}
}

// lines returns the check lines of the runner's output: "PASS  Info", ...
func lines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		for _, st := range []string{"PASS", "FAIL", "SKIP"} {
			if name, ok := strings.CutPrefix(l, st+"  "); ok {
				m[name] = st
			}
		}
	}
	return m
}

// TestRunnerFileProvider: the runner passes the example file provider and
// prints every check of the kit with its result.
func TestRunnerFileProvider(t *testing.T) {
	plugin := testbin.Build(t, testbin.PluginDir(), "file", "./examples/file-provider", "")
	r := runner(t, fileArgs(plugin, secrets(t))...)
	if r.code != 0 {
		t.Fatalf("conformance exited %d, want 0:\n%s", r.code, r.out)
	}
	got := lines(r.out)
	for _, name := range providertest.CheckNames() {
		want := "PASS"
		if name == "ValidateOffline" || name == "NoSecretsInErrors" {
			want = "SKIP" // no request counter; nothing sensitive
		}
		if got[name] != want {
			t.Errorf("check %s: %q, want %s\n%s", name, got[name], want, r.out)
		}
	}
	if len(got) != len(providertest.CheckNames()) {
		t.Errorf("%d check lines, want %d:\n%s", len(got), len(providertest.CheckNames()), r.out)
	}
}

// TestRunnerBrokenPlugin: a plugin that breaks one rule fails exactly the
// check for it; the runner names the check, says why and exits 1.
func TestRunnerBrokenPlugin(t *testing.T) {
	dir := secrets(t)
	for _, tc := range []struct{ name, check, reason string }{
		{"dedups", "Duplicates", "returned 2 results for 5 references"},
		{"unhealthy", "CheckAndClose", "Check reports unhealthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plugin := testbin.Build(t, testbin.PluginDir(), tc.name, "./shared/providertest/testdata/brokenplugin", "")
			r := runner(t, fileArgs(plugin, dir)...)
			if r.code != 1 {
				t.Errorf("conformance exited %d, want 1:\n%s", r.code, r.out)
			}
			for name, st := range lines(r.out) {
				if (st == "FAIL") != (name == tc.check) {
					t.Errorf("check %s: %s; only %s should fail:\n%s", name, st, tc.check, r.out)
				}
			}
			if !strings.Contains(r.out, "FAIL  "+tc.check+"\n") || !strings.Contains(r.out, tc.reason) {
				t.Errorf("the output does not say that %s failed because %q:\n%s", tc.check, tc.reason, r.out)
			}
		})
	}
}

// TestRunnerUnsafePlugin: the runner refuses a plugin the host would
// refuse (here: group-writable), before running anything.
func TestRunnerUnsafePlugin(t *testing.T) {
	dir := t.TempDir()
	src := testbin.Build(t, testbin.PluginDir(), "file", "./examples/file-provider", "")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, "file")
	if err := os.WriteFile(plugin, b, 0o775); err != nil {
		t.Fatal(err)
	}
	os.Chmod(plugin, 0o775)
	r := runner(t, fileArgs(plugin, secrets(t))...)
	if r.code != 1 || !strings.Contains(r.out, "FAIL  Start") || !strings.Contains(r.out, "the host would not run") || strings.Contains(r.out, "PASS") {
		t.Errorf("conformance on a group-writable plugin: exit %d, want 1 and FAIL Start only:\n%s", r.code, r.out)
	}
}

// TestRunnerUsage: usage errors exit 2 and name the problem.
func TestRunnerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-plugin is required"},
		{[]string{"-plugin", "x", "-valid", `'open`}, "unterminated"},
		{[]string{"-plugin", "x", "-config", "tok3n-s3cret"}, "word 1 is not key=value"},
		{[]string{"-plugin", "x", "stray"}, `unexpected argument "stray"`},
	} {
		r := runner(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.out, tc.want) || strings.Contains(r.out, "s3cret") {
			t.Errorf("conformance %q: exit %d, want 2 and %q:\n%s", tc.args, r.code, tc.want, r.out)
		}
	}
}
