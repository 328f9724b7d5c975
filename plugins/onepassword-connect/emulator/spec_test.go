package emulator

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// specOp is one GET operation of 1Password's OpenAPI spec for Connect
// (github.com/1Password/connect, docs/openapi/spec.yaml, API version 1.7.1, read at commit
// bad1808c6d57277f9098ef93818b43c74bde539a): its path under the server URL (which ends in
// /v1 for the API routes), its query parameters, its documented response statuses, the
// content type of its 200 answer and the properties of that answer's objects. The spec is
// 1Password's; the table holds facts read from it, and TestSpecTable checks the table
// against the spec itself whenever a copy is at hand.
type specOp struct {
	path     string
	query    []string
	statuses []int
	ok       string   // content type of the 200 answer
	props    []string // properties of the 200 answer's objects (array elements for lists)
}

var (
	vaultProps = []string{"attributeVersion", "contentVersion", "createdAt", "description", "id", "items", "name", "type", "updatedAt"}
	itemProps  = []string{"category", "createdAt", "favorite", "id", "lastEditedBy", "state", "tags", "title", "updatedAt", "urls", "vault", "version"}
	fullProps  = append(slices.Clone(itemProps), "fields", "files", "sections")
	fileProps  = []string{"content", "content_path", "id", "name", "section", "size"}
)

var specOps = []specOp{
	{"/v1/activity", []string{"limit", "offset"}, []int{200, 401}, "application/json", []string{"action", "actor", "requestId", "resource", "result", "timestamp"}},
	{"/v1/vaults", []string{"filter"}, []int{200, 401}, "application/json", vaultProps},
	{"/v1/vaults/{vaultUuid}", nil, []int{200, 401, 403, 404}, "application/json", vaultProps},
	{"/v1/vaults/{vaultUuid}/items", []string{"filter"}, []int{200, 401, 404}, "application/json", itemProps},
	{"/v1/vaults/{vaultUuid}/items/{itemUuid}", nil, []int{200, 401, 403, 404}, "application/json", fullProps},
	{"/v1/vaults/{vaultUuid}/items/{itemUuid}/files", []string{"inline_files"}, []int{200, 401, 404, 413}, "application/json", fileProps},
	{"/v1/vaults/{vaultUuid}/items/{itemUuid}/files/{fileUuid}", []string{"inline_files"}, []int{200, 401, 403, 404, 413}, "application/json", fileProps},
	{"/v1/vaults/{vaultUuid}/items/{itemUuid}/files/{fileUuid}/content", nil, []int{200, 401, 404}, "application/octet-stream", nil},
	{"/heartbeat", nil, []int{200}, "text/plain", nil},
	{"/health", nil, []int{200}, "application/json", []string{"dependencies", "name", "version"}},
	{"/metrics", nil, []int{200}, "text/plain", nil},
}

// Keys the emulator sends beyond the spec, each because real Connect servers send it.
var extraKeys = map[string]string{
	"additionalInformation": "item summaries from real servers carry it (a login's username, for example)",
}

// Statuses the emulator answers that the spec leaves out for an operation, and why.
var extraStatuses = map[string]string{
	"403": "a vault the token may not read is 403 on every vault route; the spec lists 403 only on some",
	"400": "a malformed vault, item or file ID is 400 (Invalid Vault/Item/File UUID), as Connect answers and connect-sdk-go expects; the spec lists no 400",
}

// TestEmulatorFollowsSpec: every GET route of the spec answers 200 with the documented
// content type and only documented keys (plus extraKeys), and the error answers it gives
// are among the documented statuses (plus extraStatuses).
func TestEmulatorFollowsSpec(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	base := srv.URL()
	fill := func(p string) string {
		return strings.NewReplacer("{vaultUuid}", fx.demo.ID, "{itemUuid}", fx.postgres.ID, "{fileUuid}", fx.caFile.ID).Replace(p)
	}
	_, _, _ = get(t, base, "/v1/vaults", testToken) // some activity to list
	for _, op := range specOps {
		path := fill(op.path)
		token := testToken
		if !strings.HasPrefix(op.path, "/v1/") {
			token = ""
		}
		status, h, body := get(t, base, path, token)
		if status != 200 {
			t.Errorf("GET %s: %d, want 200: %s", op.path, status, body)
			continue
		}
		if ct, _, _ := strings.Cut(h.Get("Content-Type"), ";"); ct != op.ok {
			t.Errorf("GET %s: Content-Type %q, want %q", op.path, ct, op.ok)
		}
		if op.props != nil {
			checkKeys(t, op, body)
		}
		if !strings.HasPrefix(op.path, "/v1/") {
			continue
		}
		// Errors: no token, an unknown vault, a vault the token may not read.
		cases := map[string]string{"no token": path}
		if strings.Contains(op.path, "{vaultUuid}") {
			cases["unknown vault"] = strings.Replace(path, fx.demo.ID, NewID("no such vault"), 1)
			cases["ungranted vault"] = strings.NewReplacer(fx.demo.ID, fx.ops.ID).Replace(path)
		}
		if strings.Contains(op.path, "{itemUuid}") {
			cases["unknown item"] = strings.Replace(path, fx.postgres.ID, NewID("no such item"), 1)
			cases["malformed item ID"] = strings.Replace(path, fx.postgres.ID, "not-an-id", 1)
		}
		for name, p := range cases {
			tok := testToken
			if name == "no token" {
				tok = ""
			}
			status, _, body := get(t, base, p, tok)
			if !slices.Contains(op.statuses, status) && extraStatuses[itoa(status)] == "" {
				t.Errorf("GET %s (%s): %d, which the spec does not list (%v): %s", op.path, name, status, op.statuses, body)
			}
			if status < 400 {
				t.Errorf("GET %s (%s): %d, want an error", op.path, name, status)
			}
		}
	}
	// Paging of /v1/activity.
	status, h, body := get(t, base, "/v1/activity?limit=1&offset=0", testToken)
	var page []map[string]any
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page) != 1 || !strings.HasPrefix(h.Get("Content-Range"), "1-1/") {
		t.Errorf("activity page: %d %q %s", status, h.Get("Content-Range"), body)
	}
}

func checkKeys(t *testing.T, op specOp, body []byte) {
	t.Helper()
	var objs []map[string]json.RawMessage
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &objs); err != nil {
			t.Errorf("GET %s: %v", op.path, err)
			return
		}
		if len(objs) == 0 {
			t.Errorf("GET %s: empty list, nothing to check", op.path)
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(b, &one); err != nil {
			t.Errorf("GET %s: %v", op.path, err)
			return
		}
		objs = append(objs, one)
	}
	for _, o := range objs {
		for k := range o {
			if !slices.Contains(op.props, k) && extraKeys[k] == "" {
				t.Errorf("GET %s: key %q is not in the spec's schema %v", op.path, k, op.props)
			}
		}
	}
}

// TestSpecTable checks specOps against 1Password's spec itself: from
// CONNECT_OPENAPI_SPEC if set, else from a snapshot of the 1Password/connect repository next
// to the module (as the lead keeps in /work/.mirror). It skips when neither is there.
func TestSpecTable(t *testing.T) {
	raw := loadSpec(t)
	var spec struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for p, ops := range spec.Paths {
		node, ok := ops["get"]
		if !ok {
			continue
		}
		full := p
		if p != "/heartbeat" && p != "/health" && p != "/metrics" {
			full = "/v1" + p
		}
		seen[full] = true
		i := slices.IndexFunc(specOps, func(o specOp) bool { return o.path == full })
		if i < 0 {
			t.Errorf("the spec has GET %s, the table does not", full)
			continue
		}
		var g struct {
			Parameters []struct{ In, Name string } `yaml:"parameters"`
			Responses  map[string]struct {
				Content map[string]any `yaml:"content"`
			} `yaml:"responses"`
		}
		if err := node.Decode(&g); err != nil {
			t.Fatal(err)
		}
		var q []string
		for _, par := range g.Parameters {
			if par.In == "query" {
				q = append(q, par.Name)
			}
		}
		var st []int
		for code := range g.Responses {
			st = append(st, atoi(code))
		}
		slices.Sort(st)
		if !slices.Equal(q, specOps[i].query) || !slices.Equal(st, specOps[i].statuses) {
			t.Errorf("GET %s: spec has query %v statuses %v; table %v %v", full, q, st, specOps[i].query, specOps[i].statuses)
		}
		if ct := slices.Sorted(maps.Keys(g.Responses["200"].Content)); len(ct) != 1 || ct[0] != specOps[i].ok {
			t.Errorf("GET %s: spec's 200 content types %v, table %q", full, ct, specOps[i].ok)
		}
	}
	for _, op := range specOps {
		if !seen[op.path] {
			t.Errorf("the table has GET %s, the spec does not", op.path)
		}
	}
}

func loadSpec(t *testing.T) []byte {
	t.Helper()
	if p := os.Getenv("CONNECT_OPENAPI_SPEC"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, repo := range []string{"/work/.mirror/1Password+connect/repo"} {
		if b, err := exec.Command("git", "-C", repo, "show", "HEAD:docs/openapi/spec.yaml").Output(); err == nil {
			return b
		}
	}
	t.Skip("no copy of 1Password's Connect OpenAPI spec (set CONNECT_OPENAPI_SPEC)")
	return nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

var _ = http.StatusOK
