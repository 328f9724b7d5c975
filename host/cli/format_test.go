package cli

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// trickyValues are values every output format must carry exactly.
var trickyValues = []string{
	"plain",
	"",
	"multi\nline\nvalue\n",
	`double " quote`,
	`single ' quote`,
	`back\slash`,
	`ends with backslash \`,
	`ends with quote "`,
	`\"`,
	`\\"\\`,
	`\n is not a newline`,
	`\$HOME stays`,
	"dollar $HOME ${HOME} $$ $ $(id) `id`",
	"hash # not a comment #",
	"#starts with hash",
	" #space hash",
	"non-ASCII: ünïcødé ✓ 日本語 🙂",
	"  leading and trailing spaces  ",
	"tab\tcr\r\ncrlf",
	"\r\n",
	"=equals=",
	"-----BEGIN PRIVATE KEY-----\nMIIE'\"$x\n-----END PRIVATE KEY-----\n",
	"\x01\x02\x1b[31mcontrol\x7f",
	"invalid utf-8: \xff\xfe\xc3",
}

func secretsOf(values []string) []namedSecret {
	out := make([]namedSecret, len(values))
	for i, v := range values {
		out[i] = namedSecret{Name: "V" + string(rune('A'+i%26)) + strings.Repeat("_", i/26), Value: []byte(v)}
	}
	return out
}

// randomValues returns byte strings without NUL, biased towards the bytes
// the formats treat specially.
func randomValues(r *rand.Rand, n int) []string {
	special := []byte("\\\"'$#\n\r\t {}`=\x85\xa0\xff")
	out := make([]string, n)
	for i := range out {
		b := make([]byte, r.IntN(40))
		for j := range b {
			if r.IntN(2) == 0 {
				b[j] = special[r.IntN(len(special))]
			} else {
				b[j] = byte(1 + r.IntN(255))
			}
		}
		out[i] = string(b)
	}
	return out
}

func TestComposeModelMatchesDocumentedExamples(t *testing.T) {
	// Examples from https://docs.docker.com/compose/environment-variables/variable-interpolation/#env-file-syntax
	src := `# comment
VAR1=VAL
VAR2="VAL"
VAR3='VAL'
VAR4=VAL # comment
VAR5=VAL# not a comment
VAR6="VAL # not a comment"
VAR7="VAL" # comment
VAR8='$OTHER'
VAR9='${OTHER}'
VAR10='Let\'s go!'
VAR11="{\"hello\": \"json\"}"
VAR12="some\tvalue"
VAR13='some\tvalue'
VAR14=some\tvalue
VAR15="$OTHER"
VAR16=${OTHER}
export VAR17=exported
VAR18="a\$b"
VAR19="a$$b"
`
	got, err := composeParse(src, func(k string) (string, bool) {
		if k == "OTHER" {
			return "other", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"VAR1": "VAL", "VAR2": "VAL", "VAR3": "VAL", "VAR4": "VAL", "VAR5": "VAL# not a comment",
		"VAR6": "VAL # not a comment", "VAR7": "VAL", "VAR8": "$OTHER", "VAR9": "${OTHER}",
		"VAR10": "Let's go!", "VAR11": `{"hello": "json"}`, "VAR12": "some\tvalue",
		"VAR13": `some\tvalue`, "VAR14": `some\tvalue`, "VAR15": "other", "VAR16": "other",
		"VAR17": "exported", "VAR18": "a$b", "VAR19": "a$b",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := composeParse(`A="lone $ dollar"`, nil); err == nil {
		t.Error("a lone $ in a double-quoted value should be an invalid template, as in compose")
	}
}

func TestOwnDotenvParserAgreesWithComposeWithoutInterpolation(t *testing.T) {
	src := "# c\nA=VAL # comment\nB=VAL# not\nC=\"x # y\" # z\nD='it\\'s'\nE=\"{\\\"k\\\": 1}\"\nF=\"t\\tn\\nr\\r\"\nG='raw\\t'\nexport H=1\n  I = spaced  \nJ=\"multi\nline\"\nK='multi\nline'\nL=\"a\\$b\"\n"
	want, err := composeParse(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := parseDotenv([]byte(src), "test.env")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %q vs %q", len(got), len(want), got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, compose says %q", k, got[k], v)
		}
	}
}

func TestDotenvRoundTripsThroughCompose(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := append(append([]string(nil), trickyValues...), randomValues(r, 300)...)
	secrets := secretsOf(values)
	out, err := dotenvBytes(secrets)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out, []byte("\n")) != len(secrets) {
		t.Errorf("want one line per value, got %d lines for %d values", bytes.Count(out, []byte("\n")), len(secrets))
	}
	// A lookup that would show any interpolation that should not happen.
	got, err := composeParse(string(out), func(k string) (string, bool) { return "<" + k + ">", true })
	if err != nil {
		t.Fatalf("compose model rejects the output: %v", err)
	}
	own, err := parseDotenv(out, "out.env")
	if err != nil {
		t.Fatalf("own parser rejects the output: %v", err)
	}
	for i, s := range secrets {
		if got[s.Name] != string(s.Value) {
			t.Errorf("compose reads %s = %q, want %q\nline: %s", s.Name, got[s.Name], s.Value, lineOf(out, s.Name))
		}
		if own[i].Name != s.Name || own[i].Value != string(s.Value) {
			t.Errorf("own parser reads %s = %q, want %q", own[i].Name, own[i].Value, s.Value)
		}
	}
}

func lineOf(out []byte, name string) string {
	for l := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}

func TestDotenvFormatIsReadable(t *testing.T) {
	out, err := dotenvBytes([]namedSecret{{"A", []byte("x\ny")}, {"B", []byte(`say "hi" $USER`)}})
	if err != nil {
		t.Fatal(err)
	}
	want := "A=\"x\\ny\"\nB=\"say \\\"hi\\\" \\$USER\"\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestFormatsRefuseWhatTheyCannotCarry(t *testing.T) {
	nul := []namedSecret{{"A", []byte("a\x00b")}}
	for _, f := range []string{formatDotenv, formatShell} {
		if _, err := formatSecrets(f, nul); err == nil || strings.Contains(err.Error(), "a\x00b") {
			t.Errorf("%s: NUL byte: err = %v", f, err)
		}
	}
	if _, err := formatSecrets(formatJSON, []namedSecret{{"A", []byte("\xff")}}); err == nil {
		t.Error("json: invalid UTF-8 accepted")
	}
	if _, err := formatSecrets(formatShell, []namedSecret{{"A.B", []byte("x")}}); err == nil {
		t.Error("shell: A.B accepted as a variable name")
	}
	if _, err := formatSecrets(formatDotenv, []namedSecret{{"op://v/i/f", []byte("x")}}); err == nil {
		t.Error("dotenv: a bare reference accepted as a name")
	}
	if _, err := formatSecrets("yaml", nil); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var values []string
	for _, v := range trickyValues {
		if !strings.Contains(v, "\xff") {
			values = append(values, v)
		}
	}
	secrets := secretsOf(values)
	secrets = append(secrets, namedSecret{"op://vault/item/field", []byte("<&>")})
	out, err := jsonBytes(secrets)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range secrets {
		if got[s.Name] != string(s.Value) {
			t.Errorf("%s = %q, want %q", s.Name, got[s.Name], s.Value)
		}
	}
	if !bytes.Contains(out, []byte(`"<&>"`)) {
		t.Errorf("HTML characters escaped needlessly: %s", out)
	}
	empty, _ := jsonBytes(nil)
	if string(empty) != "{}\n" {
		t.Errorf("empty object: %q", empty)
	}
}

// shellRead sources file in sh and prints each variable back exactly.
func shellRead(t *testing.T, file string, names []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, n := range names {
		out, err := exec.Command("sh", "-c", `. "$1"; printf %s "$`+n+`"`, "sh", file).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		got[n] = string(out)
	}
	return got
}

func TestShellRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	r := rand.New(rand.NewPCG(3, 4))
	values := append(append([]string(nil), trickyValues...), randomValues(r, 40)...)
	secrets := secretsOf(values)
	out, err := shellBytes(secrets)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "secrets.sh")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(secrets))
	for i, s := range secrets {
		names[i] = s.Name
	}
	got := shellRead(t, file, names)
	for _, s := range secrets {
		if got[s.Name] != string(s.Value) {
			t.Errorf("sh reads %s = %q, want %q", s.Name, got[s.Name], s.Value)
		}
	}
}
