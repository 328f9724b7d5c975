package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/shared/provider"
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
		return a.fail(cmd, noRefs(from, "give REF arguments or --from FILE"))
	}
	h, err := a.openHost()
	if err != nil {
		return a.fail(cmd, err)
	}
	defer h.Close()
	// The schemes come from the provider blocks or the plugins'
	// self-description: validate needs no credentials, so nothing is
	// configured for this, and the plugin described here is the one
	// Validate asks.
	schemes, err := h.DescribedSchemes(ctx)
	if err != nil {
		return a.fail(cmd, err)
	}
	good, bad := splitRefs(vars, schemes)
	refs := make([]string, len(good))
	for i, v := range good {
		refs[i] = strings.TrimSpace(v.Value)
	}
	var results []provider.ValidateResult
	if len(refs) > 0 {
		if results, err = h.Validate(ctx, refs); err != nil {
			return a.fail(cmd, err)
		}
	}
	h.Close()
	var b strings.Builder
	code := exitOK
	for _, v := range vars {
		if len(bad) > 0 && bad[0].refVar == v {
			code = exitFailure
			fmt.Fprintf(&b, "invalid  %s: %s\n", bad[0].label(), bad[0].reason)
			bad = bad[1:]
			continue
		}
		r := results[0]
		results = results[1:]
		label := host.SafeReference(r.Reference)
		if v.Name != v.Value {
			label += " (" + v.Name + ")"
		}
		if r.Err == nil {
			fmt.Fprintf(&b, "ok  %s\n", label)
			continue
		}
		code = exitFailure
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
