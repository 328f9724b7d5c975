package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runInProcess runs the command line in this process (so the race
// detector sees the CLI's own goroutines: maskers, signal routing).
func (f *fixture) runInProcess(t *testing.T, stdin string, extraEnv []string, args ...string) result {
	t.Helper()
	env := f.environ(extraEnv)
	lookup := func(k string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if name, v, _ := strings.Cut(env[i], "="); name == k {
				return v, true
			}
		}
		return "", false
	}
	var stdout, stderr bytes.Buffer
	code := runArgs(context.Background(), args, stdStreams{
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		LookupEnv: lookup, Environ: func() []string { return env },
	})
	return result{stdout.String(), stderr.String(), code}
}

func TestInProcessCommands(t *testing.T) {
	f := newFixture(t)
	op := filepath.Join(f.dir, "op.hcl")
	mixed := filepath.Join(f.dir, "mixed.hcl")

	r := f.runInProcess(t, "", nil, "resolve", "--config", op, "--format", "json", "A=op://Demo/Postgres/password", "B=op://Demo/Postgres/username")
	r.expect(t, 0)
	if r.stdout != "{\n  \"A\": \"pg-s3cret-9f2c\",\n  \"B\": \"app_user\"\n}\n" {
		t.Errorf("resolve: %q", r.stdout)
	}

	// run: the child's output goes through maskers into buffers.
	r = f.runInProcess(t, "", []string{childEnv + "=dribble", "SECRET=op://Demo/Postgres/password", "API=file://api_key"},
		"--config", mixed, "run", "--", os.Args[0])
	r.expect(t, 0)
	if r.stdout != "value: "+concealed+" end\n" || r.stderr != concealed+"\n" {
		t.Errorf("run: stdout %q stderr %q", r.stdout, r.stderr)
	}

	r = f.runInProcess(t, "x={{ op://Demo/Postgres/username }}", nil, "--config", op, "inject")
	r.expect(t, 0)
	if r.stdout != "x=app_user" {
		t.Errorf("inject: %q", r.stdout)
	}

	r = f.runInProcess(t, "", nil, "--config", op, "validate", "op://Demo/Postgres/password", "op://")
	r.expect(t, 1)

	r = f.runInProcess(t, "", nil, "--config", mixed, "doctor", "--format", "json")
	r.expect(t, 0)

	r = f.runInProcess(t, "", nil, "--config", mixed, "plugins")
	r.expect(t, 0)

	r = f.runInProcess(t, "", nil, "resolve", "--nope")
	r.expect(t, 2)
}
