package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/secrethost/secrethost/host"
)

var validateCommand = &command{
	name:    "validate",
	summary: "check references offline, without contacting any backend",
	usage: `
Usage: secrethost validate [--from FILE] [NAME=REF | REF]...

Checks the syntax of each reference with the provider that handles its
scheme, offline: providers must not touch the network for this. Prints one
line per reference (with its NAME in parentheses when it has one):

  ok  REF
  invalid  REF: reason

No backend is contacted, and no credentials are needed: a provider whose
configuration is rejected (no token in a CI job, say) checks the references
unconfigured.

Exit status: 0 all valid; 1 some reference is invalid or a plugin failed; 2
usage or configuration error.
`,
	interspersed: true,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		from := fs.String("from", "", "also check the references in `file` (.doco-cd.yml, YAML mapping or dotenv)")
		return func(ctx context.Context, args []string) int {
			return a.validate(ctx, *from, args)
		}
	},
}

func (a *app) validate(ctx context.Context, from string, args []string) int {
	const cmd = "validate"
	vars, err := collectRefs(from, args)
	if err != nil {
		return a.fail(cmd, err)
	}
	if len(vars) == 0 {
		return a.fail(cmd, usagef("no references: give REF arguments or --from FILE"))
	}
	refs := make([]string, len(vars))
	for i, v := range vars {
		refs[i] = v.Value
	}

	h, err := a.openHost()
	if err != nil {
		return a.fail(cmd, err)
	}
	results, err := h.Validate(ctx, refs)
	h.Close()
	if err != nil {
		return a.fail(cmd, err)
	}
	var b strings.Builder
	code := ExitOK
	for i, r := range results {
		label := host.SafeReference(r.Reference)
		if v := vars[i]; v.Name != v.Value {
			label += " (" + v.Name + ")"
		}
		if r.Err == nil {
			fmt.Fprintf(&b, "ok  %s\n", label)
			continue
		}
		code = ExitFailure
		msg := r.Err.Message
		if msg == "" {
			msg = r.Err.Code.String()
		}
		fmt.Fprintf(&b, "invalid  %s: %s\n", label, oneLine(msg))
	}
	fmt.Fprint(a.Stdout, b.String())
	return code
}

// oneLine keeps a message on one line of output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
