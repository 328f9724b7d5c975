package opref

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestParseValid(t *testing.T) {
	const id = "abcdefghijklmnopqrstuvwxyz"
	tests := []struct {
		in   string
		want Ref
	}{
		{"op://vault/item/field", Ref{Vault: "vault", Item: "item", Field: "field"}},
		{"op://vault/item/section/field", Ref{Vault: "vault", Item: "item", Section: "section", Field: "field"}},
		{"op://Dev Vault/AWS Keys/Access Keys/access key id",
			Ref{Vault: "Dev Vault", Item: "AWS Keys", Section: "Access Keys", Field: "access key id"}},
		{"op://" + id + "/" + id + "/" + id, Ref{Vault: id, Item: id, Field: id}},
		{"op://Management/PagerDuty/add more/hu4vwo3bjkawq2uw2fkn5pkjzu",
			Ref{Vault: "Management", Item: "PagerDuty", Section: "add more", Field: "hu4vwo3bjkawq2uw2fkn5pkjzu"}},
		// Surrounding whitespace is trimmed; inner whitespace is kept.
		{"  op://v/i/f \n", Ref{Vault: "v", Item: "i", Field: "f"}},
		{"\top://v/i/s/f\r\n", Ref{Vault: "v", Item: "i", Section: "s", Field: "f"}},
		{"op:// v / i / f", Ref{Vault: " v ", Item: " i ", Field: " f"}},
		// Scheme is case-insensitive.
		{"OP://v/i/f", Ref{Vault: "v", Item: "i", Field: "f"}},
		// Percent-decoding.
		{"op://my%20vault/a%2Fb/c%25d", Ref{Vault: "my vault", Item: "a/b", Field: "c%d"}},
		{"op://v/i/%3F%23%2f", Ref{Vault: "v", Item: "i", Field: "?#/"}},
		{"op://v/i/f%20", Ref{Vault: "v", Item: "i", Field: "f "}},
		{"op://v%C3%A9/i/f", Ref{Vault: "vé", Item: "i", Field: "f"}},
		// Other characters are literal, including "+" and a quote in a
		// section or field (matched client-side, never in a filter).
		{"op://v-1_x.y/i+j (prod)/s\"q\"/f=g&h", Ref{Vault: "v-1_x.y", Item: "i+j (prod)", Section: `s"q"`, Field: "f=g&h"}},
		{"op://Ünïcødé/日本/f", Ref{Vault: "Ünïcødé", Item: "日本", Field: "f"}},
		// Query.
		{"op://v/i/one-time password?attribute=otp", Ref{Vault: "v", Item: "i", Field: "one-time password", Attribute: AttrOTP}},
		{"op://v/i/s/f?attribute=totp", Ref{Vault: "v", Item: "i", Section: "s", Field: "f", Attribute: AttrOTP}},
		{"op://v/i/f?attr=OTP", Ref{Vault: "v", Item: "i", Field: "f", Attribute: AttrOTP}},
		{"op://v/i/f?attr=ToTp", Ref{Vault: "v", Item: "i", Field: "f", Attribute: AttrOTP}},
		{"op://v/i/f?Attribute=otp", Ref{Vault: "v", Item: "i", Field: "f", Attribute: AttrOTP}},
		{"op://v/i/f?attribute=value", Ref{Vault: "v", Item: "i", Field: "f"}},
		{"op://v/i/f?attribute=%6Ftp", Ref{Vault: "v", Item: "i", Field: "f", Attribute: AttrOTP}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if got.HasSection() != (tt.want.Section != "") {
			t.Errorf("Parse(%q).HasSection() = %v", tt.in, got.HasSection())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in     string
		part   string
		reason string // substring of Reason
	}{
		// Scheme.
		{"", PartScheme, `must start with "op://"`},
		{"   ", PartScheme, `must start with "op://"`},
		{"vault/item/field", PartScheme, `must start with "op://"`},
		{"op:/vault/item/field", PartScheme, `must start with "op://"`},
		{"op:vault/item/field", PartScheme, `must start with "op://"`},
		{"https://vault/item/field", PartScheme, `must start with "op://"`},
		// Segment count.
		{"op://", PartWhole, "found 1 segment"},
		{"op://vault", PartWhole, "found 1 segment"},
		{"op://a/b", PartWhole, "expected op://<vault>/<item>/[<section>/]<field>, found 2 segments"},
		{"op://a/b?attribute=otp", PartWhole, "found 2 segments"},
		{"op://a/b/c/d/e", PartWhole, `found 5 segments (write a "/" inside a name as %2F)`},
		{"op://a/b/c/d/e/f", PartWhole, "found 6 segments"},
		// Empty segments.
		{"op:///i/f", PartVault, "vault is empty"},
		{"op://v//f", PartItem, "item is empty"},
		{"op://v/i//f", PartSection, "section is empty"},
		{"op://v/i/f/", PartField, "field is empty"},
		{"op://v/i/", PartField, "field is empty"},
		{"op://v/i/?attribute=otp", PartField, "field is empty"},
		// Percent-encoding.
		{"op://v%/i/f", PartVault, `vault has bad percent-encoding "%"`},
		{"op://v/i%2/f", PartItem, `item has bad percent-encoding "%2"`},
		{"op://v/i/s/f%zz", PartField, `field has bad percent-encoding "%zz"`},
		{"op://v/i/s%G0/f", PartSection, `bad percent-encoding "%G0"`},
		{"op://v/i/f%FF", PartField, "not valid UTF-8 after percent-decoding"},
		{"op://v/i/f?attr=%zz", PartQuery, `query has bad percent-encoding "%zz"`},
		// Control characters and bad UTF-8.
		{"op://v/i\x00/f", PartWhole, "control character U+0000"},
		{"op://v/i/s\tx/f", PartWhole, "control character U+0009"},
		{"op://v/i\n/f", PartWhole, "control character U+000A"},
		{"op://v/i/f\x7f", PartWhole, "control character U+007F"},
		{"op://v/i/f\u0085x", PartWhole, "control character U+0085"},
		{"op://v/i%0A/f", PartItem, "item contains control character U+000A"},
		{"op://v/i/f%00", PartField, "control character U+0000"},
		{"op://v/\xff/f", PartWhole, "not valid UTF-8"},
		// Double quotes in vault and item names.
		{`op://My "Vault"/i/f`, PartVault, "vault name contains a double quote"},
		{`op://v/"i"/f`, PartItem, "refer to the item by its ID instead"},
		{`op://v%22/i/f`, PartVault, "refer to the vault by its ID instead"},
		// Fragments.
		{"op://v/i/f#frag", PartWhole, "fragments"},
		{"op://v/i/f?attribute=otp#x", PartWhole, "fragments"},
		{"op://v/i#/f", PartWhole, `write a "#" inside a name as %23`},
		// Query.
		{"op://v/i/f?", PartQuery, `empty query after "?"`},
		{"op://v/i/f?attribute=otp&", PartQuery, "empty query parameter"},
		{"op://v/i/f?attribute=color", PartQuery, `unsupported attribute "color": fields have type, value, id, purpose, title (or label), otp (or totp); files have type, content, size, id, name`},
		{"op://v/i/f?attribute=hotp", PartQuery, `unsupported attribute "hotp"`},
		{"op://v/i/f?attribute=", PartQuery, "attribute has no value: use attribute=otp"},
		{"op://v/i/f?attr", PartQuery, "attr has no value"},
		{"op://v/i/f?ssh-format=pkcs8", PartQuery, `unsupported ssh-format "pkcs8": only "openssh" is supported`},
		{"op://v/i/f?ssh-format=openssh&ssh-format=openssh", PartQuery, "ssh-format given more than once"},
		{"op://v/i/f?attribute=otp&ssh-format=openssh", PartQuery, "ssh-format applies to an SSH key's private key value, not to attribute otp"},
		{"op://v/i/f?format=openssh", PartQuery, `unknown query parameter "format": only "attribute" (or "attr") and "ssh-format" are supported`},
		{"op://v/i/f?otp", PartQuery, `unknown query parameter "otp"`},
		{"op://v/i/f?attribute=otp&attribute=otp", PartQuery, `attribute given more than once (as "attribute" and "attribute")`},
		{"op://v/i/f?attr=otp&attribute=totp", PartQuery, `attribute given more than once (as "attr" and "attribute")`},
		{"op://v/i/f?attribute=otp?x", PartQuery, `unsupported attribute "otp?x"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want one about %s", tt.in, tt.reason)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q): error %v does not match ErrInvalid", tt.in, err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q): error %T is not *Error", tt.in, err)
			continue
		}
		if e.Part != tt.part {
			t.Errorf("Parse(%q): Part = %q, want %q (%v)", tt.in, e.Part, tt.part, err)
		}
		if !strings.Contains(e.Reason, tt.reason) {
			t.Errorf("Parse(%q): Reason = %q, want it to contain %q", tt.in, e.Reason, tt.reason)
		}
		if tt.part != PartScheme && e.Ref != strings.TrimSpace(tt.in) {
			t.Errorf("Parse(%q): Ref = %q, want the trimmed input", tt.in, e.Ref)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"op://a/b", `invalid secret reference "op://a/b": expected op://<vault>/<item>/[<section>/]<field>, found 2 segments`},
		{" op://v//f ", `invalid secret reference "op://v//f": item is empty`},
		{`op://v/My "Item"/f`, `invalid secret reference "op://v/My \"Item\"/f": item name contains a double quote ("), which cannot be looked up by name: refer to the item by its ID instead`},
		{"op://v/i/f?attribute=color", `invalid secret reference "op://v/i/f?attribute=color": unsupported attribute "color": fields have type, value, id, purpose, title (or label), otp (or totp); files have type, content, size, id, name`},
		{"op://v/i\n/f", `invalid secret reference "op://v/i\n/f": contains control character U+000A`},
		{"https://example.com/x", `invalid secret reference: secret reference must start with "op://"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error:\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

// Input without the op:// scheme may be a secret pasted in the wrong place;
// it must not be echoed.
func TestSchemeErrorDoesNotEchoInput(t *testing.T) {
	for _, in := range []string{"ghp_s3cr3tT0ken", "s3cr3t://not-a-scheme/x", "eyJhbGciOi.s3cr3t"} {
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q): no error", in)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Parse(%q): error echoes the input: %v", in, err)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	refs := []Ref{
		{Vault: "v", Item: "i", Field: "f"},
		{Vault: "v", Item: "i", Section: "s", Field: "f", Attribute: AttrOTP},
		{Vault: "a/b", Item: "50% off?", Section: "#1", Field: "x/y%2Fz"},
		{Vault: " lead", Item: "trail ", Section: "\u00a0nbsp\u00a0", Field: "end "},
		{Vault: "Dev Vault", Item: "AWS", Field: "one-time password", Attribute: AttrOTP},
		{Vault: "v", Item: "i", Field: "f=g&h+k"},
		{Vault: "日本", Item: "é", Section: `"s"`, Field: "f"},
	}
	for _, r := range refs {
		s := r.String()
		got, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q) (from %#v): %v", s, r, err)
			continue
		}
		if got != r {
			t.Errorf("Parse(%q) = %#v, want %#v", s, got, r)
		}
	}
}

func TestStringCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"op://v/i/f", "op://v/i/f"},
		{"OP://v/i/f?attr=TOTP", "op://v/i/f?attribute=otp"},
		{"op://v/i/f?attribute=value", "op://v/i/f"},
		{"op://my%20vault/a%2fb/s/c%25d", "op://my vault/a%2Fb/s/c%25d"},
		{"op://v/i/f%20", "op://v/i/f%20"},
		{"op://v/i/%3F%23", "op://v/i/%3F%23"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := r.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsID(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"abcdefghijklmnopqrstuvwxyz", true},
		{"hu4vwo3bjkawq2uw2fkn5pkjzu", true},
		{"01234567890123456789012345", true},
		{"abcdefghijklmnopqrstuvwxy", false},   // 25
		{"abcdefghijklmnopqrstuvwxyz0", false}, // 27
		{"Abcdefghijklmnopqrstuvwxyz", false},  // uppercase
		{"abcdefghijklmnopqrstuvwxy-", false},
		{"abcdefghijklmnopqrstuvwxy ", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsID(tt.s); got != tt.want {
			t.Errorf("IsID(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestAttributeString(t *testing.T) {
	if AttrValue.String() != "value" || AttrOTP.String() != "otp" || Attribute(70).String() != "Attribute(70)" {
		t.Errorf("Attribute.String: %s %s %s", AttrValue, AttrOTP, Attribute(70))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"op://v/i/f",
		"op://Dev Vault/AWS Keys/Access Keys/access key id?attribute=otp",
		"op://a%2Fb/c%25d/%20f%20?attr=TOTP",
		"  OP://v/i/s/f\n",
		`op://v/i/"s"/f`,
		"op://v/i/f#x",
		"op://a/b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %v (%T) is not an *Error matching ErrInvalid", s, err, err)
			}
			if e.Reason == "" {
				t.Fatalf("Parse(%q): empty Reason", s)
			}
			return
		}
		if ref.Vault == "" || ref.Item == "" || ref.Field == "" {
			t.Fatalf("Parse(%q) = %#v: empty part", s, ref)
		}
		if strings.Contains(ref.Vault, `"`) || strings.Contains(ref.Item, `"`) {
			t.Fatalf("Parse(%q) = %#v: double quote in vault or item", s, ref)
		}
		for _, p := range []string{ref.Vault, ref.Item, ref.Section, ref.Field} {
			if strings.IndexFunc(p, unicode.IsControl) >= 0 {
				t.Fatalf("Parse(%q) = %#v: control character in a part", s, ref)
			}
		}
		canon := ref.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, but Parse(String() = %q) failed: %v", s, ref, canon, err)
		}
		if again != ref {
			t.Fatalf("round trip of %q via %q: got %#v, want %#v", s, canon, again, ref)
		}
		if again.String() != canon {
			t.Fatalf("String() not canonical: %q then %q", canon, again.String())
		}
	})
}

// TestDocumentedQueries: every attribute 1Password documents for fields and
// files, and ssh-format=openssh, parse to the right Ref and round-trip
// through String.
func TestDocumentedQueries(t *testing.T) {
	tests := []struct {
		in   string
		attr Attribute
		ssh  string
	}{
		{"op://v/i/f?attribute=type", AttrType, ""},
		{"op://v/i/f?attribute=value", AttrValue, ""},
		{"op://v/i/f?attribute=id", AttrID, ""},
		{"op://v/i/f?attribute=purpose", AttrPurpose, ""},
		{"op://v/i/f?attribute=title", AttrTitle, ""},
		{"op://v/i/f?attribute=label", AttrTitle, ""},
		{"op://v/i/f?attribute=otp", AttrOTP, ""},
		{"op://v/i/f?attribute=TOTP", AttrOTP, ""},
		{"op://v/i/file.pem?attribute=content", AttrContent, ""},
		{"op://v/i/file.pem?attribute=size", AttrSize, ""},
		{"op://v/i/file.pem?attr=name", AttrName, ""},
		{"op://v/i/private key?ssh-format=openssh", AttrValue, SSHFormatOpenSSH},
		{"op://v/i/private key?ssh-format=OpenSSH&attribute=value", AttrValue, SSHFormatOpenSSH},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if r.Attribute != tt.attr || r.SSHFormat != tt.ssh {
			t.Errorf("Parse(%q) = attribute %s, ssh-format %q; want %s, %q", tt.in, r.Attribute, r.SSHFormat, tt.attr, tt.ssh)
		}
		back, err := Parse(r.String())
		if err != nil || back != r {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v; want %+v", tt.in, r.String(), back, err, r)
		}
	}
}
