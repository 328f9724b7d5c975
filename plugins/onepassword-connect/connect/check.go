package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/shared/provider"
)

// Check reports, as separate items: the server answers /heartbeat, its
// /health and dependencies, whether the token is accepted, and every vault
// the token can read (a missing vault there is the usual cause of a
// "not found"). The three probes run concurrently, through the same
// transport as Resolve.
func (p *Provider) Check(ctx context.Context, _ provider.CheckRequest) (provider.CheckResponse, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	r, err := p.newResolver(ctx)
	if err != nil {
		return provider.CheckResponse{}, err
	}

	var (
		wg             sync.WaitGroup
		heartbeat, hlt provider.CheckItem
		vaults         []onepassword.Vault
		vaultsErr      *failure
	)
	wg.Go(func() { heartbeat = r.heartbeat() })
	wg.Go(func() { hlt = r.health() })
	wg.Go(func() {
		o, err := r.do(func(c sdk.Client) (err error) {
			vaults, err = c.GetVaults()
			return err
		})
		if err != nil {
			vaultsErr = r.failureFor(o, err, subject{action: "listing", what: "vaults"})
		}
	})
	wg.Wait()

	items := []provider.CheckItem{heartbeat, hlt}
	tokenItem := provider.CheckItem{Name: "token accepted (GET /v1/vaults)", OK: vaultsErr == nil}
	switch {
	case vaultsErr != nil:
		tokenItem.Detail = fmt.Sprintf("%s: %s", vaultsErr.code, vaultsErr.msg)
	default:
		tokenItem.Detail = fmt.Sprintf("token from %s; %s visible", r.s.tokenFrom, plural(len(vaults), "vault"))
	}
	items = append(items, tokenItem)
	if vaultsErr == nil {
		if len(vaults) == 0 {
			items = append(items, provider.CheckItem{Name: "vaults readable", OK: false,
				Detail: "the token can read no vault; " + noAccessHint})
		}
		sort.Slice(vaults, func(i, j int) bool { return vaults[i].Name < vaults[j].Name })
		for _, v := range vaults {
			items = append(items, provider.CheckItem{Name: fmt.Sprintf("vault %q", v.Name), OK: true,
				Detail: fmt.Sprintf("id %s, %s", v.ID, plural(v.Items, "item"))})
		}
	}
	healthy := true
	for _, it := range items {
		healthy = healthy && it.OK
	}
	return provider.CheckResponse{Healthy: healthy, Items: items}, nil
}

// get sends an unauthenticated GET for path (these endpoints need no
// token, so none is sent) through the transport.
func (r *resolver) get(path string) (int, []byte, time.Duration, *failure) {
	start := time.Now()
	o, ua, end := r.t.begin(r.ctx, r.pol, &r.stats, r.ua)
	defer end()
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.s.host+path, nil)
	if err != nil {
		return 0, nil, 0, fail(provider.CodeInternal, "building the request: %v", err)
	}
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, 0, r.failureFor(o, err, subject{action: "calling", what: "GET " + path})
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, time.Since(start), nil
}

func (r *resolver) heartbeat() provider.CheckItem {
	item := provider.CheckItem{Name: "Connect reachable (GET /heartbeat)"}
	status, _, took, f := r.get("/heartbeat")
	switch {
	case f != nil:
		item.Detail = f.msg
	case status != http.StatusOK:
		item.Detail = fmt.Sprintf("%s answered %d %s; is it a Connect server?", r.s.host, status, http.StatusText(status))
	default:
		item.OK = true
		item.Detail = fmt.Sprintf("%s answered in %s", r.s.host, took.Round(time.Millisecond))
	}
	return item
}

func (r *resolver) health() provider.CheckItem {
	item := provider.CheckItem{Name: "Connect healthy (GET /health)"}
	status, body, _, f := r.get("/health")
	if f != nil {
		item.Detail = f.msg
		return item
	}
	var h struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		Dependencies []struct {
			Service string `json:"service"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"dependencies"`
	}
	if status != http.StatusOK {
		item.Detail = fmt.Sprintf("answered %d %s", status, http.StatusText(status))
		return item
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Name == "" {
		item.Detail = "answered 200 without a Connect health report; is it a Connect server?"
		return item
	}
	item.OK = true
	var deps []string
	for _, d := range h.Dependencies {
		deps = append(deps, d.Service+" "+d.Status)
		// TOKEN_NEEDED is normal until a client first authenticates.
		if d.Status != "ACTIVE" && d.Status != "TOKEN_NEEDED" {
			item.OK = false
		}
	}
	item.Detail = fmt.Sprintf("%s %s", h.Name, h.Version)
	if len(deps) > 0 {
		item.Detail += "; " + strings.Join(deps, ", ")
	}
	return item
}
