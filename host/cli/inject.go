package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
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
		if m := refLike.FindStringSubmatch(r); m != nil && slices.Contains(schemes, strings.ToLower(m[1])) {
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

// injectTemplate is a parsed inject template: text with {{ REF }} slots.
type injectTemplate struct {
	Segments []segment
	// Problems are placeholders that look meant as references (a scheme
	// and a colon after the "{{") but are malformed. They stay literal
	// text; inject fails on those whose scheme is configured.
	Problems []templateProblem
}

// segment is literal text, or a reference slot (Ref set) together with
// the exact text it replaces (Raw).
type segment struct {
	Text string
	Ref  string
	Raw  string
}

// templateProblem is a malformed placeholder: where its "{{" is (line and
// column, from 1; columns count characters), the scheme it starts with,
// and what is wrong, without quoting it.
type templateProblem struct {
	Line, Column int
	Scheme       string
	Reason       string
}

func (p templateProblem) String() string {
	return fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Reason)
}

// placeholderStart is the scheme and colon that make "{{" a placeholder.
var placeholderStart = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)

// parseTemplate finds every {{ REF }} in src: a "{{", optional spaces and
// tabs, REF, optional spaces and tabs, and "}}" on the same line, where REF
// starts with scheme:// and holds no brace. Which schemes count is decided
// when rendering. A "{{" followed by scheme: that does not form such a
// placeholder (no "}}" on its line, a single "}", "op:/x" instead of
// "op://x", a brace inside) is recorded in Problems and kept as text; any
// other {{ ... }} is literal text.
func parseTemplate(src string) injectTemplate {
	var t injectTemplate
	lit, i := 0, 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		open := i + j
		i = open + 1 // by default, look again from the next brace
		q := open + 2
		for q < len(src) && (src[q] == ' ' || src[q] == '\t') {
			q++
		}
		m := placeholderStart.FindStringSubmatch(src[q:])
		if m == nil {
			continue // {{ .Values.x }}, {{{, ...: not ours
		}
		eol := len(src)
		if k := strings.IndexAny(src[q:], "\n\r"); k >= 0 {
			eol = q + k
		}
		line := src[q:eol]
		k := strings.Index(line, "}}")
		var why string
		switch {
		case k < 0 && strings.Contains(line, "}"):
			why = "the placeholder is closed by a single '}': expected '}}'"
		case k < 0:
			why = "the placeholder is not closed: expected '}}' on the same line"
		default:
			ref := strings.TrimRight(line[:k], " \t")
			switch {
			case strings.ContainsAny(ref, "{}"):
				why = "unbalanced braces inside the placeholder"
			case !refLike.MatchString(ref):
				why = fmt.Sprintf("malformed reference: expected %s://…", strings.ToLower(m[1]))
			default:
				end := q + k + 2
				if lit < open {
					t.Segments = append(t.Segments, segment{Text: src[lit:open]})
				}
				t.Segments = append(t.Segments, segment{Ref: ref, Raw: src[open:end]})
				i, lit = end, end
				continue
			}
		}
		ln := 1 + strings.Count(src[:open], "\n")
		col := 1 + utf8.RuneCountInString(src[strings.LastIndexByte(src[:open], '\n')+1:open])
		t.Problems = append(t.Problems, templateProblem{Line: ln, Column: col, Scheme: strings.ToLower(m[1]), Reason: why})
	}
	if lit < len(src) {
		t.Segments = append(t.Segments, segment{Text: src[lit:]})
	}
	return t
}

// Refs lists the distinct references, in order of appearance.
func (t injectTemplate) Refs() []string {
	var out []string
	for _, s := range t.Segments {
		if s.Ref != "" && !slices.Contains(out, s.Ref) {
			out = append(out, s.Ref)
		}
	}
	return out
}

// Render replaces each slot whose reference is in values; the others keep
// their original text.
func (t injectTemplate) Render(values map[string][]byte) []byte {
	var b []byte
	for _, s := range t.Segments {
		if s.Ref == "" {
			b = append(b, s.Text...)
		} else if v, ok := values[s.Ref]; ok {
			b = append(b, v...)
		} else {
			b = append(b, s.Raw...)
		}
	}
	return b
}

// writeFileAtomic replaces the regular file at path with data: a
// temporary file in the same directory (created 0600, so the content is
// never more visible than intended), written, given the owner and group of
// the file it replaces and its mode, synced, then renamed over it, and the
// directory synced. On any error the temporary file is removed and the
// file is untouched.
//
// A symbolic link is written through: the file it points to is replaced,
// atomically, in that file's directory, and the link stays. A directory,
// device, FIFO or socket, a dangling link, and a path naming an open file
// descriptor (/dev/stdout, /dev/fd/N) are refused. An existing file keeps
// its owner and group, and its mode unless keepMode is false; a new file
// gets mode. A file that cannot be renamed over (EBUSY: a single file
// bind-mounted into a container) is an error saying what to do.
func writeFileAtomic(path string, data []byte, mode fs.FileMode, keepMode bool) (err error) {
	target, old, err := outputTarget(path)
	if err != nil {
		return err
	}
	uid, gid := -1, -1
	if old != nil {
		if st, ok := old.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
		if keepMode {
			mode = old.Mode().Perm()
		}
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".secrethost-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if uid >= 0 {
		if err = tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("cannot give the new content the owner and group of the file it replaces (%d:%d): %w", uid, gid, err)
		}
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, target); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("%s is busy (EBUSY): it is most likely a single file bind-mounted into this container or namespace, and a mount point cannot be replaced by a rename; mount the directory that holds it instead of the file itself, or write to a file in a mounted directory: %w", target, err)
		}
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: the rename itself has happened
		d.Close()
	}
	return nil
}

// fdPath matches paths that name an open file descriptor.
var fdPath = regexp.MustCompile(`^/(dev/(stdin|stdout|stderr|fd/)|proc/(self|thread-self|[0-9]+)/fd/)`)

// outputTarget is the regular file that writing path replaces: path
// itself, or the file a chain of symbolic links at path leads to. old
// describes it if it exists.
func outputTarget(path string) (target string, old fs.FileInfo, err error) {
	cur, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	var fi fs.FileInfo
	for hops := 0; ; hops++ {
		if fdPath.MatchString(cur) {
			return "", nil, errors.New("it names an open file descriptor, not a file; to write to standard output, leave out -o")
		}
		fi, err = os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist) && hops == 0:
			return cur, nil, nil // a new file
		case errors.Is(err, fs.ErrNotExist):
			return "", nil, fmt.Errorf("it is a symbolic link that does not lead to a file (%s does not exist)", cur)
		case err != nil:
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		if hops >= 40 {
			return "", nil, errors.New("too many levels of symbolic links")
		}
		next, err := os.Readlink(cur)
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(next) {
			next = filepath.Join(filepath.Dir(cur), next)
		}
		cur = filepath.Clean(next)
	}
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		return cur, fi, nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "not a regular file"
	}
	if abs, _ := filepath.Abs(path); abs != cur {
		return "", nil, fmt.Errorf("it leads to %s (%s); inject writes regular files only (leave out -o to write to standard output)", what, cur)
	}
	return "", nil, fmt.Errorf("it is %s; inject writes regular files only (leave out -o to write to standard output)", what)
}
