package connect

import (
	"strings"
	"testing"
	"time"

	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// testItem has the shapes the rules care about: a built-in password and a
// section field with the same label, a field with the same label in two
// sections, labels differing only in case, an unlabeled section, and OTP
// fields in every state.
func testItem() *onepassword.Item {
	sec := func(id string) *onepassword.ItemSection { return &onepassword.ItemSection{ID: id} }
	return &onepassword.Item{
		ID: "itemidaaaaaaaaaaaaaaaaaaaa", Title: "Postgres",
		Sections: []*onepassword.ItemSection{
			{ID: "secdetails", Label: "Details"},
			{ID: "secother", Label: "Other"},
			{ID: "add more"}, // no label, as the apps create it
			{ID: "secdup1", Label: "Dup"},
			{ID: "secdup2", Label: "Dup"},
		},
		Fields: []*onepassword.ItemField{
			{ID: "username", Label: "username", Value: "admin", Purpose: "USERNAME", Type: "STRING"},
			{ID: "password", Label: "password", Value: "top-secret", Purpose: "PASSWORD", Type: "CONCEALED"},
			{ID: "f_det_pw", Label: "password", Value: "details-secret", Section: sec("secdetails"), Type: "CONCEALED"},
			{ID: "f_det_host", Label: "host", Value: "db.example.com", Section: sec("secdetails"), Type: "STRING"},
			{ID: "f_api_1", Label: "api key", Value: "k1", Section: sec("secdetails"), Type: "CONCEALED"},
			{ID: "f_api_2", Label: "api key", Value: "k2", Section: sec("secother"), Type: "CONCEALED"},
			{ID: "f_case_1", Label: "Token", Value: "upper", Type: "STRING"},
			{ID: "f_case_2", Label: "token", Value: "lower", Type: "STRING"},
			{ID: "f_fold_1", Label: "Region", Value: "eu", Section: sec("secdetails")},
			{ID: "f_fold_2", Label: "REGION", Value: "us", Section: sec("secother")},
			{ID: "f_more", Label: "extra", Value: "in add more", Section: sec("add more")},
			{ID: "f_dup1", Label: "x", Value: "dup-1", Section: sec("secdup1")},
			{ID: "TOTP_server", Label: "one-time password", Type: "OTP", TOTP: "123456",
				Value: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"},
			{ID: "TOTP_local", Label: "local otp", Type: "OTP", Value: "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8"},
			{ID: "TOTP_broken", Label: "broken otp", Type: "OTP", Value: "not a uri at all"},
			{ID: "TOTP_empty", Label: "empty otp", Type: "OTP"},
			{ID: "f_dangling", Label: "orphan", Value: "o", Section: sec("gone")},
		},
	}
}

func ref(t *testing.T, s string) opref.Ref {
	t.Helper()
	r, err := opref.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatchField(t *testing.T) {
	item := testItem()
	cases := []struct {
		ref     string
		want    string // value, or "" when an error is expected
		code    provider.Code
		errHas  []string
		comment string
	}{
		{ref: "op://v/i/password", want: "top-secret", comment: "a unique field outside any section wins over a section field with the same label"},
		{ref: "op://v/i/Details/password", want: "details-secret", comment: "the section picks the field"},
		{ref: "op://v/i/secdetails/password", want: "details-secret", comment: "section by ID"},
		{ref: "op://v/i/details/password", want: "details-secret", comment: "section label case-insensitively"},
		{ref: "op://v/i/host", want: "db.example.com", comment: "unique match inside a section when none outside"},
		{ref: "op://v/i/f_det_host", want: "db.example.com", comment: "field by ID"},
		{ref: "op://v/i/Details/f_det_host", want: "db.example.com"},
		{ref: "op://v/i/Other/host", code: provider.CodeNotFound, errHas: []string{`no field "host"`, `in section "Other"`, `; its fields: "api key", "REGION"`}},
		{ref: "op://v/i/api key", code: provider.CodeAmbiguous, errHas: []string{"f_api_1", "f_api_2", `section "Details"`, "name its section"}},
		{ref: "op://v/i/Other/api key", want: "k2"},
		{ref: "op://v/i/Token", want: "upper", comment: "exact label first"},
		{ref: "op://v/i/token", want: "lower"},
		{ref: "op://v/i/TOKEN", code: provider.CodeAmbiguous, errHas: []string{"f_case_1", "f_case_2"}, comment: "case-insensitive only when unique"},
		{ref: "op://v/i/Username", want: "admin", comment: "case-insensitive when unique"},
		{ref: "op://v/i/region", code: provider.CodeAmbiguous, errHas: []string{"f_fold_1", "f_fold_2"}},
		{ref: "op://v/i/Other/region", want: "us"},
		{ref: "op://v/i/add more/extra", want: "in add more", comment: "unlabeled section by ID"},
		{ref: "op://v/i/extra", want: "in add more"},
		{ref: "op://v/i/Dup/x", want: "dup-1", comment: "two sections with one label: their fields together"},
		{ref: "op://v/i/gone/orphan", want: "o", comment: "a section only known from a field's reference"},
		{ref: "op://v/i/Nope/password", code: provider.CodeNotFound, errHas: []string{`no section "Nope"`, `"Details" (secdetails)`, "add more"}},
		{ref: "op://v/i/missing", code: provider.CodeNotFound, errHas: []string{`no field "missing"`, `"Postgres"`, `; its fields: "username", "password", "Token", "token", "one-time password"`, `"password" (section "Details")`, "and 7 more"}},
		{ref: "op://v/i/one-time password", want: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", comment: "value of an OTP field is its URI"},
		{ref: "op://v/i/one-time password?attribute=otp", want: "123456", comment: "the server's code"},
		{ref: "op://v/i/one-time password?attribute=totp", want: "123456"},
		{ref: "op://v/i/local otp?attribute=otp", want: "94287082", comment: "computed from the URI when the server sent none (RFC 6238 vector at t=59)"},
		{ref: "op://v/i/broken otp?attribute=otp", code: provider.CodeNotFound, errHas: []string{"no current code", "not an otpauth://"}},
		{ref: "op://v/i/empty otp?attribute=otp", code: provider.CodeNotFound, errHas: []string{"no current code"}},
		{ref: "op://v/i/password?attribute=otp", code: provider.CodeInvalidReference, errHas: []string{"one-time password field", "CONCEALED"}},
	}
	now := func() time.Time { return time.Unix(59, 0) }
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			r := ref(t, c.ref)
			var got []byte
			f, fl := matchField(item, r)
			if fl == nil {
				got, fl = fieldValue(item, f, r, now)
			}
			if c.want != "" {
				if fl != nil {
					t.Fatalf("%s: %v", c.comment, fl.forRef(c.ref))
				}
				if string(got) != c.want {
					t.Fatalf("got %q, want %q (%s)", got, c.want, c.comment)
				}
				return
			}
			if fl == nil {
				t.Fatalf("got %q, want a %s error", got, c.code)
			}
			if fl.code != c.code {
				t.Errorf("code %s, want %s: %s", fl.code, c.code, fl.msg)
			}
			for _, s := range c.errHas {
				if !strings.Contains(fl.msg, s) {
					t.Errorf("message lacks %q: %s", s, fl.msg)
				}
			}
			for _, secret := range []string{"top-secret", "details-secret", "JBSWY3DPEHPK3PXP", "GEZDGNBV", "not a uri at all"} {
				if strings.Contains(fl.msg, secret) {
					t.Errorf("message leaks a secret value: %s", fl.msg)
				}
			}
		})
	}
}

func TestByTitle(t *testing.T) {
	id := func(s string) string { return s }
	cases := []struct {
		cands []string
		want  string
		n     int
	}{
		{[]string{"Prod", "prod"}, "Prod", 1}, // exact first
		{[]string{"Prod", "PROD"}, "prod", 2}, // several case-insensitive: ambiguous
		{[]string{"Prod"}, "prod", 1},         // unique case-insensitive
		{[]string{"Prod", "Prod"}, "Prod", 2}, // exact duplicates: ambiguous
		{[]string{"Production"}, "Prod", 0},   // no prefix matching
		{nil, "Prod", 0},
	}
	for _, c := range cases {
		if got := byTitle(c.cands, c.want, id); len(got) != c.n {
			t.Errorf("byTitle(%q, %q) = %q, want %d matches", c.cands, c.want, got, c.n)
		}
	}
}

func TestTOTPFromURI(t *testing.T) {
	// RFC 6238 appendix B (SHA1, 8 digits): the seed is "12345678901234567890".
	const seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for _, c := range []struct {
		at   int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {2000000000, "69279037"}} {
		got, err := totpFromURI("otpauth://totp/ACME:alice?secret="+seed+"&digits=8&issuer=ACME", time.Unix(c.at, 0))
		if err != nil || got != c.want {
			t.Errorf("t=%d: got %q, %v; want %s", c.at, got, err, c.want)
		}
	}
	// Defaults: SHA1, 6 digits, 30 s; lower-case and padded secrets work.
	if got, err := totpFromURI(" OTPAUTH://TOTP/x?secret="+strings.ToLower(seed)+"== ", time.Unix(59, 0)); err != nil || got != "287082" {
		t.Errorf("defaults: got %q, %v", got, err)
	}
	// SHA256 vector from RFC 6238 (32-byte seed).
	const seed256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
	if got, err := totpFromURI("otpauth://totp/x?secret="+seed256+"&algorithm=SHA256&digits=8", time.Unix(59, 0)); err != nil || got != "46119246" {
		t.Errorf("sha256: got %q, %v", got, err)
	}
	for _, bad := range []string{
		"", "JBSWY3DPEHPK3PXP", "https://example.com/?secret=JBSWY3DPEHPK3PXP",
		"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1", "otpauth://totp/x", "otpauth://totp/x?secret=not*base32",
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=100",
		"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0", "%zz",
	} {
		if code, err := totpFromURI(bad, time.Unix(59, 0)); err == nil {
			t.Errorf("%q: got code %q, want an error", bad, code)
		} else if strings.Contains(err.Error(), "JBSWY3DPEHPK3PXP") {
			t.Errorf("error quotes the seed: %v", err)
		}
	}
}
