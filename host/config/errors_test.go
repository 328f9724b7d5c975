package config

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

func TestSnippet(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name string
		src  string
		want string // the snippet of the first diagnostic
	}{
		{
			name: "tab indentation is kept under the line",
			src:  "provider \"p\" {\n\ttiemout = 1\n}\n",
			want: "    2 | \ttiemout = 1\n      | \t^^^^^^^",
		},
		{
			name: "CRLF line endings",
			src:  "provider \"p\" {\r\n  tiemout = 1\r\n}\r\n",
			want: "    2 |   tiemout = 1\n      |   ^^^^^^^",
		},
		{
			name: "multi-byte characters count as one column",
			src:  "provider \"p\" { config = { \"ключ\" = [1] } }\n",
			want: "    1 | provider \"p\" { config = { \"ключ\" = [1] } }\n      | " + strings.Repeat(" ", 35) + "^^^",
		},
		{
			name: "long lines are cut around the mark",
			src:  "provider \"p\" { config = { x = \"" + long + "\", y = [1], z = \"" + long + "\" } }\n",
			want: "    1 | ..." + strings.Repeat("a", 50) + "\", y = [1], z = \"" + strings.Repeat("a", 50) + "...\n" +
				"      | " + strings.Repeat(" ", 60) + "^^^",
		},
		{
			name: "control characters are neutralised",
			src:  "provider \"p\" {\n  plugin = \"\x1b[31m/x\"\n}\n",
			want: "    2 |   plugin = \"?[31m/x\"\n      |            ^^^^^^^^^",
		},
		{
			name: "a range spanning lines is underlined to the end of its first line",
			src:  "provider \"p\" {\n  config = [\n    1,\n  ]\n}\n",
			want: "    2 |   config = [\n      |            ^",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadSrc(t, tt.src, nil)
			if err == nil {
				t.Fatal("no error")
			}
			ce := asConfigError(t, err)
			if got := ce.Diagnostics[0].Snippet; got != tt.want {
				t.Errorf("snippet:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// snippet must cope with any range, including ones outside the source.
func TestSnippetOddRanges(t *testing.T) {
	src := []byte("ab\ncd")
	for _, r := range []hcl.Range{
		{Start: hcl.Pos{Line: 1, Byte: -5}, End: hcl.Pos{Byte: 100}},
		{Start: hcl.Pos{Line: 9, Byte: 100}, End: hcl.Pos{Byte: 1}},
		{Start: hcl.Pos{Line: 2, Byte: 5}, End: hcl.Pos{Byte: 5}},
		{Start: hcl.Pos{Line: 1, Byte: 2}, End: hcl.Pos{Byte: 2}},
	} {
		s := snippet(src, r)
		if !strings.Contains(s, "^") || !utf8.ValidString(s) {
			t.Errorf("snippet(%v) = %q", r, s)
		}
	}
	if s := snippet(nil, hcl.Range{}); !strings.Contains(s, "^") {
		t.Errorf("empty source: %q", s)
	}
}

func TestErrorRenderingCap(t *testing.T) {
	var b strings.Builder
	for range maxRendered + 3 {
		b.WriteString("provider \"p\" {}\n")
	}
	_, err := loadSrc(t, b.String(), nil)
	if err == nil {
		t.Fatal("no error")
	}
	ce := asConfigError(t, err)
	if len(ce.Diagnostics) != maxRendered+2 {
		t.Fatalf("%d diagnostics", len(ce.Diagnostics))
	}
	if !strings.HasSuffix(err.Error(), "\n(2 more not shown)") {
		t.Errorf("rendering does not end with the cap note:\n%s", err)
	}
	if n := strings.Count(err.Error(), "Duplicate provider"); n != maxRendered {
		t.Errorf("%d rendered", n)
	}
}

func TestDiagnosticPos(t *testing.T) {
	d := Diagnostic{Filename: "f.hcl", Line: 3, Column: 7, Summary: "S", Detail: "D."}
	if d.Pos() != "f.hcl:3:7" || d.String() != "f.hcl:3:7: S: D." {
		t.Errorf("%q %q", d.Pos(), d.String())
	}
	d = Diagnostic{Filename: "f.hcl", Summary: "S"}
	if d.Pos() != "f.hcl" || d.String() != "f.hcl: S" {
		t.Errorf("%q %q", d.Pos(), d.String())
	}
}

func ExampleError() {
	_, err := LoadDefault(func(string) (string, bool) { return "", false })
	fmt.Println(err)
	// Output: nothing selects a provider: SECRET_PROVIDER is empty; set it to one of: 1password
}
