//go:build linux

package cli

// Trust: what secrethost echoes, masks, withholds, writes and loses when
// its input or environment is hostile or merely unusual (issue 9,
// findings 5, 6, 7, 9, 10 and 11). Every test drives the real binary and
// the real plugins.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --- finding 6: masking under run -----------------------------------------

// TestTrustRunMasksEachLineOfAMultiLineSecret: a multi-line secret printed
// line by line with a prefix (what docker compose up does with a
// container's output) is masked line by line; values shorter than
// MinMaskLen are not masked, and each one is named once in a warning.
func TestTrustRunMasksEachLineOfAMultiLineSecret(t *testing.T) {
	f := newFixture(t)
	f.writeFile("multi", "first-line-of-key\r\nsecond-line-of-key\n")
	f.writeFile("letter", "e")
	f.writeFile("port", "5432")
	env := []string{"ML=file://multi", "LETTER=file://letter", "PORT=file://port", "DB=op://Demo/Postgres/password"}
	script := `echo "$ML" | sed 's/^/svc | /'; echo "hello everyone, port 5432, db $DB"; echo "$ML" | sed 's/^/err | /' >&2`
	r := f.run(t, "", env, "--config", "mixed.hcl", "run", "--", "sh", "-c", script)
	r.expect(t, 0)
	want := "svc | " + Concealed + "\r\nsvc | " + Concealed + "\nsvc | \nhello everyone, port 5432, db " + Concealed + "\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%q\nwant\n%q", r.stdout, want)
	}
	for _, leak := range []string{"first-line", "second-line", "pg-s3cret"} {
		if strings.Contains(r.stdout+r.stderr, leak) {
			t.Errorf("output holds %q:\n%s\n%s", leak, r.stdout, r.stderr)
		}
	}
	for _, name := range []string{"LETTER", "PORT"} {
		w := "secrethost run: warning: the value of " + name + " is shorter than 6 bytes and is not masked in the command's output\n"
		if strings.Count(r.stderr, w) != 1 {
			t.Errorf("want the warning about %s once on stderr:\n%s", name, r.stderr)
		}
	}
	for _, name := range []string{"ML", "DB"} {
		if strings.Contains(r.stderr, "value of "+name) {
			t.Errorf("a warning about %s:\n%s", name, r.stderr)
		}
	}
	// --no-masking: nothing is masked, so nothing to warn about.
	r = f.run(t, "", env, "--config", "mixed.hcl", "run", "--no-masking", "--", "sh", "-c", "echo $PORT")
	r.expect(t, 0)
	if r.stdout != "5432\n" || r.stderr != "" {
		t.Errorf("--no-masking: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	r = f.run(t, "", nil, "run", "--help")
	r.expect(t, 0)
	for _, s := range []string{"shorter than 6 bytes", "base64", "line by line"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("run --help does not mention %q:\n%s", s, r.stdout)
		}
	}
}

// --- finding 7: token-file mode ---------------------------------------------

// TestTrustRunTokenFileLikeInlineToken: the Connect token read from
// SECRET_PROVIDER_CONNECT_TOKEN_FILE is withheld from the command when it
// also sits in another variable, and masked in the command's output, as an
// inline token is.
func TestTrustRunTokenFileLikeInlineToken(t *testing.T) {
	h := newHygiene(t)
	fileMode := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "", "SECRET_PROVIDER_CONNECT_TOKEN_FILE": h.tokenFile}
	for _, v := range []struct {
		name string
		over map[string]string
	}{{"inline", nil}, {"token-file", fileMode}} {
		t.Run(v.name, func(t *testing.T) {
			got, r := h.runChild(t, v.over, []string{hygEnvCopy, "DB"},
				[]string{"DB=op://Demo/Postgres/password", hygEnvCopy + "=" + testToken}, "--config", "op.hcl", "run")
			r.expect(t, 0)
			if _, ok := got[hygEnvCopy]; ok {
				t.Errorf("the command received %s, which holds the token", hygEnvCopy)
			}
			if got["DB"] != "pg-s3cret-9f2c" {
				t.Errorf("DB = %v", got["DB"])
			}
			// The command reads the token itself and prints it.
			env := h.environ(v.over, "DB=op://Demo/Postgres/password")
			r = h.exec(t, env, "", h.bin, "--config", "op.hcl", "run", "--", "sh", "-c", `cat "$0"; cat "$0" >&2`, h.tokenFile)
			r.expect(t, 0)
			if r.stdout != Concealed+"\n" || r.stderr != Concealed+"\n" {
				t.Errorf("the token in the command's output is not masked: stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

// --- finding 11: run loses output ---------------------------------------------

// TestTrustRunReportsOutputWriteErrors: when secrethost cannot write the
// command's (masked) output, run says so and exits non-zero, unless the
// command itself already failed.
func TestTrustRunReportsOutputWriteErrors(t *testing.T) {
	f := newFixture(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	for _, c := range []struct {
		script string
		code   int
	}{
		{`head -c 200000 /dev/zero | tr "\0" a`, 1},
		{`echo out; exit 7`, 7},
	} {
		cmd := f.command(t, []string{"DB=op://Demo/Postgres/password"}, "--config", "op.hcl", "run", "--", "sh", "-c", c.script)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = full, &stderr
		code := runCode(t, cmd)
		if code != c.code {
			t.Errorf("%s: exit code %d, want %d; stderr:\n%s", c.script, code, c.code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "secrethost run: cannot write the command's standard output: write /dev/stdout: no space left on device") {
			t.Errorf("%s: stderr:\n%s", c.script, stderr.String())
		}
	}
}

// TestTrustRunWaitsForBackgroundWriters: output written by a background
// process after the command exited still gets through, and that process
// is not killed by SIGPIPE; run still returns at once when no one holds
// the pipes any more.
func TestTrustRunWaitsForBackgroundWriters(t *testing.T) {
	f := newFixture(t)
	status := filepath.Join(f.dir, "status")
	env := []string{"DB=op://Demo/Postgres/password"}
	r := f.run(t, "", env, "--config", "op.hcl", "run", "--", "sh", "-c", `(sleep 3; echo "late $DB"; touch "$0") & echo done`, status)
	r.expect(t, 0)
	if r.stdout != "done\nlate "+Concealed+"\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if _, err := os.Stat(status); err != nil {
		t.Errorf("the background process did not finish: %v", err)
	}

	// A background process that does not hold the pipes does not delay run.
	start := time.Now()
	r = f.run(t, "", env, "--config", "op.hcl", "run", "--", "sh", "-c", `(exec >/dev/null 2>&1; sleep 5) & echo done`)
	r.expect(t, 0)
	if d := time.Since(start); d > 4*time.Second || r.stdout != "done\n" {
		t.Errorf("run took %v, stdout %q", d, r.stdout)
	}
}

// command is f.run's command, for callers that set their own streams.
func (f *fixture) command(t *testing.T, extraEnv []string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, f.bin, args...)
	cmd.Dir = f.dir
	cmd.Env = f.environ(extraEnv)
	return cmd
}

func runCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
