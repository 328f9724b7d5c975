package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/secrethost/secrethost/host"
)

var doctorCommand = &command{
	name:    "doctor",
	summary: "check every provider end to end and say how to fix what fails",
	usage: `
Usage: secrethost doctor [--format text|json] [--from FILE] [NAME=REF | REF]...

For each configured provider, checks in order: the plugin binary is found
(and where), its checksum matches the sha256 pin (if pinned), it starts, it
speaks this host's protocol version, its configuration is valid (e.g. a
Connect token given both inline and as a file is not), the backend is
reachable and accepts the credentials, and what the credentials can see
(for 1Password Connect: every readable vault). Each failed check comes with
a fix.

References given as arguments or with --from (a .doco-cd.yml, say) are also
resolved, to prove the credentials can read them; their values are never
shown. This is how to find a reference into a vault the token cannot see.

Exit status: 0 all checks passed; 1 some check failed; 2 usage or
configuration error.
`,
	interspersed: true,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		format := fs.String("format", "text", "output `format`: text or json")
		from := fs.String("from", "", "also resolve the references in `file` (values are not shown)")
		return func(ctx context.Context, args []string) int {
			return a.doctor(ctx, *format, *from, args)
		}
	},
}

// doctorReport is doctor's JSON output.
type doctorReport struct {
	OK         bool              `json:"ok"`
	Config     string            `json:"config"`
	PluginDir  string            `json:"plugin_dir"`
	Providers  []host.Diagnosis  `json:"providers"`
	References []referenceResult `json:"references,omitempty"`
	// DocoCD lists references that resolve differently under doco-cd's
	// own 1Password rule (doctor_dococd.go); warnings, not failures.
	DocoCD []dococdWarning `json:"doco_cd_differences,omitempty"`
}

type referenceResult struct {
	Name string `json:"name,omitempty"`
	// Reference is empty for an entry that is not a reference of a
	// configured scheme: its value is not shown; Where says where it is.
	Reference string `json:"reference"`
	Where     string `json:"where,omitempty"`
	OK        bool   `json:"ok"`
	Code      string `json:"code,omitempty"`
	Error     string `json:"error,omitempty"`
}

func (a *app) doctor(ctx context.Context, format, from string, args []string) int {
	const cmd = "doctor"
	if format != "text" && format != "json" {
		return a.fail(cmd, usagef("unknown format %q: want text or json", format))
	}
	refs, err := collectRefs(from, args)
	if err != nil {
		return a.fail(cmd, err)
	}
	h, err := a.openHost()
	if err != nil {
		return a.fail(cmd, err)
	}
	defer h.Close()

	rep := doctorReport{OK: true, Config: a.cfg.Source, PluginDir: h.ShownPluginDir()}
	rep.Providers = h.Diagnose(ctx)
	for i := range rep.Providers {
		rep.OK = rep.OK && rep.Providers[i].OK()
	}
	if len(refs) > 0 {
		var schemes []string
		for _, d := range rep.Providers {
			if d.Info != nil {
				schemes = append(schemes, d.Info.Schemes...)
			}
		}
		rep.References = a.checkReferences(ctx, h, refs, schemes)
		rep.DocoCD = a.dococdCompare(ctx, h, refs)
		for _, r := range rep.References {
			rep.OK = rep.OK && r.OK
		}
	}

	if format == "json" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(a.Stdout, "%s\n", b)
	} else {
		writeDoctorText(a.Stdout, &rep)
	}
	if !rep.OK {
		return exitFailure
	}
	return exitOK
}

// checkReferences resolves refs and reports each one's outcome, never its
// value. An entry that is not a reference of one of schemes is reported
// by name and place, without its value, and not sent anywhere.
func (a *app) checkReferences(ctx context.Context, h *host.Host, all []refVar, schemes []string) []referenceResult {
	refs, bad := splitRefs(all, schemes)
	m := make(map[string]string, len(refs))
	for _, r := range refs {
		m[r.Name] = strings.TrimSpace(r.Value)
	}
	var err error
	if len(m) > 0 {
		_, err = h.ResolveSecretReferences(ctx, m)
	}
	var out []referenceResult
	for _, p := range bad {
		r := referenceResult{Where: p.Where, Code: "invalid_reference", Error: p.reason}
		if p.Name != p.Value && dotenvKeyPattern.MatchString(p.Name) {
			r.Name = p.Name
		}
		out = append(out, r)
	}
	return append(out, resolveOutcomes(refs, err)...)
}

// resolveOutcomes is the outcome of each of refs, given the error of
// resolving them all at once.
func resolveOutcomes(refs []refVar, err error) []referenceResult {
	out := make([]referenceResult, len(refs))
	for i, r := range refs {
		out[i] = referenceResult{Reference: strings.TrimSpace(r.Value), OK: err == nil}
		if r.Name != r.Value {
			out[i].Name = r.Name
		}
	}
	if err == nil {
		return out
	}
	re, ok := asResolveError(err)
	if !ok { // nothing could be attempted: every reference fails alike
		for i := range out {
			out[i].Code, out[i].Error = "unavailable", oneLine(err.Error())
		}
		return out
	}
	failed := map[string]referenceResult{}
	for _, f := range re.Failures {
		msg := f.Err.Message
		if msg == "" {
			msg = f.Err.Code.String()
		}
		failed[f.Reference] = referenceResult{Code: f.Err.Code.String(), Error: oneLine(msg)}
	}
	for i := range out {
		if f, bad := failed[out[i].Reference]; bad {
			out[i].Code, out[i].Error = f.Code, f.Error
		} else {
			out[i].OK = true // resolved; the call failed for others
		}
	}
	return out
}

func writeDoctorText(w io.Writer, rep *doctorReport) {
	fmt.Fprintf(w, "configuration: %s\nplugin directory: %s\n", rep.Config, rep.PluginDir)
	problems := 0
	for _, d := range rep.Providers {
		fmt.Fprintf(w, "\nprovider %q (plugin %q, %s)\n", d.Provider, d.Plugin, d.Pos)
		for _, s := range d.Steps {
			mark := map[host.Status]string{host.StatusOK: "ok  ", host.StatusFailed: "FAIL", host.StatusSkipped: "--  "}[s.Status]
			line := fmt.Sprintf("  %s  %s", mark, s.Name)
			if s.Detail != "" {
				line += ": " + oneLine(s.Detail)
			}
			fmt.Fprintln(w, line)
			if s.Status == host.StatusFailed {
				problems++
				if s.Fix != "" {
					fmt.Fprintf(w, "        fix: %s\n", oneLine(s.Fix))
				}
			}
		}
	}
	if len(rep.References) > 0 {
		fmt.Fprintln(w, "\nreferences")
		for _, r := range rep.References {
			label := r.Reference
			switch {
			case r.Reference == "" && r.Name != "":
				label = r.Name + " (" + r.Where + ")"
			case r.Reference == "":
				label = r.Where
			case r.Name != "":
				label = r.Name + " (" + r.Reference + ")"
			}
			if r.OK {
				fmt.Fprintf(w, "  ok    %s: resolves\n", label)
				continue
			}
			problems++
			fmt.Fprintf(w, "  FAIL  %s: %s: %s\n", label, r.Code, r.Error)
			fix := referenceFix(r.Code)
			if r.Reference == "" {
				fix = "put a secret reference of a configured scheme there; a secret written out in the file belongs in a vault (and should be rotated)"
			}
			fmt.Fprintf(w, "        fix: %s\n", fix)
		}
	}
	writeDococdWarnings(w, rep.DocoCD)
	fmt.Fprintln(w)
	switch problems {
	case 0:
		fmt.Fprintln(w, "All checks passed.")
	case 1:
		fmt.Fprintln(w, "1 problem found.")
	default:
		fmt.Fprintf(w, "%d problems found.\n", problems)
	}
}

func referenceFix(code string) string {
	switch code {
	case "not_found":
		return "check the spelling of vault, item and field; a vault the credentials cannot read looks missing too (see the provider's list of visible vaults above): grant the token read access to it"
	case "permission_denied":
		return "grant the credentials read access to this vault or item"
	case "invalid_reference":
		return "fix the reference syntax (secrethost validate shows the details offline)"
	case "unauthenticated":
		return "the credentials were rejected: renew the token and update the provider's configuration"
	case "ambiguous":
		return "several items or fields match: refer to them by ID instead of by name"
	case "rate_limited":
		return "the backend is rate limiting: retry later or lower the request rate"
	default:
		return "see the provider checks above: " + strings.ReplaceAll(code, "_", " ")
	}
}
