package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// composeParse is a test model of docker compose's env file parser
// (github.com/compose-spec/compose-go/v2/dotenv, as of v2.13), written from
// its documented rules and observed behaviour, because compose-go is not a
// dependency of this module. It is what `docker compose --env-file` and
// `env_file:` use. The rules modelled:
//
//   - statements start after whitespace; '#' at a statement start comments
//     out the rest of the line; "export" followed by whitespace is dropped;
//   - a key runs to '=' or ':' (YAML style); letters, digits, '_', '.', '-',
//     '[' and ']'; a newline first means an inherited key (looked up);
//   - spaces after the separator are skipped;
//   - unquoted: the rest of the line, cut at " #", right-trimmed, then
//     interpolated;
//   - quoted ('...' or "..."): up to the first quote not preceded by a
//     backslash; inside, a backslash followed by the quote character yields
//     the quote, a backslash followed by anything else is kept with it;
//   - double-quoted values then get escape expansion (\a \b \c? \f \n \r \t
//     \v \\ \" \$ and \0NNN octal; \$ becomes $$) and interpolation;
//   - interpolation: $$ is a literal $, ${NAME} and $NAME are looked up (or
//     read from earlier keys), any other $ is an invalid template.
//
// Later keys win.
func composeParse(src string, lookup func(string) (string, bool)) (map[string]string, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	src = strings.TrimPrefix(src, "\ufeff")
	out := map[string]string{}
	for {
		src = composeStatementStart(src)
		if src == "" {
			return out, nil
		}
		if composeExport.MatchString(src) {
			src = strings.TrimLeftFunc(strings.TrimPrefix(src, "export"), composeIsSpace)
		}
		key, offset, inherited, err := composeKeyEnd(src)
		if err != nil {
			return nil, err
		}
		key = strings.TrimRightFunc(key, unicode.IsSpace)
		if strings.Contains(key, " ") {
			return nil, errors.New("key cannot contain a space")
		}
		rest := strings.TrimLeftFunc(src[offset:], composeIsSpace)
		if inherited {
			if v, ok := lookup(key); ok {
				out[key] = v
			}
			src = rest
			continue
		}
		value, after, err := composeValue(rest, out, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = value
		src = after
	}
}

var composeExport = regexp.MustCompile(`^export\s+`)

func composeIsSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

func composeStatementStart(src string) string {
	for {
		i := strings.IndexFunc(src, func(r rune) bool { return !unicode.IsSpace(r) })
		if i < 0 {
			return ""
		}
		src = src[i:]
		if src[0] != '#' {
			return src
		}
		j := strings.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j:]
	}
}

func composeKeyEnd(src string) (string, int, bool, error) {
	for i, r := range src {
		if composeIsSpace(r) {
			continue
		}
		switch r {
		case '=', ':', '\n':
			return src[:i], i + 1, r == '\n', nil
		case '_', '.', '-', '[', ']':
			continue
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			continue
		}
		return "", 0, false, fmt.Errorf("unexpected character %q in variable name", r)
	}
	return "", 0, false, errors.New("key without a value at the end of the file")
}

func composeValue(src string, vars map[string]string, lookup func(string) (string, bool)) (string, string, error) {
	if src == "" || (src[0] != '"' && src[0] != '\'') {
		value, rest, _ := strings.Cut(src, "\n")
		value, _, _ = strings.Cut(value, " #")
		value = strings.TrimRightFunc(value, unicode.IsSpace)
		v, err := composeInterpolate(value, vars, lookup)
		return v, rest, err
	}
	quote := src[0]
	var b []byte
	escaped := false
	for i := 1; i < len(src); i++ {
		c := src[i]
		if escaped {
			escaped = false
			if c != quote {
				b = append(b, '\\')
			}
			b = append(b, c)
			continue
		}
		switch c {
		case '\\':
			escaped = true
		case quote:
			value := string(b)
			if quote == '"' {
				v, err := composeInterpolate(composeEscapes(value), vars, lookup)
				if err != nil {
					return "", "", err
				}
				value = v
			}
			return value, src[i+1:], nil
		default:
			b = append(b, c)
		}
	}
	return "", "", errors.New("unterminated quoted value")
}

var composeEscapeSeq = regexp.MustCompile(`\\(?:[abcfnrtv$"\\]|0\d{0,3})`)

func composeEscapes(s string) string {
	return composeEscapeSeq.ReplaceAllStringFunc(s, func(m string) string {
		if m == `\$` {
			return "$$"
		}
		if strings.HasPrefix(m, `\0`) {
			m = strings.Replace(m, `\0`, `\`, 1)
		}
		r, _, _, err := strconv.UnquoteChar(m, '"')
		if err != nil {
			return m
		}
		return string(r)
	})
}

var composeName = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*`)

func composeInterpolate(s string, vars map[string]string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		get := func(name string) string {
			if v, ok := lookup(name); ok {
				return v
			}
			return vars[name]
		}
		switch {
		case strings.HasPrefix(rest, "$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			name := ""
			if end > 0 {
				name = composeName.FindString(rest[1:end])
			}
			if end < 0 || name == "" || len(name) != end-1 {
				return "", fmt.Errorf("invalid template at %q", s[i:])
			}
			b.WriteString(get(name))
			i += 1 + end
		default:
			name := composeName.FindString(rest)
			if name == "" {
				return "", fmt.Errorf("invalid template at %q", s[i:])
			}
			b.WriteString(get(name))
			i += len(name)
		}
	}
	return b.String(), nil
}
