package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/secrethost/secrethost/internal/bounded"
)

// sensitiveMark is the cty mark carried by every value read from the
// environment or from a file, and by everything computed from such a value.
// Messages written by this package never print a marked value.
type markKey string

const sensitiveMark markKey = "sensitive"

// maxFileSize bounds what file() reads, so a mistake like file("/dev/zero")
// fails instead of exhausting memory.
const maxFileSize = 1 << 20

// evaluator holds what one Load needs to evaluate expressions.
type evaluator struct {
	lookupEnv func(string) (string, bool)
	baseDir   string // for relative file() paths; "" means the working directory

	sensitive []string // raw values returned by env() and file()
}

func (ev *evaluator) remember(v string) { ev.sensitive = append(ev.sensitive, v) }

func (ev *evaluator) evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Functions: map[string]function.Function{
			"env":       ev.envFunc(),
			"file":      ev.fileFunc(),
			"trimspace": stdlib.TrimSpaceFunc,
			"lower":     stdlib.LowerFunc,
			"upper":     stdlib.UpperFunc,
			"coalesce":  stdlib.CoalesceFunc,
		},
	}
}

// envFunc implements env(name) and env(name, default).
//
// Like every cty string, values read by env() and file() are normalised to
// Unicode NFC; that only changes text holding decomposed non-ASCII
// characters, which tokens and keys do not.
func (ev *evaluator) envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or the default (which may be null) when it is not set.",
		Params: []function.Parameter{
			// AllowMarked so that a name computed from env() or file() is
			// known to be sensitive and left out of errors.
			{Name: "name", Type: cty.String, AllowMarked: true},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.String, AllowNull: true, AllowMarked: true},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			nameVal, marks := args[0].Unmark()
			name := nameVal.AsString()
			shown := name
			if len(marks) > 0 {
				shown = "(name computed from env() or file(), not shown)"
			}
			if name == "" {
				return cty.NilVal, function.NewArgErrorf(0, "the environment variable name must not be empty")
			}
			if v, ok := ev.lookupEnv(name); ok {
				if !utf8.ValidString(v) {
					return cty.NilVal, fmt.Errorf("environment variable %s is not valid UTF-8", shown)
				}
				ev.remember(v)
				return cty.StringVal(v).Mark(sensitiveMark).WithMarks(marks), nil
			}
			if len(args) == 2 {
				return args[1].WithMarks(marks), nil
			}
			return cty.NilVal, fmt.Errorf("environment variable %s is not set", shown)
		},
	})
}

// fileFunc implements file(path): the content of the file with surrounding
// whitespace removed; relative paths are relative to the configuration
// file's directory.
func (ev *evaluator) fileFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the content of a file, without surrounding whitespace.",
		Params: []function.Parameter{
			// AllowMarked so the path's own sensitivity is known: a path
			// computed from env() is not printed in errors.
			{Name: "path", Type: cty.String, AllowMarked: true},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			pathVal, marks := args[0].Unmark()
			path := pathVal.AsString()
			shown := fmt.Sprintf("%q", path)
			if len(marks) > 0 {
				shown = "(path computed from env() or file(), not shown)"
			}
			if path == "" {
				return cty.NilVal, function.NewArgErrorf(0, "the path must not be empty")
			}
			resolved := path
			if !filepath.IsAbs(path) && ev.baseDir != "" {
				resolved = filepath.Join(ev.baseDir, path)
				if len(marks) == 0 {
					shown += fmt.Sprintf(" (resolved to %q)", resolved)
				}
			}
			// Only regular files: a FIFO or a device such as /dev/stdin
			// could block loading forever.
			if st, err := os.Stat(resolved); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
				return cty.NilVal, fmt.Errorf("cannot read file %s: not a regular file", shown)
			}
			b, err := readLimited(resolved, maxFileSize)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot read file %s: %v", shown, err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("file %s is not valid UTF-8 text", shown)
			}
			s := strings.TrimSpace(string(b))
			ev.remember(s)
			return cty.StringVal(s).Mark(sensitiveMark).WithMarks(marks), nil
		},
	})
}

// readLimited reads at most limit bytes of a regular file. Errors never
// contain file content; the path is left out too (the caller names it).
func readLimited(path string, limit int64) ([]byte, error) {
	return readFile(path, limit, nil)
}

// readFile opens path, runs check (if any) on the opened file, and reads at
// most limit bytes of it.
func readFile(path string, limit int64, check func(fs.FileInfo) error) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, bareErr(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, bareErr(err)
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if check != nil {
		if err := check(st); err != nil {
			return nil, err
		}
	}
	b, err := bounded.ReadAll(f, limit)
	if errors.Is(err, bounded.ErrTooLarge) {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	if err != nil {
		return nil, bareErr(err)
	}
	return b, nil
}

// bareErr strips the path from an *fs.PathError.
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
