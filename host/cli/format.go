package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Output formats of resolve.
const (
	formatDotenv = "dotenv"
	formatJSON   = "json"
	formatShell  = "shell"
)

var formats = []string{formatDotenv, formatJSON, formatShell}

// namedSecret is one resolved value under the name it is printed as.
type namedSecret struct {
	Name  string
	Value []byte
}

// formatSecrets renders secrets in one of the output formats. It fails, before
// writing anything, on a value the format cannot carry exactly.
func formatSecrets(format string, secrets []namedSecret) ([]byte, error) {
	switch format {
	case formatDotenv:
		return dotenvBytes(secrets)
	case formatJSON:
		return jsonBytes(secrets)
	case formatShell:
		return shellBytes(secrets)
	}
	return nil, usagef("unknown format %q: want one of %s", format, strings.Join(formats, ", "))
}

// dotenvBytes writes NAME="value" lines that docker compose's env file
// parser (compose-go v2, used by `docker compose --env-file` and env_file:)
// reads back as exactly the original bytes. Every value is double-quoted,
// and inside the quotes
//
//	\  becomes \\      "  becomes \"      $  becomes \$
//	LF becomes \n      CR becomes \r      TAB becomes \t
//
// and every other byte (including #, ', non-ASCII and invalid UTF-8) is
// written as is. Escaping $ is what keeps compose from interpolating; \$ is
// compose's documented escape for it. Double quotes are the only quoting
// that can hold any byte: compose's single quotes cannot end with a
// backslash, and unquoted values lose trailing spaces and " #..." comments.
//
// A value containing a NUL byte is refused: no environment variable can
// hold one. Names must be valid compose keys ([A-Za-z_][A-Za-z0-9_.-]*).
func dotenvBytes(secrets []namedSecret) ([]byte, error) {
	var b bytes.Buffer
	for _, s := range secrets {
		if !dotenvKeyPattern.MatchString(s.Name) {
			return nil, nameError(s.Name, formatDotenv)
		}
		if bytes.IndexByte(s.Value, 0) >= 0 {
			return nil, nulError(s.Name)
		}
		b.WriteString(s.Name)
		b.WriteString(`="`)
		for _, c := range s.Value {
			switch c {
			case '\\':
				b.WriteString(`\\`)
			case '"':
				b.WriteString(`\"`)
			case '$':
				b.WriteString(`\$`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteString("\"\n")
	}
	return b.Bytes(), nil
}

// shellBytes writes `export NAME='value'` lines for a POSIX shell to
// source. Inside single quotes every byte is literal; a single quote is
// written as '\” (close, escaped quote, reopen).
func shellBytes(secrets []namedSecret) ([]byte, error) {
	var b bytes.Buffer
	for _, s := range secrets {
		if !envNamePattern.MatchString(s.Name) {
			return nil, nameError(s.Name, formatShell)
		}
		if bytes.IndexByte(s.Value, 0) >= 0 {
			return nil, nulError(s.Name)
		}
		b.WriteString("export ")
		b.WriteString(s.Name)
		b.WriteString("=")
		b.WriteString(shellQuote(s.Value))
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}

// shellQuote quotes v for a POSIX shell.
func shellQuote(v []byte) string {
	return "'" + strings.ReplaceAll(string(v), "'", `'\''`) + "'"
}

// jsonBytes writes one JSON object, NAME → value, in the given
// order. JSON strings hold Unicode text, so a value that is not valid UTF-8
// is refused rather than silently altered.
func jsonBytes(secrets []namedSecret) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	for i, s := range secrets {
		if !utf8.Valid(s.Value) {
			return nil, fmt.Errorf("the value of %s is not valid UTF-8, which JSON cannot carry exactly; use --format dotenv or shell", s.Name)
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		writeJSONString(&b, s.Name)
		b.WriteString(": ")
		writeJSONString(&b, string(s.Value))
	}
	if len(secrets) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// nameError explains a name that format cannot carry. A name that is not
// even a dotenv key is not shown: it may be a value (or a URL with
// credentials) written where a name belongs.
func nameError(name, format string) error {
	return nameErrorAt(name, "", format)
}

func nameErrorAt(name, where, format string) error {
	at := ""
	if where != "" {
		at = where + ": "
	}
	switch {
	case strings.Contains(name, "://"):
		return usagef("%sthe name looks like a reference (not shown); %s output needs NAME=REF (or use --format json, where a bare reference is its own key)", at, format)
	case !dotenvKeyPattern.MatchString(name):
		return usagef("%sthe name is not a valid variable name for %s output (not shown: it may be a value written where a name belongs)", at, format)
	}
	return usagef("%s%q is not a valid variable name for %s output", at, name, format)
}

func nulError(name string) error {
	return fmt.Errorf("the value of %s contains a NUL byte, which no environment variable can hold; use --format json", name)
}
