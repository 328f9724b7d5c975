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
	"regexp"
	"slices"
	"strings"
	"sync"
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
with for such a setting, is removed from the command's environment.
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

// forwarder routes signals: before the child runs, a terminating signal
// cancels secrethost; while it runs, every signal goes to the child; once
// it has exited (while its output is still forwarded for background
// processes that hold the pipes), a terminating signal stops forwarding.
type forwarder struct {
	mu     sync.Mutex
	proc   *os.Process
	cancel context.CancelFunc
	caught syscall.Signal
	// done is closed by a terminating signal after the child exited.
	done     chan struct{}
	gone     bool
	late     syscall.Signal
	doneOnce sync.Once
}

func isTerminating(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
		return true
	}
	return false
}

func (f *forwarder) handle(s os.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sig, ok := s.(syscall.Signal)
	if f.gone {
		if ok && isTerminating(sig) {
			if f.late == 0 {
				f.late = sig
			}
			f.doneOnce.Do(func() { close(f.done) })
		}
		return
	}
	if f.proc != nil {
		_ = f.proc.Signal(s)
		return
	}
	if !ok {
		return
	}
	if isTerminating(sig) {
		if f.caught == 0 {
			f.caught = sig
		}
		f.cancel()
	}
	// SIGUSR1/2 before the child exists have no one to go to.
}

// exited records that the child has exited and returns the channel a
// later terminating signal closes.
func (f *forwarder) exited() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = true
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

func (f *forwarder) lateSignal() (syscall.Signal, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.late, f.late != 0
}

// attach starts forwarding to p; a terminating signal that arrived during
// Start is passed on at once.
func (f *forwarder) attach(p *os.Process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.proc = p
	if f.caught != 0 {
		_ = p.Signal(f.caught)
	}
}

func (f *forwarder) caughtCode() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 128 + int(f.caught), f.caught != 0
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

// envList is an ordered environment.
type envList struct {
	names []string
	vals  map[string]string
	from  map[string]string // where each value came from
}

func newEnvList() *envList {
	return &envList{vals: map[string]string{}, from: map[string]string{}}
}

func (e *envList) set(name, value, from string) {
	if _, ok := e.vals[name]; !ok {
		e.names = append(e.names, name)
	}
	e.vals[name] = value
	e.from[name] = from
}

func (e *envList) unset(name string) {
	if _, ok := e.vals[name]; !ok {
		return
	}
	e.names = slices.DeleteFunc(e.names, func(n string) bool { return n == name })
	delete(e.vals, name)
	delete(e.from, name)
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.vals[n])
	}
	return out
}

// refLike matches values that might be references; only schemes of
// configured providers count in the end.
var refLike = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// runEnv builds the child's environment before resolution and lists the
// candidate references: every --from entry, and every other variable that
// looks like scheme://... (checked against the configured schemes later).
func (a *app) runEnv(o runOptions) (*envList, []runRef, error) {
	env := newEnvList()
	for _, kv := range a.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		env.set(name, value, "environment")
	}
	for _, f := range o.envFiles {
		vars, err := readDotenvFile(f)
		if err != nil {
			return nil, nil, usagef("--env-file: %v", err)
		}
		for _, v := range vars {
			env.set(v.Name, v.Value, v.Where)
		}
	}
	var fromFile []refVar
	if o.from != "" {
		var err error
		if fromFile, err = readRefsFile(o.from); err != nil {
			return nil, nil, usagef("--from: %v", err)
		}
		for _, v := range fromFile {
			if !dotenvKeyPattern.MatchString(v.Name) {
				return nil, nil, usagef("--from: %s: the key is not a valid variable name (not shown): use letters, digits, '_', '.' and '-', not starting with a digit", v.Where)
			}
			env.set(v.Name, v.Value, v.Where)
		}
	}
	forced := map[string]bool{}
	for _, v := range fromFile {
		forced[v.Name] = true
	}
	var refs []runRef
	for _, n := range env.names {
		if forced[n] || refLike.MatchString(strings.TrimSpace(env.vals[n])) {
			refs = append(refs, runRef{refVar: refVar{Name: n, Value: env.vals[n], Where: env.from[n]}, forced: forced[n]})
		}
	}
	return env, refs, nil
}

// runRef is a variable that may hold a reference; forced ones (from --from)
// are resolved whatever their scheme, so a typo fails instead of passing
// through.
type runRef struct {
	refVar
	forced bool
}

func readDotenvFile(path string) ([]refVar, error) {
	data, err := readFileLimited(path, maxInputFile)
	if err != nil {
		return nil, err
	}
	return parseDotenv(data, path)
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

// maskedStream carries one of the child's output streams through a
// masker: the child writes to w, a goroutine copies r through the masker.
type maskedStream struct {
	r, w    *os.File
	m       *masker
	name    string // "standard output", for messages
	done    chan struct{}
	closeW  sync.Once
	closeR  sync.Once
	started bool
	// err is the first error writing to the destination; set before done
	// is closed.
	err error
}

func newMaskedStream(dst io.Writer, secrets [][]byte, name string) (*maskedStream, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &maskedStream{r: r, w: w, m: newMasker(dst, secrets), name: name, done: make(chan struct{})}, nil
}

func (s *maskedStream) closeWrite() { s.closeW.Do(func() { s.w.Close() }) }
func (s *maskedStream) closeRead()  { s.closeR.Do(func() { s.r.Close() }) }

// start copies until EOF, that is until the last process holding the
// pipe's write end (the child, or a background process it left behind)
// has closed it, as a shell pipeline does. If the destination fails, the
// rest is still read (and dropped), so that no writer blocks on a full
// pipe, and the error is kept for run to report.
func (s *maskedStream) start() {
	s.started = true
	go func() {
		defer close(s.done)
		_, _ = io.Copy(s.m, s.r)
		// A failed destination stops the copy (the masker keeps failing);
		// a read error means the pipe was closed on purpose.
		if err := s.m.Close(); err != nil {
			s.err = err
			_, _ = io.Copy(io.Discard, s.r)
		}
	}()
}

// finish waits for EOF, or until stop is closed (a terminating signal
// after the child exited), flushes the masker and releases the pipe.
func (s *maskedStream) finish(stop <-chan struct{}) {
	defer s.closeRead()
	if !s.started {
		return
	}
	select {
	case <-s.done:
	case <-stop:
		s.closeRead()
		<-s.done
	}
}
