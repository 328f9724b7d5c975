package cli

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

var injectCommand = &command{
	name:    "inject",
	summary: "replace {{ REF }} placeholders in a template with secrets",
	usage: `
Usage: secrethost inject [-i IN] [-o OUT] [--file-mode MODE]

Copies a template (IN, default stdin) to OUT (default stdout), replacing every
{{ REF }} whose REF has the scheme of a configured provider, e.g.
{{ op://prod/db/password }} or {{op://prod/db/password}} (spaces inside the
braces are optional; the placeholder must close on its line). Other {{ ... }}
text is left alone. A placeholder of a configured scheme that is malformed (no
closing }} on its line, a single }, a brace inside, op:/x instead of op://x)
is an error that names its line and column: nothing is written.

Nothing is written unless every reference resolved. OUT is written atomically
(a temporary file in the same directory, synced, then renamed over OUT); on
any failure OUT is left as it was and no temporary file remains. An existing
OUT keeps its owner, group and mode (--file-mode sets the mode); a new one
gets mode 0600 unless --file-mode says otherwise. If OUT is a symbolic link,
the file it leads to is replaced (atomically, in that file's directory) and
the link stays. OUT must be a regular file: directories, devices (/dev/null),
FIFOs, sockets and /dev/stdout are refused (leave out -o for stdout). A single
file bind-mounted into a container cannot be replaced by a rename (EBUSY):
mount its directory instead.

Exit status: 0 written; 1 some reference failed; 2 usage or configuration
error.
`,
	setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
		var o injectOptions
		fs.StringVar(&o.in, "i", "", "read the template from `file` (default stdin)")
		fs.StringVar(&o.in, "in-file", "", "same as -i `file`")
		fs.StringVar(&o.out, "o", "", "write the result to `file` (default stdout)")
		fs.StringVar(&o.out, "out-file", "", "same as -o `file`")
		fs.StringVar(&o.mode, "file-mode", "0600", "permissions of OUT, in `octal` (default: an existing OUT's own, else 0600)")
		return func(ctx context.Context, args []string) int {
			if len(args) > 0 {
				return a.fail("inject", usagef("unexpected arguments %q: the template comes from -i or stdin", args))
			}
			fs.Visit(func(f *flag.Flag) { o.modeSet = o.modeSet || f.Name == "file-mode" })
			return a.inject(ctx, o)
		}
	},
}

type injectOptions struct {
	in, out, mode string
	modeSet       bool // --file-mode was given
}

func (a *app) inject(ctx context.Context, o injectOptions) int {
	const cmd = "inject"
	mode, err := parseFileMode(o.mode)
	if err != nil {
		return a.fail(cmd, err)
	}
	var src []byte
	if o.in != "" {
		src, err = readFileLimited(o.in, maxInputFile)
	} else {
		src, err = readLimited(a.Stdin, maxInputFile, "the template")
	}
	if err != nil {
		return a.fail(cmd, usagef("read the template: %v", err))
	}

	if o.out != "" {
		// Refuse what cannot be written before any secret is fetched; it
		// is checked again when writing.
		if _, _, err := outputTarget(o.out); err != nil {
			return a.fail(cmd, fmt.Errorf("write %s: %w; nothing was resolved", o.out, err))
		}
	}
	tmpl := parseTemplate(string(src))
	values := map[string][]byte{}
	consequence := "nothing was written"
	if o.out != "" {
		consequence = o.out + " was left as it was"
	}
	if refs := tmpl.Refs(); len(refs) > 0 || len(tmpl.Problems) > 0 {
		var problems []templateProblem
		values, problems, err = a.resolveTemplateRefs(ctx, refs, tmpl.Problems)
		if len(problems) > 0 {
			name := o.in
			if name == "" {
				name = "the template (stdin)"
			}
			var b strings.Builder
			fmt.Fprintf(&b, "secrethost %s: %s: %d malformed placeholder(s); %s:", cmd, name, len(problems), consequence)
			for _, p := range problems {
				fmt.Fprintf(&b, "\n  %s", p)
			}
			fmt.Fprintln(a.Stderr, b.String())
			return exitFailure
		}
		if err != nil {
			return a.failResolve(cmd, len(refs), nil, err, consequence)
		}
	}
	out := tmpl.Render(values)

	if o.out == "" {
		if _, err := a.Stdout.Write(out); err != nil {
			return a.fail(cmd, fmt.Errorf("write: %w", err))
		}
		return exitOK
	}
	if err := writeFileAtomic(o.out, out, mode, !o.modeSet); err != nil {
		return a.fail(cmd, fmt.Errorf("write %s: %w; it was left as it was", o.out, err))
	}
	return exitOK
}

// resolveTemplateRefs resolves the references whose scheme a provider
// handles; the others stay as they are in the output. It returns the
// problems whose scheme a provider handles instead, if there are any,
// and then resolves nothing.
func (a *app) resolveTemplateRefs(ctx context.Context, candidates []string, problems []templateProblem) (map[string][]byte, []templateProblem, error) {
	h, err := a.openHost()
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	schemes, err := h.Schemes(ctx)
	if err != nil {
		return nil, nil, err
	}
	var ours []templateProblem
	for _, p := range problems {
		if slices.Contains(schemes, p.Scheme) {
			ours = append(ours, p)
		}
	}
	if len(ours) > 0 {
		return nil, ours, nil
	}
	var refs []string
	for _, r := range candidates {
		if sc, ok := refScheme(r); ok && slices.Contains(schemes, sc) {
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return map[string][]byte{}, nil, nil
	}
	values, err := h.Resolve(ctx, refs)
	return values, nil, err
}

func parseFileMode(s string) (fs.FileMode, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(t, 8, 32)
	if err != nil || n > 0o777 {
		return 0, usagef("--file-mode %q: want permission bits in octal, such as 0600 or 0640", s)
	}
	return fs.FileMode(n), nil
}
