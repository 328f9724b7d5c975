package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/secrethost/secrethost/host"
)

var pluginsCommand = &command{
	name:    "plugins",
	summary: "list the configured providers: binaries, versions, schemes",
	usage: `
Usage: secrethost plugins

Lists the providers the configuration selects, each with its plugin binary,
checksum, version, protocol and reference schemes. Each plugin is started
just long enough to ask (it is not configured, so no backend is contacted).
Use 'secrethost doctor' to check configuration and backends.

Exit status: 0 all plugins answered; 1 some plugin is missing or failed; 2
usage or configuration error.
`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		return func(ctx context.Context, args []string) int {
			if len(args) > 0 {
				return a.fail("plugins", usagef("unexpected arguments %q", args))
			}
			return a.plugins(ctx)
		}
	},
}

func (a *app) plugins(ctx context.Context) int {
	const cmd = "plugins"
	h, err := a.openHost()
	if err != nil {
		return a.fail(cmd, err)
	}
	defer h.Close()
	ds := h.Describe(ctx)

	fmt.Fprintf(a.Stdout, "configuration: %s\nplugin directory: %s\n\n", a.cfg.Source, h.ShownPluginDir())
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tPLUGIN\tVERSION\tPROTOCOL\tSCHEMES\tSHA256\tPATH")
	code := exitOK
	var problems []string
	for _, d := range ds {
		version, protocol, schemes := "-", "-", "-"
		if d.Info != nil {
			version = d.Info.Name + " " + d.Info.Version
			protocol = fmt.Sprint(d.Info.ProtocolVersion)
			var s []string
			for _, x := range d.Info.Schemes {
				s = append(s, x+"://")
			}
			schemes = strings.Join(s, ",")
		}
		sum := "-"
		if d.SHA256 != "" {
			sum = d.SHA256[:12]
			if d.Pinned {
				sum += " (pinned)"
			}
		}
		path := d.Path
		if path == "" {
			path = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Provider, d.Plugin, version, protocol, schemes, sum, path)
		for _, s := range d.Steps {
			if s.Status == host.StatusFailed {
				code = exitFailure
				p := fmt.Sprintf("%s: %s: %s", d.Provider, s.Name, oneLine(s.Detail))
				if s.Fix != "" {
					p += "\n  fix: " + oneLine(s.Fix)
				}
				problems = append(problems, p)
			}
		}
	}
	tw.Flush()
	if len(problems) > 0 {
		fmt.Fprintf(a.Stderr, "\nsecrethost plugins: %s\n", strings.Join(problems, "\nsecrethost plugins: "))
	}
	return code
}
