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
		format := fs.String("format", FormatDotenv, "output `format`: dotenv, json or shell")
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
		return a.fail(cmd, usagef("no references: give NAME=REF or REF arguments, or --from FILE"))
	}
	if format != FormatJSON {
		for _, r := range refs {
			if r.isBare() || !validName(format, r.Name) {
				return a.fail(cmd, nameError(r.Name, format))
			}
		}
	}

	values, err := a.resolveVars(ctx, refs)
	if err != nil {
		return a.failResolve(cmd, err, "nothing was printed")
	}
	secrets := make([]Secret, len(refs))
	for i, r := range refs {
		secrets[i] = Secret{Name: r.Name, Value: []byte(values[r.Name])}
	}
	out, err := Format(format, secrets)
	if err != nil {
		return a.fail(cmd, err)
	}
	if _, err := a.Stdout.Write(out); err != nil {
		return a.fail(cmd, fmt.Errorf("write: %w", err))
	}
	return ExitOK
}

func validName(format, name string) bool {
	if format == FormatShell {
		return envNamePattern.MatchString(name)
	}
	return dotenvKeyPattern.MatchString(name)
}

// collectRefs reads --from and the arguments.
func collectRefs(from string, args []string) ([]Var, error) {
	var fromFile []Var
	if from != "" {
		var err error
		fromFile, err = ReadRefsFile(from)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
	}
	return mergeRefs(fromFile, ParseRefArgs(args))
}

// resolveVars opens the host, resolves NAME → reference all or nothing,
// and closes the host again.
func (a *app) resolveVars(ctx context.Context, refs []Var) (map[string]string, error) {
	h, err := a.openHost()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	m := make(map[string]string, len(refs))
	for _, r := range refs {
		m[r.Name] = r.Value
	}
	return h.ResolveSecretReferences(ctx, m)
}

// failResolve reports a failed resolution: a *host.ResolveError as one
// line per failed NAME (reference): code: message, with what did not happen
// because of it; anything else as fail does.
func (a *app) failResolve(cmd string, err error, consequence string) int {
	re, ok := asResolveError(err)
	if !ok {
		return a.fail(cmd, err)
	}
	fmt.Fprintf(a.Stderr, "secrethost %s: %s\n", cmd, re.Describe(fmt.Sprintf("%d of %d secret references failed; %s", len(re.Failures), re.Total, consequence)))
	return ExitFailure
}

func asResolveError(err error) (*host.ResolveError, bool) {
	var re *host.ResolveError
	ok := errors.As(err, &re)
	return re, ok
}
