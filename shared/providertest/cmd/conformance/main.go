// Command conformance runs every check of the conformance kit
// (shared/providertest) against a provider plugin binary, written in any
// language, and prints each check's name and result:
//
//	conformance -plugin bin/plugins/file -config 'dir=/srv/secrets' \
//	    -valid 'file://a file://b' -missing 'file://nope' -invalid 'file://../x'
//
// or, from the repository, `make conformance PLUGIN=... CONFIG=... VALID=...
// MISSING=... INVALID=...`. The plugin is located and started with the
// host's own trust rules and launcher (shared/launch): a binary the host
// would refuse is refused here too.
//
// Each list is one argument holding words separated by blanks, quoted as in
// a POSIX shell but without any expansion: 'single quotes' keep everything
// literally, "double quotes" keep everything but \" and \\, and outside
// quotes a backslash keeps the next character. So a reference with a space
// is written 'file://"my secret"' or 'file://my\ secret'. A flag given
// twice adds to its list. Configuration words are key=value (the value may
// be empty).
//
// Exit status: 0 when every check passed or was skipped, 1 when one failed
// (or the plugin did not start), 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// words is a flag holding a list written as shell-quoted words.
type words []string

func (w *words) String() string { return strings.Join(*w, " ") }

func (w *words) Set(s string) error {
	ws, err := splitWords(s)
	if err != nil {
		return err
	}
	*w = append(*w, ws...)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		pluginPath                         string
		verbose                            bool
		config, badConfig, sensitiveConfig words
		valid, missing, invalid            words
	)
	fs.StringVar(&pluginPath, "plugin", "", "the plugin binary to check (required)")
	fs.Var(&config, "config", "a valid configuration: key=value words (Suite.Config)")
	fs.Var(&valid, "valid", "at least two references that resolve, to distinct non-empty values (Suite.Valid)")
	fs.Var(&missing, "missing", "well-formed references to secrets that do not exist (Suite.Missing)")
	fs.Var(&invalid, "invalid", "malformed references (Suite.Invalid)")
	fs.Var(&badConfig, "bad-config", "optional: a configuration Configure must reject with invalid_config (Suite.BadConfig)")
	fs.Var(&sensitiveConfig, "sensitive-config", "optional: a configuration whose every value must never show in an error (Suite.SensitiveConfig)")
	fs.BoolVar(&verbose, "v", false, "also print what passing checks logged")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: conformance -plugin PATH -config 'key=value ...' -valid 'REF REF ...' -missing 'REF ...' -invalid 'REF ...'\n\n"+
			"Runs every check of secrethost's conformance kit against the plugin binary.\n"+
			"Lists are words quoted as in a POSIX shell, without expansion.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "conformance: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (lists are one argument each: -valid 'REF REF')", fs.Arg(0))
	}
	if pluginPath == "" {
		return usage("-plugin is required")
	}
	s := providertest.Suite{New: providertest.Binary(pluginPath), Valid: valid, Missing: missing, Invalid: invalid}
	var err error
	for _, c := range []struct {
		flag  string
		words words
		dst   *map[string]string
	}{{"-config", config, &s.Config}, {"-bad-config", badConfig, &s.BadConfig}, {"-sensitive-config", sensitiveConfig, &s.SensitiveConfig}} {
		if *c.dst, err = keyValues(c.words); err != nil {
			return usage("%s: %v", c.flag, err)
		}
	}
	if s.Config == nil {
		s.Config = map[string]string{}
	}

	// One start before the checks: a plugin that cannot start fails once,
	// with the host's reason, instead of once per check.
	name, err := preflight(ctx, pluginPath)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL  Start\n%s\n", indent(err.Error()))
		fmt.Fprintf(stdout, "conformance: %s did not start; no check was run\n", pluginPath)
		return 1
	}
	fmt.Fprintf(stdout, "conformance: checking %s (%s)\n", pluginPath, name)

	var failed, skipped, passed int
	err = providertest.RunChecks(ctx, s, func(r providertest.Result) {
		switch {
		case r.Failed:
			failed++
			fmt.Fprintf(stdout, "FAIL  %s\n", r.Name)
		case r.Skipped:
			skipped++
			fmt.Fprintf(stdout, "SKIP  %s\n", r.Name)
		default:
			passed++
			fmt.Fprintf(stdout, "PASS  %s\n", r.Name)
		}
		if r.Failed || r.Skipped || verbose {
			for _, l := range r.Log {
				fmt.Fprintln(stdout, indent(l))
			}
		}
	})
	if err != nil {
		return usage("%v", err)
	}
	fmt.Fprintf(stdout, "conformance: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		return 1
	}
	return 0
}

// preflight locates and starts the plugin as Binary does and asks its name.
func preflight(ctx context.Context, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := launch.Locate(filepath.Dir(abs), filepath.Base(abs))
	if err != nil {
		return "", fmt.Errorf("the host would not run %s: %w", abs, err)
	}
	sctx, cancel := context.WithTimeout(ctx, launch.DefaultStartTimeout)
	defer cancel()
	proc, err := launch.Start(sctx, launch.Spec{Name: filepath.Base(real), Path: real})
	if err != nil {
		return "", err
	}
	defer proc.Kill()
	info, err := proc.Client.GetInfo(sctx, provider.InfoRequest{})
	if err != nil {
		msg := err.Error()
		if tail := proc.StderrTail(); tail != "" {
			msg += "\nlast lines of the plugin's stderr:\n" + tail
		}
		return "", fmt.Errorf("GetInfo: %s", msg)
	}
	return fmt.Sprintf("%s %s, schemes %s", info.Name, info.Version, strings.Join(info.Schemes, ", ")), nil
}

func indent(s string) string {
	return "      " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n      ")
}

// keyValues parses key=value words.
func keyValues(ws []string) (map[string]string, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(ws))
	for _, w := range ws {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			// The word may hold a secret: name its position, not its text.
			return nil, fmt.Errorf("word %d is not key=value", len(m)+1)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s is given twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// splitWords splits s into words the way a POSIX shell does, without any
// expansion: blanks separate words; '...' is literal; in "..." a backslash
// escapes only " and \; elsewhere a backslash escapes the next character.
// "" and ” make an empty word.
func splitWords(s string) ([]string, error) {
	var (
		out    []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 == len(s) {
				return nil, errors.New("a backslash ends the list")
			}
			i++
			cur.WriteByte(s[i])
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at byte %d", i+1)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			start := i + 1
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated \" at byte %d", start)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
