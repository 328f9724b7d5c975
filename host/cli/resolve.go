package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/secrethost/secrethost/host"
)

var resolveCommand = &command{
	name:    "resolve",
	summary: "resolve references and print the values (dotenv, json or shell)",
	usage: `
Usage: secrethost resolve [--from FILE] [--format dotenv|json|shell] [NAME=REF | REF]...

Resolves every reference, then prints all values at once. Nothing is printed
unless every reference resolved: on any failure stdout stays empty and stderr
lists each failed NAME and reference with the reason (never a value).

References come from the arguments and from --from:
  NAME=REF    prints the value as NAME (e.g. DB_PASSWORD=op://prod/db/password)
  REF         a bare reference is its own name (json output only)
  --from FILE a doco-cd deploy configuration (.doco-cd.yml, its
              external_secrets mapping), a plain YAML mapping NAME: REF, or a
              dotenv file NAME=REF

Formats:
  dotenv  NAME="value", escaped so that docker compose (--env-file, env_file:)
          reads back the exact bytes: \\ \" \$ \n \r \t inside double quotes
  json    {"NAME": "value", ...}; values must be valid UTF-8
  shell   export NAME='value' for a POSIX shell: eval "$(secrethost resolve ...)"

Exit status: 0 all resolved; 1 some reference failed; 2 usage or
configuration error.
`,
	interspersed: true,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		from := fs.String("from", "", "read NAME → reference pairs from `file` (.doco-cd.yml, YAML mapping or dotenv)")
		format := fs.String("format", formatDotenv, "output `format`: dotenv, json or shell")
		return func(ctx context.Context, args []string) int {
			return a.resolve(ctx, *from, *format, args)
		}
	},
}

func (a *app) resolve(ctx context.Context, from, format string, args []string) int {
	const cmd = "resolve"
	if !slices.Contains(formats, format) {
		return a.fail(cmd, usagef("unknown format %q: want one of %s", format, strings.Join(formats, ", ")))
	}
	refs, err := collectRefs(from, args)
	if err != nil {
		return a.fail(cmd, err)
	}
	if len(refs) == 0 {
		return a.fail(cmd, noRefs(from, "give NAME=REF or REF arguments, or --from FILE"))
	}
	if format != formatJSON {
		for _, r := range refs {
			if r.isBare() {
				return a.fail(cmd, usagef("%s: a bare reference has no variable name; %s output needs NAME=REF (or use --format json, where a bare reference is its own key)", r.Where, format))
			}
			if !validName(format, r.Name) {
				return a.fail(cmd, nameErrorAt(r.Name, r.Where, format))
			}
		}
	}

	values, bad, err := a.resolveVars(ctx, refs)
	if err != nil || len(bad) > 0 {
		return a.failResolve(cmd, len(refs), bad, err, "nothing was printed")
	}
	secrets := make([]namedSecret, len(refs))
	for i, r := range refs {
		secrets[i] = namedSecret{Name: r.Name, Value: []byte(values[r.Name])}
	}
	out, err := formatSecrets(format, secrets)
	if err != nil {
		return a.fail(cmd, err)
	}
	if _, err := a.Stdout.Write(out); err != nil {
		return a.fail(cmd, fmt.Errorf("write: %w", err))
	}
	return exitOK
}

func validName(format, name string) bool {
	if format == formatShell {
		return envNamePattern.MatchString(name)
	}
	return dotenvKeyPattern.MatchString(name)
}

// noRefs is the usage error for a command given no references.
func noRefs(from, hint string) error {
	if from != "" {
		return usagef("no references: %s holds none (a doco-cd deploy configuration without external_secrets holds none)", from)
	}
	return usagef("no references: %s", hint)
}

// collectRefs reads --from and the arguments.
func collectRefs(from string, args []string) ([]refVar, error) {
	var fromFile []refVar
	if from != "" {
		var err error
		fromFile, err = readRefsFile(from)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
	}
	return mergeRefs(fromFile, parseRefArgs(args))
}

// resolveVars opens the host, resolves NAME → reference all or nothing,
// and closes the host again. Entries that are not references of a
// configured scheme are not sent anywhere: they come back in bad.
func (a *app) resolveVars(ctx context.Context, refs []refVar) (map[string]string, []refProblem, error) {
	h, err := a.openHost()
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	schemes, err := h.Schemes(ctx)
	if err != nil {
		return nil, nil, err
	}
	good, bad := splitRefs(refs, schemes)
	m := make(map[string]string, len(good))
	for _, r := range good {
		m[r.Name] = strings.TrimSpace(r.Value)
	}
	values := map[string]string{}
	if len(m) > 0 {
		values, err = h.ResolveSecretReferences(ctx, m)
	}
	return values, bad, err
}

// failResolve reports a failed resolution of total references: first each
// entry that is not a reference (bad), by name and place, never by value;
// then, for a *host.ResolveError, one line per failed NAME (reference):
// code: message; with what did not happen because of it. Any other error
// is reported as fail does.
func (a *app) failResolve(cmd string, total int, bad []refProblem, err error, consequence string) int {
	var re *host.ResolveError
	if err != nil {
		var ok bool
		if re, ok = asResolveError(err); !ok {
			return a.fail(cmd, err)
		}
	}
	failed := len(bad)
	if re != nil {
		failed += len(re.Failures)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "secrethost %s: %d of %d secret references failed; %s:", cmd, failed, total, consequence)
	for _, p := range bad {
		fmt.Fprintf(&b, "\n  %s: %s", p.label(), p.reason)
	}
	if re != nil {
		b.WriteString(strings.TrimPrefix(re.Describe(""), ":"))
	}
	fmt.Fprintln(a.Stderr, b.String())
	return exitFailure
}

func asResolveError(err error) (*host.ResolveError, bool) {
	var re *host.ResolveError
	ok := errors.As(err, &re)
	return re, ok
}
