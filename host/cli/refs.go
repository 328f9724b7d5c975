package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// refVar is one NAME → value pair read from a file or the command line, with
// where it came from for messages.
type refVar struct {
	Name  string
	Value string
	// Where is "file:line", "argument N" or "environment".
	Where string
}

// maxInputFile bounds --from, --env-file and inject templates.
const maxInputFile = 16 << 20

// readFileLimited reads at most limit bytes of path.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, path)
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", what, limit>>20)
	}
	return b, nil
}

// readRefsFile reads NAME → reference pairs from a --from file:
//
//   - a doco-cd deploy configuration (.doco-cd.yml): the external_secrets
//     mapping of every YAML document in the file;
//   - any other YAML file: a flat mapping NAME: reference;
//   - a dotenv file: NAME=reference lines (see parseDotenv).
//
// Files named *.yml or *.yaml are YAML, files named .env, *.env or .env.*
// are dotenv; anything else is YAML if it parses as a YAML mapping and
// dotenv otherwise.
func readRefsFile(path string) ([]refVar, error) {
	data, err := readFileLimited(path, maxInputFile)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case ext == ".yml" || ext == ".yaml":
		return parseRefsYAML(data, path)
	case ext == ".env" || name == ".env" || strings.HasPrefix(name, ".env."):
		return parseDotenv(data, path)
	}
	if looksLikeYAMLMapping(data) {
		return parseRefsYAML(data, path)
	}
	return parseDotenv(data, path)
}

func looksLikeYAMLMapping(data []byte) bool {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || len(n.Content) == 0 {
		return false
	}
	return n.Content[0].Kind == yaml.MappingNode
}

// parseRefsYAML reads NAME → reference pairs from YAML: the
// external_secrets mappings of a doco-cd deploy configuration (one or more
// documents), or else a flat top-level mapping. Names must be unique;
// references must be non-empty strings.
func parseRefsYAML(data []byte, filename string) ([]refVar, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s", filename, yamlError(err))
		}
		if len(n.Content) == 0 {
			continue // an empty document
		}
		docs = append(docs, n.Content[0])
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: empty file: expected a mapping of NAME: reference, or a doco-cd external_secrets mapping", filename)
	}

	// doco-cd: every document's external_secrets.
	var sections []*yaml.Node
	for _, d := range docs {
		if d.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(d.Content); i += 2 {
			if d.Content[i].Value == "external_secrets" {
				sections = append(sections, d.Content[i+1])
			}
		}
	}
	if len(sections) == 0 {
		if isDocoCD(filename, docs) {
			return nil, nil // a deployment without secrets
		}
		if len(docs) > 1 {
			return nil, fmt.Errorf("%s: several YAML documents but no external_secrets mapping in any", filename)
		}
		sections = docs
	}

	var out []refVar
	seen := map[string]string{}
	for _, sec := range sections {
		if sec.Kind == yaml.ScalarNode && sec.Tag == "!!null" {
			continue // external_secrets: (empty)
		}
		if sec.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: expected a mapping of NAME: reference, found %s", filename, sec.Line, kindName(sec))
		}
		for i := 0; i+1 < len(sec.Content); i += 2 {
			k, v := sec.Content[i], sec.Content[i+1]
			where := fmt.Sprintf("%s:%d", filename, k.Line)
			if k.Kind != yaml.ScalarNode || k.Value == "" {
				return nil, fmt.Errorf("%s: expected a variable name as key, found %s", where, kindName(k))
			}
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
				return nil, fmt.Errorf("%s: %s: expected a secret reference string, found %s", where, keyName(k.Value), kindName(v))
			}
			if prev, dup := seen[k.Value]; dup {
				return nil, fmt.Errorf("%s: %s is already defined at %s", where, keyName(k.Value), prev)
			}
			seen[k.Value] = where
			out = append(out, refVar{Name: k.Value, Value: v.Value, Where: where})
		}
	}
	return out, nil
}

// docoCDFileName matches doco-cd's deploy configuration files:
// .doco-cd.yml, .doco-cd.yaml and .doco-cd.<target>.y(a)ml.
var docoCDFileName = regexp.MustCompile(`^\.doco-cd(\.[^/]+)?\.ya?ml$`)

// docoCDKeys are deploy settings only a doco-cd configuration has.
var docoCDKeys = []string{
	"repository_url", "compose_files", "working_dir", "webhook_filter", "remove_orphans",
	"force_recreate", "force_image_pull", "auto_discover", "profiles", "destroy",
}

// isDocoCD says whether a YAML file is a doco-cd deploy configuration, by
// its name or by its settings: then only external_secrets holds
// references, and the rest (a repository URL with a token in it, say) is
// none of secrethost's business.
func isDocoCD(filename string, docs []*yaml.Node) bool {
	if docoCDFileName.MatchString(filepath.Base(filename)) {
		return true
	}
	for _, d := range docs {
		if d.Kind != yaml.MappingNode {
			continue
		}
		var name, ref bool
		for i := 0; i+1 < len(d.Content); i += 2 {
			k := d.Content[i].Value
			if slices.Contains(docoCDKeys, k) {
				return true
			}
			name = name || k == "name"
			ref = ref || k == "reference"
		}
		if name && ref {
			return true
		}
	}
	return false
}

// yamlQuoted matches what the YAML library quotes of the input in its
// messages.
var yamlQuoted = regexp.MustCompile("`[^`]*`|\"[^\"]*\"|'[^']*'")

// yamlError is the YAML library's message without any quoted input: the
// file may hold secrets where references belong.
func yamlError(err error) string {
	return yamlQuoted.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "(…)")
}

func kindName(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case n.Tag == "!!null" || n.Value == "":
		return "nothing"
	case strings.HasPrefix(n.Tag, "!!") && len(n.Tag) < 12:
		return "a " + strings.TrimPrefix(n.Tag, "!!")
	default:
		return "a tagged value"
	}
}

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

// parseRefArgs turns command-line arguments into references: NAME=REF, or
// a bare REF that is its own name. An argument is NAME=REF when the text
// before its first '=' is a valid variable name ("op://v/i/f?attribute=otp"
// is a bare reference).
func parseRefArgs(args []string) []refVar {
	out := make([]refVar, 0, len(args))
	for i, arg := range args {
		where := fmt.Sprintf("argument %d", i+1)
		if name, ref, ok := strings.Cut(arg, "="); ok && dotenvKeyPattern.MatchString(name) {
			out = append(out, refVar{Name: name, Value: ref, Where: where})
			continue
		}
		out = append(out, refVar{Name: arg, Value: arg, Where: where})
	}
	return out
}

// isBare reports whether v is a bare reference (its own name).
func (v refVar) isBare() bool { return v.Name == v.Value && !dotenvKeyPattern.MatchString(v.Name) }

// mergeRefs joins reference lists; a name given twice with different
// references is an error, the same pair twice is kept once.
func mergeRefs(lists ...[]refVar) ([]refVar, error) {
	var out []refVar
	seen := map[string]refVar{}
	for _, l := range lists {
		for _, v := range l {
			if prev, dup := seen[v.Name]; dup {
				if prev.Value == v.Value {
					continue
				}
				return nil, usagef("%s is defined twice, with different references (%s and %s)", v.Name, prev.Where, v.Where)
			}
			seen[v.Name] = v
			out = append(out, v)
		}
	}
	return out, nil
}

// label names v in messages without its value: "NAME (where)", or just
// where ("argument 2") for a bare value, which is its own name.
func (v refVar) label() string {
	if v.Name == v.Value || !dotenvKeyPattern.MatchString(v.Name) {
		return v.Where // a name that is no variable name may be a value too
	}
	if v.Where == "" {
		return v.Name
	}
	return v.Name + " (" + v.Where + ")"
}

// refProblem is an entry whose value is not a reference of a configured
// scheme. Its value is never shown: it may well be a secret written where a
// reference belongs (DB_PASSWORD=hunter2) or a URL with credentials in it.
type refProblem struct {
	refVar
	reason string
}

// splitRefs keeps the entries whose value is a reference of one of schemes
// (scheme://…, scheme in any case) and explains the others.
func splitRefs(vars []refVar, schemes []string) (good []refVar, bad []refProblem) {
	for _, v := range vars {
		if why := notARef(strings.TrimSpace(v.Value), schemes); why != "" {
			bad = append(bad, refProblem{refVar: v, reason: why})
			continue
		}
		good = append(good, v)
	}
	return good, bad
}

// notARef says why v is not a reference of schemes, without quoting it;
// "" if it is one.
func notARef(v string, schemes []string) string {
	var list []string
	for _, s := range schemes {
		list = append(list, s+"://")
	}
	configured := strings.Join(list, ", ")
	if configured == "" {
		configured = "none"
	}
	m := refLike.FindStringSubmatch(v)
	switch {
	case v == "":
		return "empty: expected a secret reference"
	case m == nil:
		return "not a secret reference: expected scheme://…, with one of the configured schemes (" + configured + "); the value is not shown"
	case !slices.Contains(schemes, strings.ToLower(m[1])):
		return "not a reference of a configured scheme (" + configured + "); the value is not shown"
	}
	return ""
}

// keyName shows a key in messages if it looks like a portable variable
// name (letters, digits, '_'); any other key may be a value written where a
// name belongs, and is not shown. (A value that looks like a name cannot be
// told from one.)
func keyName(k string) string {
	if envNamePattern.MatchString(k) {
		return k
	}
	return "the key (not a variable name; not shown)"
}
