package emulator

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GET /v1/activity (1Password/connect docs/openapi/spec.yaml, GetApiActivity): the API
// requests the server has served, as APIRequest objects, paged with ?limit= (default 50) and
// ?offset= (default 0), the page described by a Content-Range header such as "1-50/1134".
// The emulator answers from its request log (so ResetRequests empties it too), oldest first,
// with the vault and item routes only: the unauthenticated endpoints and /v1/activity itself
// are not API activity.

const routeActivity = "/v1/activity"

type apiRequest struct {
	RequestID string      `json:"requestId"`
	Timestamp time.Time   `json:"timestamp"`
	Action    string      `json:"action"` // READ, CREATE, UPDATE, DELETE
	Result    string      `json:"result"` // SUCCESS or DENY
	Actor     apiActor    `json:"actor"`
	Resource  apiResource `json:"resource"`
}

type apiActor struct {
	UserAgent string `json:"userAgent,omitempty"`
}

type apiResource struct {
	Type  string         `json:"type"` // VAULT or ITEM
	Vault *apiResourceID `json:"vault,omitempty"`
	Item  *apiResourceID `json:"item,omitempty"`
}

type apiResourceID struct {
	ID string `json:"id"`
}

func (s *Server) activity(q url.Values) (response, *apiError) {
	limit, offset := 50, 0
	for name, dst := range map[string]*int{"limit": &limit, "offset": &offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return response{}, errorf(http.StatusBadRequest, "Invalid %s", name)
			}
			*dst = n
		}
	}
	var all []apiRequest
	for i, r := range s.Requests() {
		if !strings.HasPrefix(r.Route, "/v1/vaults") {
			continue
		}
		all = append(all, toAPIRequest(i, r))
	}
	page := []apiRequest{}
	if offset < len(all) {
		page = all[offset:min(len(all), offset+limit)]
	}
	resp := jsonResponse(page)
	first := 0
	if len(page) > 0 {
		first = offset + 1
	}
	resp.header = http.Header{"Content-Range": {fmt.Sprintf("%d-%d/%d", first, offset+len(page), len(all))}}
	return resp, nil
}

func toAPIRequest(i int, r Request) apiRequest {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%d", i, r.Path, r.Time.UnixNano()))
	id := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	out := apiRequest{RequestID: id, Timestamp: r.Time.UTC(), Action: "READ", Result: "SUCCESS",
		Actor: apiActor{UserAgent: r.UserAgent}}
	if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
		out.Result = "DENY"
	}
	segs := strings.Split(strings.Trim(r.Path, "/"), "/") // v1 vaults {v} items {i} ...
	out.Resource.Type = "VAULT"
	if len(segs) >= 3 {
		out.Resource.Vault = &apiResourceID{ID: segs[2]}
	}
	if len(segs) >= 5 {
		out.Resource.Type = "ITEM"
		out.Resource.Item = &apiResourceID{ID: segs[4]}
	}
	return out
}
