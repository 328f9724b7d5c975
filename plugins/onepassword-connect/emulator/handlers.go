package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	versionHeader = "1Password-Connect-Version"

	// Messages seen from real Connect servers (brief §1.7).
	msgInvalidToken  = "Invalid bearer token"
	msgNoVaultAccess = "Authorization: token does not have access to vault"
)

// Route patterns, also used as the "route" label in /metrics.
const (
	routeHeartbeat = "/heartbeat"
	routeHealth    = "/health"
	routeMetrics   = "/metrics"
	routeVaults    = "/v1/vaults"
	routeVault     = "/v1/vaults/{vaultUuid}"
	routeItems     = "/v1/vaults/{vaultUuid}/items"
	routeItem      = "/v1/vaults/{vaultUuid}/items/{itemUuid}"
	routeFiles     = "/v1/vaults/{vaultUuid}/items/{itemUuid}/files"
	routeFile      = "/v1/vaults/{vaultUuid}/items/{itemUuid}/files/{fileUuid}"
	routeContent   = "/v1/vaults/{vaultUuid}/items/{itemUuid}/files/{fileUuid}/content"
)

// routes holds every pattern split into segments; "{...}" segments match any value.
var routes = func() [][]string {
	var out [][]string
	for _, p := range []string{routeHeartbeat, routeHealth, routeMetrics, routeActivity, routeVaults, routeVault,
		routeItems, routeItem, routeFiles, routeFile, routeContent} {
		out = append(out, strings.Split(p, "/"))
	}
	return out
}()

// matchRoute finds the pattern for path and the values of its {placeholders}, in order. A
// hand-rolled matcher rather than http.ServeMux keeps every miss a JSON error (the mux answers
// 404/405 in plain text and redirects unclean paths such as "//v1/vaults").
//
// One trailing slash on a path is ignored: 1Password's JavaScript SDK (connect-sdk-js, every
// release up to 1.4.2) sends its collection paths as "v1/vaults/", "v1/vaults/{id}/items/" and
// "…/items/{id}/files/", and a real Connect server answers them like the slash-less form.
func matchRoute(path string) (string, []string) {
	if len(path) > 1 && strings.HasSuffix(path, "/") && !strings.HasSuffix(path, "//") {
		path = path[:len(path)-1]
	}
	segs := strings.Split(path, "/")
	for _, pattern := range routes {
		if params, ok := matchSegments(pattern, segs); ok {
			return strings.Join(pattern, "/"), params
		}
	}
	return "", nil
}

func matchSegments(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		switch {
		case strings.HasPrefix(p, "{"):
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// response is a complete reply, built before anything is written so that faults can send a
// damaged copy of the real thing.
type response struct {
	status      int
	contentType string
	header      http.Header // extra headers
	body        []byte
}

// apiError is a Connect error reply: {"status": N, "message": "..."}. The SDK copies "status"
// into its error, so it must equal the HTTP status.
type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func errorResponse(status int, msg string) response {
	b, _ := json.Marshal(apiError{Status: status, Message: msg}) // cannot fail
	return response{status: status, contentType: "application/json", body: b}
}

func (e *apiError) response() response { return errorResponse(e.Status, e.Message) }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// jsonResponse encodes v without HTML escaping, so "&" in an otpauth URI stays "&" rather
// than "\u0026" (both are valid JSON; this matches what people see from Connect).
func jsonResponse(v any) response {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return errorResponse(http.StatusInternalServerError, "Something went wrong")
	}
	return response{status: http.StatusOK, contentType: "application/json", body: bytes.TrimSuffix(b.Bytes(), []byte("\n"))}
}

// ServeHTTP serves one request: global latency, then any fault, then the route. X-B3-*
// tracing headers, Content-Type and Accept are ignored, as no Connect behaviour depends on them.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for { // raise the high-water mark; this only loops if another request raced us
		m := s.maxIn.Load()
		if n <= m || s.maxIn.CompareAndSwap(m, n) {
			break
		}
	}

	_, hasToken := bearerToken(r)
	req := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Time: start,
		TokenPresent: hasToken, UserAgent: r.UserAgent()}

	sleep(r, s.latency)
	fault := s.takeFault(r)
	if fault != nil {
		req.Fault = fault.Kind
		if fault.Kind == FaultDelay {
			sleep(r, fault.Delay)
		}
	}
	route, resp := s.handle(r)
	if fault != nil {
		resp = faultResponse(fault, resp)
	}
	req.Route = route
	req.Status = resp.status
	if fault != nil && fault.Kind == FaultGoAway {
		req.Status = 0
	}
	req.Duration = time.Since(start)
	// Log (and run the OnRequest hook) before the client can see the response, so a test that
	// mutates data in the hook is guaranteed to affect the client's next request.
	s.record(req)
	s.write(w, resp, fault)
}

// setVersion adds the 1Password-Connect-Version header. Go sends it in canonical form,
// "1password-Connect-Version"; header names are case-insensitive, and writing the map key raw
// to keep Connect's spelling would break Header.Get for in-process callers
// (httptest.ResponseRecorder).
func setVersion(h http.Header) { h.Set(versionHeader, ConnectVersion) }

// sleep waits d, or less if the client goes away.
func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// write sends resp, or breaks the connection as fault says.
func (s *Server) write(w http.ResponseWriter, resp response, fault *Fault) {
	if fault != nil {
		switch fault.Kind {
		case FaultReset:
			breakMidBody(w, resp, true)
			return
		case FaultTruncate:
			breakMidBody(w, resp, false)
			return
		case FaultGoAway:
			s.goAway(w)
			return
		}
	}
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	setVersion(h)
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// breakMidBody sends the status line, headers with the full Content-Length and the first half
// of the body straight onto the connection, then closes it: with a TCP reset (RST) if reset,
// else with an orderly close (FIN), which reads as a truncated body.
func breakMidBody(w http.ResponseWriter, resp response, reset bool) {
	declared := max(len(resp.body), 1) // an empty body could not be cut short
	partial := resp.body[:len(resp.body)/2]
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not a real connection (e.g. httptest.ResponseRecorder): the closest we can get is a
		// short body under the full Content-Length.
		setVersion(w.Header())
		w.Header().Set("Content-Type", resp.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(declared))
		w.WriteHeader(resp.status)
		_, _ = w.Write(partial)
		return
	}
	defer conn.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	h := http.Header{}
	for k, vs := range resp.header {
		h[k] = vs
	}
	setVersion(h)
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(declared))
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(partial)
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(b.Bytes()); err != nil {
		return
	}
	if reset {
		// Give the client a moment to read the headers, so the reset lands mid-body rather
		// than before the response, then make Close send RST instead of FIN.
		time.Sleep(50 * time.Millisecond)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
}

// goAway drops the current connection without a response and shuts the listener down. The
// listener closes first, so a client that reacts to the dropped connection by retrying
// straight away is refused rather than accepted by a listener about to vanish.
func (s *Server) goAway(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	_ = s.Close()
	if err != nil {
		// Served through someone else's listener: all we can do is fail this request.
		setVersion(w.Header())
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bearerToken extracts the token from "Authorization: Bearer <token>".
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// handle routes r and builds its response.
//
// Check order for /v1 routes: method, token (401), then per path segment: ID syntax (400),
// existence (404), grant (403). So a vault that does not exist is 404 for every token and one
// that exists but is not granted is 403; Connect's split here is undocumented.
func (s *Server) handle(r *http.Request) (string, response) {
	route, params := matchRoute(r.URL.Path)
	if route == "" && !strings.HasPrefix(r.URL.Path, "/v1/") {
		return "", errorResponse(http.StatusNotFound, "Not Found")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		resp := errorResponse(http.StatusMethodNotAllowed, "Method Not Allowed: the Connect emulator only serves reads")
		resp.header = http.Header{"Allow": {"GET, HEAD"}}
		return route, resp
	}
	switch route {
	case routeHeartbeat:
		return route, response{status: http.StatusOK, contentType: "text/plain", body: []byte(".")}
	case routeHealth:
		return route, jsonResponse(health())
	case routeMetrics:
		return route, response{status: http.StatusOK, contentType: "text/plain; version=0.0.4; charset=utf-8",
			body: s.metricsText()}
	}

	token, ok := bearerToken(r)
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, known := s.tokens[token]
	if !ok || !known {
		return route, errorResponse(http.StatusUnauthorized, msgInvalidToken)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return route, errorResponse(http.StatusBadRequest, "Invalid query string")
	}

	var resp response
	var e *apiError
	switch route {
	case routeActivity:
		resp, e = s.activity(q)
	case routeVaults:
		resp, e = s.listVaults(g, q)
	case routeVault:
		resp, e = s.getVault(g, params[0])
	case routeItems:
		resp, e = s.listItems(g, params[0], q)
	case routeItem:
		resp, e = s.getItem(g, params[0], params[1])
	case routeFiles:
		resp, e = s.listFiles(g, params[0], params[1], q)
	case routeFile:
		resp, e = s.getFile(g, params[0], params[1], params[2], q)
	case routeContent:
		resp, e = s.getContent(g, params[0], params[1], params[2])
	default:
		e = errorf(http.StatusNotFound, "Not Found")
	}
	if e != nil {
		return route, e.response()
	}
	return route, resp
}

// health mirrors Connect's /health body.
func health() any {
	type dep struct {
		Service string `json:"service"`
		Status  string `json:"status"`
		Message string `json:"message,omitempty"`
	}
	return struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		Dependencies []dep  `json:"dependencies"`
	}{
		Name:    "1Password Connect API",
		Version: ConnectVersion,
		Dependencies: []dep{
			{Service: "sync", Status: "ACTIVE"},
			{Service: "sqlite", Status: "ACTIVE", Message: "Connected to the emulator's in-memory data"},
		},
	}
}

// --- Lookups (callers hold s.mu for reading) -------------------------------------------------

func (s *Server) findVault(g grant, vaultID string) (*Vault, *apiError) {
	if !ValidID(vaultID) {
		return nil, errorf(http.StatusBadRequest, "Invalid Vault UUID")
	}
	v := s.byID[vaultID]
	if v == nil {
		return nil, errorf(http.StatusNotFound, "vault %s not found", vaultID)
	}
	if !g.allows(vaultID) {
		return nil, errorf(http.StatusForbidden, msgNoVaultAccess)
	}
	return v, nil
}

func (s *Server) findItem(g grant, vaultID, itemID string) (*Vault, *Item, *apiError) {
	v, e := s.findVault(g, vaultID)
	if e != nil {
		return nil, nil, e
	}
	if !ValidID(itemID) {
		return nil, nil, errorf(http.StatusBadRequest, "Invalid Item UUID")
	}
	for _, it := range v.Items {
		if it.ID == itemID {
			return v, it, nil
		}
	}
	return nil, nil, errorf(http.StatusNotFound, "item %s not found", itemID)
}

func (s *Server) findFile(g grant, vaultID, itemID, fileID string) (*Vault, *Item, *File, *apiError) {
	v, it, e := s.findItem(g, vaultID, itemID)
	if e != nil {
		return nil, nil, nil, e
	}
	if !ValidID(fileID) {
		return nil, nil, nil, errorf(http.StatusBadRequest, "Invalid File UUID")
	}
	for _, f := range it.Files {
		if f.ID == fileID {
			return v, it, f, nil
		}
	}
	return nil, nil, nil, errorf(http.StatusNotFound, "file %s not found", fileID)
}

// filterParam parses the optional ?filter=. An empty filter means none.
func filterParam(q url.Values) (Expr, bool, *apiError) {
	raw := strings.TrimSpace(q.Get("filter"))
	if raw == "" {
		return nil, false, nil
	}
	f, err := ParseExpr(raw)
	if err != nil {
		return nil, false, errorf(http.StatusBadRequest, "Invalid filter: %v", err)
	}
	return f, true, nil
}

// --- Views: what goes on the wire ------------------------------------------------------------

// vaultView is a Vault as Connect sends it: "items" is a count, not the items.
type vaultView struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	AttributeVersion int       `json:"attributeVersion"`
	ContentVersion   int       `json:"contentVersion"`
	Items            int       `json:"items"`
	Type             string    `json:"type"`
	CreatedAt        time.Time `json:"createdAt,omitzero"`
	UpdatedAt        time.Time `json:"updatedAt,omitzero"`
}

func viewVault(v *Vault) vaultView {
	n := 0
	for _, it := range v.Items {
		if listed(it) {
			n++
		}
	}
	return vaultView{ID: v.ID, Name: v.Name, Description: v.Description,
		AttributeVersion: v.AttributeVersion, ContentVersion: v.ContentVersion, Items: n,
		Type: v.Type, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

// listed reports whether an item appears in item lists (and title searches) and in its
// vault's item count. Archived and deleted items do not: connect-sdk-go v1.5.3 says
// "Connect does not return trashed items" (onepassword/items.go, the deprecated Trashed
// flag), and Connect 1.2.0's changelog has DELETE remove items outright instead of moving
// them to the trash (1Password/connect CHANGELOG.md, {11613}). For archived items no
// 1Password source says either way; they are treated like trashed ones, as `op item list`
// does (it lists archived items only with --include-archive). A GET by ID still answers
// with the item and its "state" (the spec's Item schema: readOnly state ARCHIVED or
// DELETED), so a client that names one by ID can tell why it is refused.
func listed(it *Item) bool { return it.State == "" }

// summary is an item as the list endpoint sends it: no sections, fields or files.
func summary(it *Item) Item {
	c := *it
	c.Sections, c.Fields, c.Files = nil, nil, nil
	return c
}

// fullItem is an item as the item endpoint sends it: live TOTP codes, no file bytes. It copies
// only what it changes, so large attachments are not copied on every GET.
func (s *Server) fullItem(it *Item) *Item {
	c := *it
	now := s.clock()
	c.Fields = make([]*Field, len(it.Fields))
	for i, f := range it.Fields {
		f2 := *f
		f2.TOTP = ""
		if f2.Type == "OTP" {
			if code, ok := totpCode(f2.Value, now); ok {
				f2.TOTP = code
			}
		}
		c.Fields[i] = &f2
	}
	c.Files = make([]*File, len(it.Files))
	for i, f := range it.Files {
		f2 := viewFile(f, false)
		c.Files[i] = &f2
	}
	return &c
}

// viewFile is file metadata, with the bytes when inline.
func viewFile(f *File, inline bool) File {
	c := *f
	c.Content = nil
	if inline {
		c.Content = append([]byte{}, f.Content...) // non-nil, so an empty file still sends ""
	}
	return c
}

// --- Handlers --------------------------------------------------------------------------------

func (s *Server) listVaults(g grant, q url.Values) (response, *apiError) {
	f, filtered, e := filterParam(q)
	if e == nil && filtered {
		if err := f.forVaults(); err != nil {
			e = errorf(http.StatusBadRequest, "Invalid filter: %v", err)
		}
	}
	if e != nil {
		return response{}, e
	}
	out := []vaultView{} // [] rather than null when nothing matches
	for _, v := range s.vaults {
		// Ungranted vaults are invisible in lists, as on a real server.
		if g.allows(v.ID) && (!filtered || f.matchVault(v)) {
			out = append(out, viewVault(v))
		}
	}
	return jsonResponse(out), nil
}

func (s *Server) getVault(g grant, vaultID string) (response, *apiError) {
	v, e := s.findVault(g, vaultID)
	if e != nil {
		return response{}, e
	}
	return jsonResponse(viewVault(v)), nil
}

func (s *Server) listItems(g grant, vaultID string, q url.Values) (response, *apiError) {
	v, e := s.findVault(g, vaultID)
	if e != nil {
		return response{}, e
	}
	f, filtered, e := filterParam(q)
	if e == nil && filtered {
		if err := f.forItems(); err != nil {
			e = errorf(http.StatusBadRequest, "Invalid filter: %v", err)
		}
	}
	if e != nil {
		return response{}, e
	}
	out := []Item{}
	for _, it := range v.Items {
		if !listed(it) {
			continue
		}
		if !filtered || f.matchItem(it) {
			out = append(out, summary(it))
		}
	}
	return jsonResponse(out), nil
}

func (s *Server) getItem(g grant, vaultID, itemID string) (response, *apiError) {
	_, it, e := s.findItem(g, vaultID, itemID)
	if e != nil {
		return response{}, e
	}
	return jsonResponse(s.fullItem(it)), nil
}

// inlineRequested accepts the spec's inline_files and the API reference's inline_content.
func inlineRequested(q url.Values) bool {
	for _, k := range []string{"inline_files", "inline_content"} {
		if b, err := strconv.ParseBool(q.Get(k)); err == nil && b {
			return true
		}
	}
	return false
}

func (s *Server) tooLarge(vaultID, itemID string, f *File) *apiError {
	if int64(len(f.Content)) <= s.inlineLimit {
		return nil
	}
	return errorf(http.StatusRequestEntityTooLarge,
		"File is too large to inline in request. Use the /v1/vaults/%s/items/%s/files/%s/content endpoint instead.",
		vaultID, itemID, f.ID)
}

func (s *Server) listFiles(g grant, vaultID, itemID string, q url.Values) (response, *apiError) {
	v, it, e := s.findItem(g, vaultID, itemID)
	if e != nil {
		return response{}, e
	}
	inline := inlineRequested(q)
	out := []File{}
	for _, f := range it.Files {
		if inline {
			if e := s.tooLarge(v.ID, it.ID, f); e != nil {
				return response{}, e
			}
		}
		out = append(out, viewFile(f, inline))
	}
	return jsonResponse(out), nil
}

func (s *Server) getFile(g grant, vaultID, itemID, fileID string, q url.Values) (response, *apiError) {
	v, it, f, e := s.findFile(g, vaultID, itemID, fileID)
	if e != nil {
		return response{}, e
	}
	inline := inlineRequested(q)
	if inline {
		if e := s.tooLarge(v.ID, it.ID, f); e != nil {
			return response{}, e
		}
	}
	return jsonResponse(viewFile(f, inline)), nil
}

func (s *Server) getContent(g grant, vaultID, itemID, fileID string) (response, *apiError) {
	_, _, f, e := s.findFile(g, vaultID, itemID, fileID)
	if e != nil {
		return response{}, e
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})
	if disposition == "" {
		disposition = "attachment"
	}
	return response{
		status:      http.StatusOK,
		contentType: "application/octet-stream",
		header:      http.Header{"Content-Disposition": {disposition}},
		body:        append([]byte(nil), f.Content...),
	}, nil
}
