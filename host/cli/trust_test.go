//go:build linux

package cli

// Trust: what secrethost echoes, masks, withholds, writes and loses when
// its input or environment is hostile or merely unusual (issue 9,
// findings 5, 6, 7, 9, 10 and 11). Every test drives the real binary and
// the real plugins.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"
)

// --- finding 6: masking under run -----------------------------------------

// TestTrustRunMasksEachLineOfAMultiLineSecret: a multi-line secret printed
// line by line with a prefix (what docker compose up does with a
// container's output) is masked line by line; values shorter than
// minMaskLen are not masked, and each one is named once in a warning.
func TestTrustRunMasksEachLineOfAMultiLineSecret(t *testing.T) {
	f := newFixture(t)
	// The file provider removes one trailing newline: this value ends in one.
	f.writeFile("multi", "first-line-of-key\r\nsecond-line-of-key\n\n")
	f.writeFile("letter", "e")
	f.writeFile("port", "5432")
	env := []string{"ML=file://multi", "LETTER=file://letter", "PORT=file://port", "DB=op://Demo/Postgres/password"}
	script := `echo "$ML" | sed 's/^/svc | /'; echo "hello everyone, port 5432, db $DB"; echo "$ML" | sed 's/^/err | /' >&2`
	r := f.run(t, "", env, "--config", "mixed.hcl", "run", "--", "sh", "-c", script)
	r.expect(t, 0)
	want := "svc | " + concealed + "\r\nsvc | " + concealed + "\nsvc | \nhello everyone, port 5432, db " + concealed + "\n"
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
			if r.stdout != concealed+"\n" || r.stderr != concealed+"\n" {
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
	if r.stdout != "done\nlate "+concealed+"\n" {
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

// --- finding 5: values that are not references are not echoed ---------------

const (
	plainSecret = "hunter2-plaintext"
	urlToken    = "ghp_plantedRepoToken77"
)

// noEcho fails if s holds a planted value that is not a reference.
func noEcho(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{plainSecret, "hunter2", urlToken, "oauth2:"} {
		if strings.Contains(s, v) {
			t.Errorf("%s echoes %q:\n%s", what, v, s)
		}
	}
}

// TestTrustNonReferencesAreNotEchoed: a value where a reference belongs
// that is not one (a plain password, a URL with a token in it) is never
// printed by resolve, run, validate or doctor, whether it comes from a
// dotenv file, a YAML mapping, a doco-cd file or an argument: the message
// names the variable and says why. A doco-cd file without
// external_secrets holds no references.
func TestTrustNonReferencesAreNotEchoed(t *testing.T) {
	f := newFixture(t)
	repo := "https://oauth2:" + urlToken + "@github.com/acme/app.git"
	files := map[string]string{
		"refs.env":     "DB_PASSWORD=" + plainSecret + "\nREPO=" + repo + "\nAPI=file://api_key\n",
		"refs.yml":     "DB_PASSWORD: " + plainSecret + "\nREPO: " + repo + "\nAPI: file://api_key\n",
		"anchor.yml":   "DB_PASSWORD: *" + plainSecret + "\n",
		"noeq.env":     plainSecret + "\n",
		"badname.env":  "hunter2/plaintext==\n",
		".doco-cd.yml": "name: app\nrepository_url: " + repo + "\nreference: main\n",
		"deploy.yml":   "name: app\nrepository_url: " + repo + "\ncompose_files:\n  - compose.yml\n",
		"secrets.yml":  "name: app\nrepository_url: " + repo + "\nexternal_secrets:\n  DB_PASSWORD: " + plainSecret + "\n  API: file://api_key\n",
		"urlkey.yml":   "\"" + repo + "\": op://Demo/Postgres/password\n",
		"nullkey.yml":  "API: file://api_key\n" + plainSecret + ":\n",
		"dupkey.yml":   "\"" + plainSecret + " x\": file://api_key\n\"" + plainSecret + " x\": file://api_key\n",
	}
	for name, content := range files {
		writeTemp(t, f.dir, name, content)
	}
	type check struct {
		args   []string
		code   int
		expect []string // in stdout+stderr
	}
	var checks []check
	for _, file := range []string{"refs.env", "refs.yml", "secrets.yml"} {
		line := map[string]string{"refs.env": ":1", "refs.yml": ":1", "secrets.yml": ":4"}[file]
		notRef := "DB_PASSWORD (" + file + line + "): not a secret reference"
		checks = append(checks,
			check{[]string{"resolve", "--from", file}, 1, []string{notRef}},
			check{[]string{"resolve", "--format", "json", "--from", file}, 1, []string{notRef}},
			check{[]string{"run", "--from", file, "--", "true"}, 1, []string{notRef, "the command was not started"}},
			check{[]string{"validate", "--from", file}, 1, []string{"invalid  " + notRef, "ok  file://api_key (API)"}},
			check{[]string{"doctor", "--from", file}, 1, []string{"DB_PASSWORD (" + file + line + "): invalid_reference: not a secret reference", "API (file://api_key): resolves"}},
			check{[]string{"doctor", "--format", "json", "--from", file}, 1, []string{`"name": "DB_PASSWORD"`}},
		)
		if file != "secrets.yml" {
			checks = append(checks, check{[]string{"validate", "--from", file}, 1, []string{"REPO (" + file + ":2): not a reference of a configured scheme"}})
		}
	}
	checks = append(checks,
		check{[]string{"resolve", "DB_PASSWORD=" + plainSecret, "REPO=" + repo}, 1,
			[]string{"DB_PASSWORD (argument 1): not a secret reference", "REPO (argument 2): not a reference of a configured scheme"}},
		check{[]string{"resolve", "--format", "json", plainSecret, repo}, 1, []string{"argument 1: not a secret reference", "argument 2: not a reference"}},
		check{[]string{"resolve", repo}, 2, []string{"argument 1: a bare reference has no variable name"}},
		check{[]string{"validate", plainSecret, repo, "DB=" + plainSecret}, 1, []string{"invalid  argument 1: not a secret reference", "invalid  argument 2:", "invalid  DB (argument 3)"}},
		check{[]string{"doctor", plainSecret}, 1, []string{"argument 1: invalid_reference: not a secret reference"}},
		check{[]string{"resolve", "--from", "anchor.yml"}, 2, []string{"anchor.yml: unknown anchor (…) referenced"}},
		check{[]string{"resolve", "--from", "noeq.env"}, 2, []string{"noeq.env:1: expected NAME=VALUE"}},
		check{[]string{"run", "--env-file", "badname.env", "--", "true"}, 2, []string{"badname.env:1: invalid variable name"}},
		check{[]string{"validate", "--from", ".doco-cd.yml"}, 2, []string{".doco-cd.yml holds none (a doco-cd deploy configuration without external_secrets"}},
		check{[]string{"resolve", "--from", "deploy.yml"}, 2, []string{"deploy.yml holds none"}},
		check{[]string{"run", "--from", ".doco-cd.yml", "--", "true"}, 0, nil},
		// Values written where names belong.
		check{[]string{"resolve", "--from", "urlkey.yml"}, 2, []string{"urlkey.yml:1: the name looks like a reference (not shown)"}},
		check{[]string{"resolve", "--format", "shell", "--from", "urlkey.yml"}, 2, []string{"urlkey.yml:1: the name"}},
		check{[]string{"run", "--from", "urlkey.yml", "--", "true"}, 2, []string{"urlkey.yml:1: the key is not a valid variable name"}},
		check{[]string{"validate", "--from", "nullkey.yml"}, 2, []string{"nullkey.yml:2: the key (not a variable name; not shown): expected a secret reference string"}},
		check{[]string{"validate", "--from", "dupkey.yml"}, 2, []string{"dupkey.yml:2: the key (not a variable name; not shown) is already defined at dupkey.yml:1"}},
	)
	for _, c := range checks {
		r := f.run(t, "", nil, append([]string{"--config", "mixed.hcl"}, c.args...)...)
		what := strings.Join(c.args, " ")
		if r.code != c.code {
			t.Errorf("%s: exit code %d, want %d\n%s%s", what, r.code, c.code, r.stdout, r.stderr)
		}
		noEcho(t, what, r.stdout+r.stderr)
		for _, e := range c.expect {
			if !strings.Contains(r.stdout+r.stderr, e) {
				t.Errorf("%s: output lacks %q:\n%s%s", what, e, r.stdout, r.stderr)
			}
		}
	}
}

// --- finding 10: malformed placeholders ----------------------------------------

// TestTrustInjectMalformedPlaceholders: a placeholder of a configured
// scheme that is not closed, closed by a single brace, or holds a
// malformed reference fails inject, naming line and column, and nothing is
// written: stdout stays empty, an existing -o file keeps its content.
// Malformed text of other schemes, and other {{ }} text, stays literal.
func TestTrustInjectMalformedPlaceholders(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		tmpl, where, why string
	}{
		{"a={{ op://Demo/Postgres/password\n", "line 1, column 3", "not closed"},
		{"ok={{ op://Demo/Postgres/username }}\n\tpw={{ op://Demo/Postgres/password }\n", "line 2, column 5", "single '}'"},
		{"x: {{op:/Demo/Postgres/password}}\n", "line 1, column 4", "malformed reference: expected op://"},
		{"é {{ FILE:api_key }}\n", "line 1, column 3", "malformed reference: expected file://"},
		{"{{ op://Demo/Postgres/password } and {{ op://Demo/Postgres/username }}\n", "line 1, column 1", "unbalanced braces"},
	} {
		target := writeTemp(t, t.TempDir(), "app.conf", "old content\n")
		tmpl := writeTemp(t, t.TempDir(), "app.tmpl", c.tmpl)
		for _, args := range [][]string{{"inject", "-i", tmpl, "-o", target}, {"inject"}} {
			r := f.run(t, c.tmpl, nil, append([]string{"--config", "mixed.hcl"}, args...)...)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, c.where+": ") || !strings.Contains(r.stderr, c.why) {
				t.Errorf("%q %v: exit %d, stdout %q, stderr:\n%s", c.tmpl, args, r.code, r.stdout, r.stderr)
			}
			noLeak(t, "stderr", r.stderr)
		}
		if got := mustRead(t, target); got != "old content\n" {
			t.Errorf("%q: the target was written: %q", c.tmpl, got)
		}
	}
	// Not ours: left alone.
	src := "{{ .Values.x }} {{ vault:secret/x }} {{ https://example.com } {{ op://Demo/Postgres/username }}\n"
	r := f.run(t, src, nil, "--config", "mixed.hcl", "inject")
	r.expect(t, 0)
	if want := "{{ .Values.x }} {{ vault:secret/x }} {{ https://example.com } app_user\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

// --- finding 9: inject -o and what is at the path -------------------------------

func fileInfo(t *testing.T, path string) (ino uint64, uid, gid uint32, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Ino, st.Uid, st.Gid, fi.Mode()
}

func noTempFiles(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".secrethost-") {
				t.Errorf("temporary file left: %s", filepath.Join(d, e.Name()))
			}
		}
	}
}

// TestTrustInjectOutputTargets: inject -o writes through a symbolic link
// (atomically, in the target's directory; the link stays), keeps an
// existing file's owner, group and mode unless --file-mode is given, and
// refuses devices, FIFOs, /dev/stdout and dangling links.
func TestTrustInjectOutputTargets(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown files to nobody")
	}
	f := newFixture(t)
	tmpl := writeTemp(t, f.dir, "app.tmpl", "pw={{ op://Demo/Postgres/password }}\n")
	const want = "pw=pg-s3cret-9f2c\n"
	inject := func(out string, extra ...string) result {
		return f.run(t, "", nil, append([]string{"--config", "op.hcl", "inject", "-i", tmpl, "-o", out}, extra...)...)
	}

	// An existing file owned by nobody:nogroup, mode 0640.
	dirA, dirB := t.TempDir(), t.TempDir()
	real := writeTemp(t, dirA, "real.env", "old\n")
	if err := os.Chown(real, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	ino0, _, _, _ := fileInfo(t, real)
	r := inject(real)
	r.expect(t, 0)
	ino1, uid, gid, mode := fileInfo(t, real)
	if mustRead(t, real) != want || uid != 65534 || gid != 65534 || mode.Perm() != 0o640 {
		t.Errorf("existing file: content %q, owner %d:%d, mode %v; want nobody:nogroup 0640", mustRead(t, real), uid, gid, mode)
	}
	if ino1 == ino0 {
		t.Error("the file was written in place, not replaced atomically")
	}
	// --file-mode sets the mode; the owner stays.
	r = inject(real, "--file-mode", "0600")
	r.expect(t, 0)
	if _, uid, gid, mode := fileInfo(t, real); uid != 65534 || gid != 65534 || mode.Perm() != 0o600 {
		t.Errorf("--file-mode 0600: owner %d:%d, mode %v", uid, gid, mode)
	}
	os.Chmod(real, 0o640)

	// A symbolic link in another directory: the target is replaced, the
	// link stays.
	link := filepath.Join(dirB, "app.env")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(real, []byte("old\n"), 0o640)
	ino0, _, _, _ = fileInfo(t, real)
	r = inject(link)
	r.expect(t, 0)
	if _, _, _, m := fileInfo(t, link); m&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced by a file (mode %v)", m)
	}
	ino1, uid, gid, mode = fileInfo(t, real)
	if mustRead(t, real) != want || ino1 == ino0 || uid != 65534 || mode.Perm() != 0o640 {
		t.Errorf("through the link: content %q, replaced %v, owner %d, mode %v", mustRead(t, real), ino1 != ino0, uid, mode)
	}
	noTempFiles(t, dirA, dirB)

	// What is not a regular file is refused and stays what it was. (Not
	// the real /dev/null and /dev/stdout: the code this test was written
	// against replaced them. Stand-ins in a temporary directory: a null
	// device node, and a link to /proc/self/fd/1 as /dev/stdout is.)
	null := filepath.Join(dirB, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	stdout := filepath.Join(dirB, "stdout")
	os.Symlink("/proc/self/fd/1", stdout)
	fifo := filepath.Join(dirB, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dirB, "dangling")
	os.Symlink(filepath.Join(dirA, "nowhere"), dangling)
	for _, c := range []struct{ out, why string }{
		{null, "it is a device"},
		{stdout, "open file descriptor"},
		{fifo, "it is a FIFO"},
		{dangling, "symbolic link that does not lead to a file"},
		{dirA, "it is a directory"},
	} {
		r := inject(c.out)
		if r.code != 1 || !strings.Contains(r.stderr, c.why) || r.stdout != "" {
			t.Errorf("-o %s: exit %d, stdout %q, stderr:\n%s", c.out, r.code, r.stdout, r.stderr)
		}
		noLeak(t, "stderr", r.stderr)
	}
	if _, _, _, m := fileInfo(t, null); m&os.ModeCharDevice == 0 {
		t.Errorf("the device was replaced: %v", m)
	}
	if _, _, _, m := fileInfo(t, stdout); m&os.ModeSymlink == 0 {
		t.Errorf("the link to /proc/self/fd/1 was replaced: %v", m)
	}
	if _, _, _, m := fileInfo(t, fifo); m&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", m)
	}
	if _, err := os.Lstat(filepath.Join(dirA, "nowhere")); err == nil {
		t.Error("the dangling link's target was created")
	}
	noTempFiles(t, dirA, dirB)
}

// TestTrustInjectBindMountedFile: a single file bind-mounted over OUT
// cannot be renamed over (EBUSY); inject says so and what to do, and the
// file keeps its content. Needs root and mount namespaces (unshare -m).
func TestTrustInjectBindMountedFile(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root for mount --bind")
	}
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skip("no mount namespaces here:", err)
	}
	f := newFixture(t)
	tmpl := writeTemp(t, f.dir, "app.tmpl", "pw={{ op://Demo/Postgres/password }}\n")
	src := writeTemp(t, t.TempDir(), "src.env", "mounted\n")
	dst := writeTemp(t, t.TempDir(), "app.env", "underneath\n")
	script := `mount --bind "$1" "$2" || exit 99; "$3" --config op.hcl inject -i "$4" -o "$2"; code=$?; cat "$2"; exit $code`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", src, dst, f.bin, tmpl)
	cmd.Dir = f.dir
	cmd.Env = f.environ(nil)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := runCode(t, cmd)
	if code == 99 {
		t.Skip("mount --bind failed:", stderr.String())
	}
	if code != 1 || !strings.Contains(stderr.String(), "EBUSY") || !strings.Contains(stderr.String(), "bind-mounted") ||
		!strings.Contains(stderr.String(), "mount the directory") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != "mounted\n" {
		t.Errorf("the mounted file now holds %q", stdout.String())
	}
	noTempFiles(t, filepath.Dir(dst))
}

// TestTrustRunSignalWhileBackgroundWriterHoldsPipe: once the command has
// exited and only a background process holds the pipes, a terminating
// signal stops the forwarding at once and run exits 128+N.
func TestTrustRunSignalWhileBackgroundWriterHoldsPipe(t *testing.T) {
	f := newFixture(t)
	cmd := f.command(t, []string{"DB=op://Demo/Postgres/password"}, "--config", "op.hcl", "run", "--",
		"sh", "-c", `(sleep 10; echo late) & echo ready`)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "ready\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no output: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the command has exited by now
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitCode(t, cmd); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d; output:\n%s", code, 128+int(syscall.SIGTERM), out.String())
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("run took %v to stop after SIGTERM", d)
	}
}

// TestTrustDoctorScrubsPluginMessages: a careless plugin that quotes its
// token (inline, or read from its token file) in a configuration error
// does not get it into doctor's report.
func TestTrustDoctorScrubsPluginMessages(t *testing.T) {
	h := newHygiene(t)
	tokFile := writeTemp(t, h.dir, "leak_token", hygTestToken+"\n")
	for name, setting := range map[string]string{
		"inline":     fmt.Sprintf("TEST_TOKEN = %q", hygTestToken),
		"token-file": fmt.Sprintf("TEST_TOKEN_FILE = %q", tokFile),
	} {
		h.writeConfig("leak.hcl", "plugin_dir = %q\nprovider \"test\" {\n  config = { %s, leak = \"1\" }\n}\n", h.pluginDir, setting)
		for _, format := range []string{"text", "json"} {
			r := h.exec(t, h.environ(nil), "", h.bin, "--config", "leak.hcl", "doctor", "--format", format)
			if r.code != 1 || !strings.Contains(r.stdout, "redacted") {
				t.Errorf("%s, %s: exit %d, stdout:\n%s", name, format, r.code, r.stdout)
			}
			hygNoLeak(t, name+" "+format+" doctor", r.stdout+r.stderr)
		}
	}
}

// TestTrustOutputWriteErrorsFail: validate, doctor, plugins and version
// exit 1 and say so when their output cannot be written, instead of
// reporting success.
func TestTrustOutputWriteErrorsFail(t *testing.T) {
	f := newFixture(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	for _, args := range [][]string{
		{"validate", "op://Demo/Postgres/password"},
		{"doctor"},
		{"doctor", "--format", "json"},
		{"plugins"},
		{"version"},
		{"resolve", "DB=op://Demo/Postgres/password"},
	} {
		cmd := f.command(t, nil, append([]string{"--config", "op.hcl"}, args...)...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = full, &stderr
		if code := runCode(t, cmd); code != 1 || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("%v > /dev/full: exit %d, stderr:\n%s", args, code, stderr.String())
		}
	}
}
