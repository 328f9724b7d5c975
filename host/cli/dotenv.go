package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// envNamePattern is a portable environment variable name, the kind shells
// accept.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// dotenvKeyPattern is what compose's dotenv parser accepts as a key.
var dotenvKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// parseDotenv reads NAME=VALUE pairs, following docker compose's env file
// syntax (compose-go's dotenv parser) for everything it defines, minus
// variable interpolation:
//
//   - blank lines and lines starting with # are ignored; "export " before a
//     name is allowed; spaces around the name and after = are ignored;
//   - an unquoted value runs to the end of the line; " #" starts a comment;
//     trailing whitespace is dropped;
//   - a single-quoted value is literal, except that \' is a quote; it may
//     span lines;
//   - a double-quoted value may span lines and understands \n \r \t \a \b
//     \f \v \\ \" and \$; other backslashes are kept as they are;
//   - after a closing quote only spaces and a # comment may follow;
//   - no interpolation: $ is an ordinary character (write \$ in double
//     quotes where compose needs it, which means $ here too).
//
// A name given twice takes its last value (as in compose), in its first
// position.
func parseDotenv(data []byte, filename string) ([]refVar, error) {
	p := dotenvParser{src: string(bytes.TrimPrefix(data, []byte("\ufeff"))), file: filename, line: 1}
	return p.parse()
}

type dotenvParser struct {
	src  string
	pos  int
	line int
	file string
}

func (p *dotenvParser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

func (p *dotenvParser) parse() ([]refVar, error) {
	var out []refVar
	index := map[string]int{}
	for {
		p.skipBlank()
		if p.pos >= len(p.src) {
			return out, nil
		}
		if p.src[p.pos] == '#' {
			p.skipLine()
			continue
		}
		line := p.line
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		value, err := p.value()
		if err != nil {
			return nil, err
		}
		v := refVar{Name: name, Value: value, Where: fmt.Sprintf("%s:%d", p.file, line)}
		if i, dup := index[name]; dup {
			out[i].Value, out[i].Where = v.Value, v.Where
			continue
		}
		index[name] = len(out)
		out = append(out, v)
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

// skipBlank skips whitespace including newlines.
func (p *dotenvParser) skipBlank() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
		case isBlank(c):
		default:
			return
		}
		p.pos++
	}
}

func (p *dotenvParser) skipSpaces() {
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

func (p *dotenvParser) skipLine() {
	for p.pos < len(p.src) && p.src[p.pos] != '\n' {
		p.pos++
	}
}

// key reads [export ]NAME= and leaves pos after the = and any spaces.
func (p *dotenvParser) key() (string, error) {
	if rest := p.src[p.pos:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && isBlank(rest[6]) {
		p.pos += 6
		p.skipSpaces()
	}
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != '=' && p.src[p.pos] != '\n' {
		p.pos++
	}
	name := strings.TrimRight(p.src[start:p.pos], " \t\r\f\v")
	// The line is not quoted in messages: a value written without its
	// name, or a name that is really a value, may be a secret.
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return "", p.errorf(p.line, "expected NAME=VALUE, found a line without '=' (not shown)")
	}
	if !dotenvKeyPattern.MatchString(name) {
		col := 1
		for i, r := range name {
			if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '-'))) {
				break
			}
			col++
		}
		if name == "" {
			return "", p.errorf(p.line, "no variable name before '='")
		}
		return "", p.errorf(p.line, "invalid variable name (character %d of the line's name is not allowed; the name is not shown): use letters, digits, '_', '.' and '-', not starting with a digit", col)
	}
	p.pos++ // '='
	p.skipSpaces()
	return name, nil
}

func (p *dotenvParser) value() (string, error) {
	if p.pos >= len(p.src) {
		return "", nil
	}
	switch q := p.src[p.pos]; q {
	case '\'', '"':
		return p.quoted(q)
	}
	start := p.pos
	p.skipLine()
	v := p.src[start:p.pos]
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimRight(v, " \t\r\f\v"), nil
}

func (p *dotenvParser) quoted(q byte) (string, error) {
	line := p.line
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), p.afterQuote(line)
		case c == '\\' && p.pos+1 < len(p.src):
			n := p.src[p.pos+1]
			p.pos += 2
			if n == '\n' {
				p.line++
			}
			if q == '\'' {
				if n != '\'' {
					b.WriteByte('\\')
				}
				b.WriteByte(n)
				continue
			}
			if r, ok := doubleQuoteEscapes[n]; ok {
				b.WriteByte(r)
			} else {
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		default:
			if c == '\n' {
				p.line++
			}
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errorf(line, "unterminated %c-quoted value", q)
}

var doubleQuoteEscapes = map[byte]byte{
	'n': '\n', 'r': '\r', 't': '\t', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v',
	'\\': '\\', '"': '"', '$': '$',
}

// afterQuote allows only spaces and a comment after a closing quote.
func (p *dotenvParser) afterQuote(line int) error {
	p.skipSpaces()
	if p.pos >= len(p.src) || p.src[p.pos] == '\n' {
		return nil
	}
	if p.src[p.pos] == '#' {
		p.skipLine()
		return nil
	}
	return p.errorf(p.line, "unexpected text after the closing quote of the value that starts on line %d", line)
}
