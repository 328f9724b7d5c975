package connect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/secrethost/secrethost/shared/provider"
)

// Item state (issue 12, item 6).
//
// Connect's OpenAPI spec (1Password/connect, docs/openapi/spec.yaml, schema Item) gives items a
// read-only "state" of "ARCHIVED" or "DELETED", absent for a live item. connect-sdk-go v1.5.3
// does not decode it (its Item has only a deprecated Trashed flag, "Connect does not return
// trashed items"), so the transport reads it from the item JSON itself.
//
// The rule: a deleted item never resolves. An archived one does not either: 1Password's own
// secret resolution ignores archived items (onepassword-sdk-python#180, where resolve_all
// including an archived item next to a live one of the same title was a confirmed bug, and
// secrets.resolve "ignores archived records with the same name"; `op item get` needs
// --include-archive to see them). So an archived or deleted item is skipped in title matches
// (a live item of the same title wins, and is not ambiguous with it) and not_found by ID.

// noteStates records the state of every item in a successful items response.
func (c *callState) noteStates(path string, status int, body []byte) {
	if status != http.StatusOK || !strings.Contains(path, "/items") || strings.Contains(path, "/files") {
		return
	}
	type withState struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	var list []withState
	b := bytes.TrimSpace(body)
	switch {
	case len(b) > 0 && b[0] == '[':
		_ = json.Unmarshal(b, &list)
	case len(b) > 0 && b[0] == '{':
		var one withState
		if json.Unmarshal(b, &one) == nil {
			list = append(list, one)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range list {
		if it.State == "" || it.ID == "" {
			continue
		}
		if c.states == nil {
			c.states = map[string]string{}
		}
		c.states[it.ID] = it.State
	}
}

// state is the item's state as Connect sent it in this call: "" for a live item.
func (c *callState) state(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.states[id]
}

// live drops archived and deleted items.
func live[T any](r *resolver, cands []T, id func(T) string) []T {
	out := cands[:0:0]
	for _, c := range cands {
		if r.stats.state(id(c)) == "" {
			out = append(out, c)
		}
	}
	return out
}

// stateFailure is the error for an item named by ID that is archived or deleted.
func stateFailure(state, item, vault string) *failure {
	f := fail(provider.CodeNotFound, "item %s in vault %s is %s in 1Password; archived and deleted items are not resolved, as with 1Password's own tools (restore it to use it)",
		item, vault, strings.ToLower(state))
	f.itemMissing = true
	return f
}
