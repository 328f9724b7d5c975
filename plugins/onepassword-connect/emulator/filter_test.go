package emulator

import (
	"net/url"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestParseFilter(t *testing.T) {
	good := map[string]Filter{
		`title eq "Demo"`:            {"title", "eq", "Demo"},
		`  TITLE   EQ   "My Vault" `: {"title", "eq", "My Vault"},
		`name eq "x"`:                {"name", "eq", "x"},
		`tag eq "banking"`:           {"tag", "eq", "banking"},
		`title co "Git"`:             {"title", "co", "Git"},
		`title eq ""`:                {"title", "eq", ""},
		`title eq "a\"b"`:            {"title", "eq", `a"b`},
		`title eq "a"b"`:             {"title", "eq", `a"b`}, // connect-sdk-go does not escape quotes
		`title eq "back\\slash"`:     {"title", "eq", `back\slash`},
		`title eq "C:\path"`:         {"title", "eq", `C:\path`},
		`title eq "c&d+e"`:           {"title", "eq", "c&d+e"},
		`title eq "a" andtag eq "b"`: {"title", "eq", `a" andtag eq "b`}, // not an and: a quote inside
	}
	for in, want := range good {
		got, err := ParseFilter(in)
		if err != nil || got != want {
			t.Errorf("ParseFilter(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		``, `title`, `title eq`, `title eq Demo`, `title eq 'Demo'`, `title eq "Demo`, `title eq Demo"`,
		`title eq "`, `title sw "x"`, `label eq "x"`, `"x" eq title`,
		`title	eq "tab"`, `title_x eq "x"`, `title eq "a" and tag eq "b"`, `title eq "a" or`,
		`title eq "a" and title sw "b"`,
	} {
		if f, err := ParseFilter(in); err == nil {
			t.Errorf("ParseFilter(%q) = %+v, want an error", in, f)
		}
	}
}

func TestParseExpr(t *testing.T) {
	for in, want := range map[string]Expr{
		`title eq "a"`: {{{"title", "eq", "a"}}},
		`title eq "Example Item" or tag eq "banking"`: {{{"title", "eq", "Example Item"}}, {{"tag", "eq", "banking"}}},
		`title eq "a" AND tag eq "b" or title co "c"`: {{{"title", "eq", "a"}, {"tag", "eq", "b"}}, {{"title", "co", "c"}}},
		`title eq "x" or y" and tag eq "t"`:           {{{"title", "eq", `x" or y`}, {"tag", "eq", "t"}}},
	} {
		got, err := ParseExpr(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseExpr(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	it := &Item{Title: "GitHub", Tags: []string{"ci"}}
	for in, want := range map[string]bool{
		`title eq "GitHub" and tag eq "ci"`:             true,
		`title eq "GitHub" and tag eq "no"`:             false,
		`title eq "nope" or tag eq "ci"`:                true,
		`title eq "nope" or tag eq "nope"`:              false,
		`tag eq "no" and tag eq "ci" or title co "Hub"`: true,
	} {
		e, err := ParseExpr(in)
		if err != nil || e.matchItem(it) != want {
			t.Errorf("%s: match %v (err %v), want %v", in, !want, err, want)
		}
	}
}

// The SDK's on-the-wire form decodes to what ParseFilter expects.
func TestParseFilterFromSDKQuery(t *testing.T) {
	q, err := url.ParseQuery("filter=" + url.QueryEscape(`title eq "a"b c&d+e"`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFilter(q.Get("filter"))
	if err != nil || f.Value != `a"b c&d+e` {
		t.Errorf("got %+v, %v", f, err)
	}
}

func TestFilterMatching(t *testing.T) {
	v := &Vault{Name: "Prod Secrets"}
	it := &Item{Title: "GitHub", Tags: []string{"ci", "Deploy"}}
	for _, c := range []struct {
		filter string
		vault  bool
		item   bool
	}{
		{`title eq "prod secrets"`, true, false},
		{`name eq "PROD SECRETS"`, true, false},
		{`title co "SECRET"`, true, false},
		{`title eq "GitHub"`, false, true},
		{`title eq "github"`, false, false},
		{`title co "Hub"`, false, true},
		{`tag eq "ci"`, false, true},
		{`tag eq "deploy"`, false, false},
	} {
		f, err := ParseFilter(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		if f.forVaults() == nil && f.matchVault(v) != c.vault {
			t.Errorf("%s on vault: got %v", c.filter, !c.vault)
		}
		if f.forItems() == nil && f.matchItem(it) != c.item {
			t.Errorf("%s on item: got %v", c.filter, !c.item)
		}
	}
}

// FuzzFilter checks that the parser never panics and that what it accepts is well-formed.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`title eq "Demo"`, `tag eq "x"`, `title co ""`, `title eq "a\"b"`, `title eq 'x'`, ``, `"`, `title eq "\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		switch flt.Attr {
		case "title", "name", "tag":
		default:
			t.Fatalf("accepted attribute %q from %q", flt.Attr, s)
		}
		if flt.Op != "eq" && flt.Op != "co" {
			t.Fatalf("accepted operator %q from %q", flt.Op, s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(flt.Value) {
			t.Fatalf("valid UTF-8 input %q gave invalid value %q", s, flt.Value)
		}
		_ = flt.matchVault(&Vault{Name: s})
		_ = flt.matchItem(&Item{Title: s, Tags: []string{s}})
	})
}
