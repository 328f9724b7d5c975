package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

var runCommand = &command{
	name:    "run",
	summary: "run a command with secret references in its environment resolved",
	usage: `
Usage: secrethost run [--from FILE] [--env-file FILE]... [--no-masking] [--keep-provider-env] -- COMMAND [ARGS...]

Runs COMMAND with an environment in which every variable whose value is a
secret reference (a scheme some configured provider handles, e.g.
DB_PASSWORD=op://prod/db/password) holds the secret instead. The environment
is secrethost's own, then each --env-file (dotenv) on top, then --from on top;
every --from entry must be a reference.

All references are resolved first, then every plugin is stopped, then the
command starts: no plugin runs alongside it. If any reference fails, the
command is not started (exit 1).

The providers' own credentials are not passed on: unless --keep-provider-env
is given, every inherited variable that a configured provider declares
sensitive (SECRET_PROVIDER_CONNECT_TOKEN, OP_SERVICE_ACCOUNT_TOKEN, ...), and
every inherited variable holding the very value a provider was configured
with for such a setting, is removed from the command's environment; so is a
proxy setting with credentials (HTTPS_PROXY=http://user:password@proxy:3128,
any variable holding it or its password) when a configured provider uses the
network, since that provider is given it.
Variables from --env-file and --from are kept. To learn what is sensitive,
the providers' plugins are started even when there is no reference.

Unless --no-masking is given, every secret value in the command's stdout and
stderr is replaced by "<concealed by secrethost>" (also when it is written in
pieces); the command then sees pipes, not a terminal. stdin is passed through.
Each line of a multi-line secret is masked on its own too, since output is
often printed line by line with a prefix (docker compose up). The providers'
own credentials (tokens, and the content of token files) are masked as well,
unless --keep-provider-env is given.
A value, or line, shorter than 6 bytes is not masked (a port number or a
one-letter value would garble the output); run warns once on stderr for each
such resolved variable, by name. Masking only catches the exact bytes: a
secret the command prints encoded (base64, URL or JSON escapes, hex),
reversed, split across lines or interleaved with other output, or writes
anywhere else than its stdout and stderr, is not concealed.
Output is forwarded until the last process holding the pipes (the command, or
a background process it left behind) has closed them. If secrethost cannot
write it (a full disk, say), it says so and exits 1 unless the command failed.

SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the
command. secrethost exits with the command's exit code, or 128+N if it was
killed by signal N; 126/127 if it cannot be executed or found.
`,
	ownSignals: true,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		var o runOptions
		fs.StringVar(&o.from, "from", "", "read NAME → reference pairs from `file` (.doco-cd.yml, YAML mapping or dotenv)")
		fs.Func("env-file", "add variables from a dotenv `file` (repeatable; later files win)", func(s string) error {
			o.envFiles = append(o.envFiles, s)
			return nil
		})
		fs.BoolVar(&o.noMasking, "no-masking", false, "do not conceal secret values in the command's output")
		fs.BoolVar(&o.keepProviderEnv, "keep-provider-env", false, "pass the providers' credentials (e.g. SECRET_PROVIDER_CONNECT_TOKEN) on to the command")
		return func(ctx context.Context, args []string) int {
			return a.run(ctx, o, args)
		}
	},
}

type runOptions struct {
	from            string
	envFiles        []string
	noMasking       bool
	keepProviderEnv bool
}

// forwardedSignals reach the child once it runs; before that, the
// terminating ones abort secrethost.
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

func (a *app) run(ctx context.Context, o runOptions, args []string) int {
	const cmd = "run"
	if len(args) == 0 {
		return a.fail(cmd, usagef("no command given: secrethost run [flags] -- COMMAND [ARGS...]"))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fw := &forwarder{cancel: cancel}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	go func() {
		for s := range sigs {
			fw.handle(s)
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()

	env, refs, err := a.runEnv(o)
	if err != nil {
		return a.fail(cmd, err)
	}
	var secrets [][]byte
	if len(refs) > 0 || !o.keepProviderEnv {
		values, bad, strip, creds, err := a.resolveRunRefs(ctx, refs, !o.keepProviderEnv)
		if err != nil || len(bad) > 0 {
			if code, ok := fw.caughtCode(); ok {
				fmt.Fprintf(a.Stderr, "secrethost run: interrupted; the command was not started\n")
				return code
			}
			return a.failResolve(cmd, len(bad)+max(len(values), failedCount(err)), bad, err, "the command was not started")
		}
		names := slices.Sorted(maps.Keys(values))
		for _, name := range names {
			if strings.IndexByte(values[name], 0) >= 0 {
				return a.fail(cmd, fmt.Errorf("the value of %s contains a NUL byte, which no environment variable can hold; the command was not started", name))
			}
		}
		for _, name := range names {
			v := values[name]
			env.set(name, v, "secret")
			targets, short := maskTargets(v)
			secrets = append(secrets, targets...)
			if short && !o.noMasking {
				fmt.Fprintf(a.Stderr, "secrethost run: warning: the value of %s is shorter than %d bytes and is not masked in the command's output\n", name, minMaskLen)
			}
		}
		for _, c := range creds {
			targets, _ := maskTargets(c) // provider credentials: masked, never named
			secrets = append(secrets, targets...)
		}
		var removed []string
		for _, name := range strip {
			// Only what secrethost inherited: a variable the user set on
			// purpose (--env-file, --from) or a resolved secret stays.
			if env.from[name] == "environment" {
				env.unset(name)
				removed = append(removed, name)
			}
		}
		if len(removed) > 0 {
			a.log.Debug("provider credentials removed from the command's environment (--keep-provider-env keeps them)", "variables", strings.Join(removed, ","))
		}
	}
	if code, ok := fw.caughtCode(); ok {
		fmt.Fprintf(a.Stderr, "secrethost run: interrupted; the command was not started\n")
		return code
	}

	child := exec.Command(args[0], args[1:]...)
	child.Env = env.list()
	child.Stdin = a.Stdin
	var streams []*maskedStream
	if o.noMasking || len(secrets) == 0 {
		child.Stdout, child.Stderr = a.Stdout, a.Stderr
	} else {
		for i, dst := range []io.Writer{a.Stdout, a.Stderr} {
			s, err := newMaskedStream(dst, secrets, []string{"standard output", "standard error"}[i])
			if err != nil {
				return a.fail(cmd, err)
			}
			defer func() { s.closeWrite(); s.closeRead() }()
			streams = append(streams, s)
		}
		child.Stdout, child.Stderr = streams[0].w, streams[1].w
	}

	if err := child.Start(); err != nil {
		return a.startFailure(args[0], err)
	}
	for _, s := range streams {
		s.closeWrite() // the child holds its own copies
		s.start()
	}
	fw.attach(child.Process)

	waitErr := child.Wait()
	stop := fw.exited()
	for _, s := range streams {
		s.finish(stop)
	}
	code := exitCode(child.ProcessState, waitErr, a.Stderr)
	if sig, ok := fw.lateSignal(); ok && code == 0 {
		code = 128 + int(sig)
	}
	for _, s := range streams {
		if s.err == nil {
			continue
		}
		fmt.Fprintf(a.Stderr, "secrethost run: cannot write the command's %s: %v; the rest of it was discarded\n", s.name, s.err)
		if code == 0 {
			code = exitFailure
		}
	}
	return code
}

// exitCode is the child's exit code, or 128+N for death by signal N.
func exitCode(ps *os.ProcessState, err error, stderr io.Writer) int {
	if ps == nil {
		fmt.Fprintf(stderr, "secrethost run: %v\n", err)
		return exitFailure
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func (a *app) startFailure(name string, err error) int {
	fmt.Fprintf(a.Stderr, "secrethost run: cannot run %s: %v\n", name, err)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}

// resolveRunRefs keeps the candidates whose scheme a provider handles (all
// of --from), resolves them, and stops every plugin before returning. With
// sensitive, it also names the variables of secrethost's environment that
// hold provider credentials (see host.SensitiveEnv).
//
// A --from entry that is not a reference of a configured scheme comes back
// in bad (and is not sent anywhere); any other variable that is not one is
// simply no reference.
func (a *app) resolveRunRefs(ctx context.Context, candidates []runRef, sensitive bool) (values map[string]string, bad []refProblem, strip, creds []string, err error) {
	h, err := a.openHost()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	defer h.Close()
	refs := map[string]string{}
	if len(candidates) > 0 {
		schemes, err := h.Schemes(ctx)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		for _, c := range candidates {
			why := notARef(strings.TrimSpace(c.Value), schemes)
			switch {
			case why == "":
				refs[c.Name] = strings.TrimSpace(c.Value)
			case c.forced:
				bad = append(bad, refProblem{refVar: c.refVar, reason: why})
			}
		}
	}
	if len(refs) > 0 {
		a.log.Debug("resolving references from the environment", "count", len(refs))
		if values, err = h.ResolveSecretReferences(ctx, refs); err != nil || len(bad) > 0 {
			return values, bad, nil, nil, err // values only count then
		}
	}
	if len(bad) > 0 {
		return values, bad, nil, nil, nil
	}
	if sensitive {
		// After resolution, so that the providers that ran are not
		// started again.
		if strip, err = h.SensitiveEnv(ctx, a.Environ()); err == nil {
			creds, err = h.SensitiveValues(ctx)
		}
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("cannot tell which variables hold provider credentials: %w\nthe command was not started (--keep-provider-env skips this check)", err)
		}
	}
	return values, nil, strip, creds, nil
}

// failedCount is the number of references a resolution error covers.
func failedCount(err error) int {
	if re, ok := asResolveError(err); ok {
		return re.Total
	}
	return 0
}
