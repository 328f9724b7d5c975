// Package cli is the secrethost command line: resolve, run, inject,
// validate, doctor, plugins and version, on top of package host.
//
// Exit codes, for every command:
//
//	0  success
//	1  something was attempted and failed: a reference did not resolve or
//	   is invalid, a plugin did not start, doctor found a problem
//	2  usage or configuration error: nothing was attempted
//
// run exits with its child's code instead, once the child has started
// (128+N when the child was killed by signal N).
//
// Secret values are written to stdout (resolve, inject) or handed to a
// child's environment (run), and nowhere else: not to logs, not to error
// messages, not to argv.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// envLogLevel sets the log level when --log-level is not given.
const envLogLevel = "SECRETHOST_LOG_LEVEL"

// defaultLogLevel keeps stderr quiet unless something is wrong: plugin
// start-up chatter is debug output.
const defaultLogLevel = "warn"

// stdStreams is what a command may touch of its process: standard streams and the
// environment. Tests substitute their own.
type stdStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// LookupEnv and Environ read the environment (os.LookupEnv and
	// os.Environ by default).
	LookupEnv func(string) (string, bool)
	Environ   func() []string
}

// Main runs the command line in args (without the program name) against the
// process's real streams and environment and returns the exit code.
func Main(args []string) int {
	return runArgs(context.Background(), args, stdStreams{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, Environ: os.Environ,
	})
}

// runArgs runs one command line and returns the exit code.
func runArgs(ctx context.Context, args []string, stdio stdStreams) int {
	if stdio.LookupEnv == nil {
		stdio.LookupEnv = os.LookupEnv
	}
	if stdio.Environ == nil {
		stdio.Environ = os.Environ
	}
	if stdio.Stdin == nil {
		stdio.Stdin = strings.NewReader("")
	}
	a := &app{stdStreams: stdio}
	return a.main(ctx, args)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	// usage is the synopsis and description printed by --help, before the
	// flags.
	usage string
	// setup defines the command's own flags and returns the function that
	// runs it with the remaining arguments. interspersed says whether flags
	// may follow positional arguments (not for run, whose positional
	// arguments are a command line of their own).
	setup        func(a *app, fs *flag.FlagSet) func(ctx context.Context, args []string) int
	interspersed bool
	// ownSignals: the command handles signals itself (run forwards them);
	// for the others, SIGINT, SIGTERM and SIGHUP cancel the context.
	ownSignals bool
}

var commands []*command

func init() {
	commands = []*command{
		resolveCommand, runCommand, injectCommand, validateCommand,
		doctorCommand, pluginsCommand, versionCommand,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

const mainUsage = `Usage: secrethost [--config FILE] [--log-level LEVEL] COMMAND [ARGS...]

secrethost resolves secret references (op://vault/item/field, file://name, ...)
through provider plugins: each reference goes to the provider that declared its
scheme.

Commands:
%s
Global flags (before or after the command name):
  --config FILE       configuration file (default: $SECRETHOST_CONFIG, else
                      the built-in doco-cd default that reads SECRET_PROVIDER
                      and SECRET_PROVIDER_CONNECT_*; ./config.hcl is never
                      read). A file writable by group or others, or owned by
                      another user than root or you, is refused
  --plugin-dir DIR    directory of the plugin binaries (default: plugin_dir
                      in the configuration, else $SECRETHOST_PLUGIN_DIR, else
                      "plugins" next to the secrethost executable); the trust
                      rules apply to it as to any plugin directory
  --log-level LEVEL   trace, debug, info, warn, error or off (default:
                      $SECRETHOST_LOG_LEVEL, else log_level in the
                      configuration, else warn); logs go to stderr

Exit codes: 0 success; 1 a reference, plugin or check failed; 2 usage or
configuration error. run exits with its command's code.

Run 'secrethost COMMAND --help' for a command's flags.
`

func (a *app) printMainUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainUsage, b.String())
}

// app holds one invocation's state.
type app struct {
	stdStreams
	configPath string
	logLevel   string
	pluginDir  string // --plugin-dir
	log        hclog.Logger
	cfg        *config.Config
	// caught is the signal that cancelled the command, if any.
	caught atomic.Value
}

// usageError is a mistake on the command line: exit 2 with a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// configError is a configuration that cannot be used: exit 2.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

func (a *app) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.configPath, "config", a.configPath, "configuration `file`")
	fs.StringVar(&a.logLevel, "log-level", a.logLevel, "log `level`: trace, debug, info, warn, error, off")
	fs.StringVar(&a.pluginDir, "plugin-dir", a.pluginDir, "plugin `directory` (default: plugin_dir in the configuration, else $SECRETHOST_PLUGIN_DIR, else plugins next to the executable)")
}

func (a *app) main(ctx context.Context, args []string) int {
	root := flag.NewFlagSet("secrethost", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	root.Usage = func() {}
	a.globalFlags(root)
	showVersion := root.Bool("version", false, "print the version and exit")
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printMainUsage(a.Stdout)
			return exitOK
		}
		fmt.Fprintf(a.Stderr, "secrethost: %v\nRun 'secrethost --help' for usage.\n", err)
		return exitUsage
	}
	if *showVersion {
		return a.printVersion(a.Stdout)
	}
	rest := root.Args()
	if len(rest) == 0 {
		a.printMainUsage(a.Stderr)
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			a.printMainUsage(a.Stdout)
			return exitOK
		}
		name, rest = rest[0], []string{"--help"}
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(a.Stderr, "secrethost: unknown command %q\nRun 'secrethost --help' for the list of commands.\n", name)
		return exitUsage
	}

	fs := flag.NewFlagSet("secrethost "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	a.globalFlags(fs)
	run := cmd.setup(a, fs)
	positional, err := parseFlags(fs, rest, cmd.interspersed)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printCommandUsage(a.Stdout, cmd, fs)
			return exitOK
		}
		return a.usageFailure(cmd, err)
	}
	if err := checkLogLevel(a.effectiveFlagLevel()); err != nil {
		return a.usageFailure(cmd, err)
	}

	if cmd.ownSignals {
		return run(ctx, positional)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			a.caught.Store(s.(syscall.Signal))
			cancel()
		case <-ctx.Done():
		}
	}()
	out := &checkedWriter{w: a.Stdout}
	a.Stdout = out
	code := run(ctx, positional)
	if s, ok := a.caught.Load().(syscall.Signal); ok && code != exitOK {
		return 128 + int(s)
	}
	if out.err != nil && code == exitOK {
		fmt.Fprintf(a.Stderr, "secrethost %s: cannot write standard output: %v\n", cmd.name, out.err)
		return exitFailure
	}
	return code
}

// checkedWriter remembers the first write error, so that output lost to a
// full disk or a closed pipe is never a success.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

func (a *app) usageFailure(cmd *command, err error) int {
	fmt.Fprintf(a.Stderr, "secrethost %s: %v\nRun 'secrethost %s --help' for usage.\n", cmd.name, err, cmd.name)
	return exitUsage
}

func (a *app) printCommandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprint(w, strings.TrimLeft(cmd.usage, "\n"))
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses fs from args. With interspersed, flags may also follow
// positional arguments; "--" ends the flags either way.
func parseFlags(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if !interspersed || len(rest) == 0 || (consumed > 0 && args[consumed-1] == "--") {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func (a *app) effectiveFlagLevel() string {
	if a.logLevel != "" {
		return a.logLevel
	}
	if v, ok := a.LookupEnv(envLogLevel); ok && v != "" {
		return v
	}
	return ""
}

func checkLogLevel(l string) error {
	if l == "" || slices.Contains(config.LogLevels, strings.ToLower(l)) {
		return nil
	}
	return usagef("invalid log level %q: want one of %s (from --log-level or %s)", l, strings.Join(config.LogLevels, ", "), envLogLevel)
}

// loadConfig loads the configuration and sets up logging: --log-level,
// else SECRETHOST_LOG_LEVEL, else the file's log_level, else warn.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.FindAndLoad(a.configPath, a.LookupEnv)
	if err != nil {
		return nil, &configError{err}
	}
	level := a.effectiveFlagLevel()
	if level == "" {
		level = cfg.LogLevel
	}
	if level == "" {
		level = defaultLogLevel
	}
	a.log = newLogger(a.Stderr, level)
	a.cfg = cfg
	return cfg, nil
}

func newLogger(w io.Writer, level string) hclog.Logger {
	lvl := hclog.LevelFromString(level)
	if strings.EqualFold(level, "off") {
		lvl = hclog.Off
	}
	if lvl == hclog.NoLevel {
		lvl = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "secrethost",
		Level:  lvl,
		Output: w,
		Color:  hclog.ColorOff,
	})
}

// openHost loads the configuration and returns a Host; no plugin starts yet.
func (a *app) openHost() (*host.Host, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	opts := []host.Option{host.WithLogger(a.log), host.WithLookupEnv(a.LookupEnv)}
	if a.pluginDir != "" {
		dir, err := filepath.Abs(a.pluginDir)
		if err != nil {
			return nil, usagef("--plugin-dir %q: %v", a.pluginDir, err)
		}
		opts = append(opts, host.WithPluginDirFrom(dir, "--plugin-dir"))
	}
	h, err := host.New(cfg, opts...)
	if err != nil {
		return nil, &configError{err}
	}
	return h, nil
}

// fail reports err on stderr and returns its exit code.
func (a *app) fail(cmd string, err error) int {
	var (
		ue  *usageError
		ce  *configError
		hce *host.ConfigError
	)
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(a.Stderr, "secrethost %s: %v\nRun 'secrethost %s --help' for usage.\n", cmd, err, cmd)
		return exitUsage
	case errors.As(err, &ce), errors.As(err, &hce):
		// A provider that rejected its settings, or two claiming one
		// scheme: as much a configuration error as a bad config.hcl.
		fmt.Fprintf(a.Stderr, "secrethost %s: configuration: %v\n", cmd, indent(err.Error()))
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(a.Stderr, "secrethost %s: interrupted\n", cmd)
		return exitFailure
	default:
		fmt.Fprintf(a.Stderr, "secrethost %s: %v\n", cmd, indent(err.Error()))
		return exitFailure
	}
}

// indent makes a multi-line message readable after a "prefix: ".
func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
