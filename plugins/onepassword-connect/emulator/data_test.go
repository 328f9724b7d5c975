package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	d, err := Parse([]byte(`{
	  "vaults": [{"id": "abcdefghijklmnopqrstuvwxyz", "name": "Demo", "items": [{
	    "id": "0123456789abcdefghijklmnop", "title": "Doc", "category": "DOCUMENT",
	    "vault": {"id": "abcdefghijklmnopqrstuvwxyz"},
	    "sections": [{"id": "add more"}],
	    "fields": [{"id": "f1", "section": {"id": "add more"}, "type": "OTP", "value": "x", "totp": "123456"}],
	    "files": [
	      {"id": "file1file1file1file1file1f", "name": "a.bin", "content": "AAEC", "size": 999, "content_path": "ignored"},
	      {"id": "file2file2file2file2file2f", "name": "b.txt", "contentText": "hello", "section": {"id": "add more"}}
	    ]
	  }]}],
	  "tokens": {"t1": ["abcdefghijklmnopqrstuvwxyz"], "t2": ["*"]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Vaults[0].Items[0].Files[0].Content; !reflect.DeepEqual(got, []byte{0, 1, 2}) {
		t.Errorf("base64 content decoded to %v", got)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := srv.Item("abcdefghijklmnopqrstuvwxyz", "0123456789abcdefghijklmnop")
	if f := it.Files[0]; f.Size != 3 || f.ContentPath != contentPath(d.Vaults[0].ID, it.ID, "file1file1file1file1file1f") {
		t.Errorf("file not normalised: %+v", f)
	}
	if f := it.Files[1]; string(f.Content) != "hello" || f.Size != 5 || f.ContentText != "" {
		t.Errorf("contentText not turned into content: %+v", f)
	}
	if it.Fields[0].TOTP != "" {
		t.Error("a seeded totp survived")
	}
}

// TestParseConnectShapedItem: an item as a real Connect server returns it (GET .../items/{id}
// with vault.name and additionalInformation, plus a key nobody models) is valid seed data, and
// the emulator serves vault.name and additionalInformation back.
func TestParseConnectShapedItem(t *testing.T) {
	d, err := Parse([]byte(`{"vaults": [{"id": "abcdefghijklmnopqrstuvwxyz", "name": "Demo", "items": [{
	    "id": "0123456789abcdefghijklmnop", "title": "Doc", "category": "LOGIN",
	    "vault": {"id": "abcdefghijklmnopqrstuvwxyz", "name": "Demo"},
	    "additionalInformation": "alice", "someFutureKey": {"x": 1},
	    "fields": [{"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username", "value": "alice", "reference": "op://Demo/Doc/username"}],
	    "files": [{"id": "abcdefghijklmnopqrstuvwxy0", "name": "a.txt", "contentText": "x", "extra": true}]
	  }]}], "tokens": {"t": ["*"]}}`))
	if err != nil {
		t.Fatalf("a Connect-shaped item was refused: %v", err)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := srv.Item("abcdefghijklmnopqrstuvwxyz", "0123456789abcdefghijklmnop")
	if it.Vault.Name != "Demo" || it.AdditionalInformation != "alice" {
		t.Errorf("vault.name/additionalInformation not kept: %+v", it)
	}
	b, _ := json.Marshal(it)
	if !strings.Contains(string(b), `"additionalInformation":"alice"`) || !strings.Contains(string(b), `"name":"Demo"`) {
		t.Errorf("not sent back: %s", b)
	}
}

func TestParseInvalid(t *testing.T) {
	const v1 = "abcdefghijklmnopqrstuvwxyz"
	const i1 = "0123456789abcdefghijklmnop"
	for name, c := range map[string]struct{ json, want string }{
		"syntax":        {`{"vaults": [`, "decoding seed data"},
		"unknown key":   {`{"vaults": [], "vault": []}`, `unknown field "vault"`},
		"trailing":      {`{"vaults": []} {}`, "trailing data"},
		"bad vault id":  {`{"vaults": [{"id": "ABC", "name": "V"}]}`, `id "ABC" must be 26 lowercase`},
		"dup vault id":  {`{"vaults": [{"id": "` + v1 + `", "name": "A"}, {"id": "` + v1 + `", "name": "B"}]}`, "duplicate vault id"},
		"no vault name": {`{"vaults": [{"id": "` + v1 + `"}]}`, "name is required"},
		"bad item id":   {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "short", "title": "t", "category": "LOGIN"}]}]}`, `id "short"`},
		"dup item id": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [
			{"id": "` + i1 + `", "title": "a", "category": "LOGIN"}, {"id": "` + i1 + `", "title": "b", "category": "LOGIN"}]}]}`, "duplicate item id"},
		"no category":     {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t"}]}]}`, "category is required"},
		"no title":        {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "category": "LOGIN"}]}]}`, "title is required"},
		"wrong vault ref": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN", "vault": {"id": "` + i1 + `"}}]}]}`, "does not match"},
		"dangling section": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN",
			"fields": [{"id": "f", "type": "STRING", "section": {"id": "nope"}}]}]}]}`, `section "nope" is not among`},
		"dup field": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN",
			"fields": [{"id": "f", "type": "STRING"}, {"id": "f", "type": "STRING"}]}]}]}`, "duplicate field id"},
		"both contents": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN",
			"files": [{"id": "` + i1 + `", "name": "n", "content": "AAEC", "contentText": "x"}]}]}]}`, "not both"},
		"bad base64": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN",
			"files": [{"id": "f", "name": "n", "content": "!!"}]}]}]}`, "decoding seed data"},
		"short file id": {`{"vaults": [{"id": "` + v1 + `", "name": "V", "items": [{"id": "` + i1 + `", "title": "t", "category": "LOGIN",
			"files": [{"id": "f1", "name": "n", "contentText": "x"}]}]}]}`, `id "f1" must be 26 lowercase`},
		"grant unknown vault": {`{"vaults": [], "tokens": {"secret-token-value": ["` + v1 + `"]}}`, "not in the data"},
	} {
		_, err := Parse([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-token-value") {
			t.Errorf("%s: error message contains the token", name)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`{"vaults": [{"id": "A", "name": ""}, {"id": "B", "name": "x"}]}`))
	if err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Errorf("want three problems, got %v", err)
	}
}

func TestLoadDemoData(t *testing.T) {
	path := filepath.Join("..", "..", "..", "examples", "demo", "connect-data.json")
	d, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Vaults) != 2 || d.Vaults[0].Name != "Demo" || d.Vaults[1].Name != "Ops" {
		t.Fatalf("vaults: %+v", d.Vaults)
	}
	grant := d.Tokens["demo-token"]
	if len(grant) != 1 || grant[0] != d.Vaults[0].ID {
		t.Errorf("demo-token grants %v, want only Demo", grant)
	}
	titles := map[string]*Item{}
	for _, it := range d.Vaults[0].Items {
		titles[it.Title] = it
	}
	if titles["Postgres"] == nil || titles["GitHub"] == nil || titles["API"] == nil {
		t.Fatalf("items: %v", titles)
	}
	var otp *Field
	for _, f := range titles["GitHub"].Fields {
		if f.Label == "one-time password" {
			otp = f
		}
	}
	if otp == nil || otp.Type != "OTP" {
		t.Fatal("GitHub lacks an OTP field labelled 'one-time password'")
	}
	if _, ok := totpCode(otp.Value, fixedNow); !ok {
		t.Error("the demo OTP seed does not produce a code")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(2, 5), Generate(2, 5)
	if !reflect.DeepEqual(a, b) {
		t.Error("Generate is not deterministic")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.Vaults) != 2 || len(a.Vaults[1].Items) != 5 || a.Vaults[1].Items[4].Title != "Item 004" {
		t.Errorf("shape: %d vaults", len(a.Vaults))
	}
	it := a.Vaults[0].Items[0]
	if len(it.Fields) != 6 || len(it.Sections) != 1 || len(it.Files) != 1 {
		t.Errorf("item: %+v", it)
	}
	if len(Generate(0, 0).Vaults) != 0 || len(Generate(-1, 3).Vaults) != 0 {
		t.Error("non-positive counts")
	}
	// Round trip through JSON: generated data is valid seed data.
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(raw); err != nil {
		t.Errorf("generated data does not parse back: %v", err)
	}
}

func TestNewID(t *testing.T) {
	if id := NewID("x"); !ValidID(id) || id != NewID("x") || id == NewID("y") {
		t.Errorf("NewID: %q", id)
	}
	for _, bad := range []string{"", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxy", "abcdefghijklmnopqrstuvwxyz1", "abcdefghijklmnopqrstuvwxy-"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}
