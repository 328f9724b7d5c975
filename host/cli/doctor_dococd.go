package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/internal/bounded"
	"github.com/secrethost/secrethost/shared/credential"
)

// The doco-cd comparison: for each op:// reference, the value doco-cd's
// own Connect client (before secrethost, at 03cbeb36) would have resolved,
// by its rule, against the value secrethost resolves. Its rule: the item is
// looked up by ID or unique title (as ours); the field is the FIRST field
// in item order whose label equals the reference's exactly, in any section
// when the reference names none; with a section, the first field with that
// label in that section or in no section (connect-sdk-go's Item.GetValue,
// doco-cd's fallback, since Connect sends a field's section by ID only);
// ?attribute=otp only on a field found without a section. Values are
// compared in memory and never shown.

// dococdWarning is one reference whose outcome differs.
type dococdWarning struct {
	Name      string `json:"name,omitempty"`
	Reference string `json:"reference"`
	Warning   string `json:"warning"`
}

// dococdCompare returns a warning for each reference whose value or outcome
// differs between doco-cd's rule and secrethost's, when the configuration
// uses the Connect plugin and its host and token can be found; nil
// otherwise.
func (a *app) dococdCompare(ctx context.Context, h *host.Host, refs []refVar) []dococdWarning {
	cc, ok := a.connectCredentials()
	if !ok {
		return nil
	}
	var out []dococdWarning
	for _, r := range refs {
		ref := strings.TrimSpace(r.Value)
		if !strings.HasPrefix(strings.ToLower(ref), "op://") {
			continue
		}
		theirs, theirErr := cc.dococdValue(ctx, ref)
		if errors.Is(theirErr, errLookup) {
			continue // vault or item lookup: the same for both
		}
		ours, ourErr := h.GetSecret(ctx, ref)
		var msg string
		switch {
		case theirErr == nil && ourErr == nil && theirs != ours:
			msg = "resolves to a DIFFERENT secret than doco-cd's own 1Password client did (it took the first field with that label in item order); secrethost prefers a field outside any section and refuses ambiguous labels: name the section, or use the field's ID"
		case theirErr == nil && ourErr != nil:
			msg = "doco-cd resolved it (the first field with that label in item order); secrethost fails: " + oneLine(ourErr.Error())
		case theirErr != nil && ourErr == nil:
			msg = "doco-cd would fail (" + theirErr.Error() + "); secrethost resolves it"
		default:
			continue
		}
		w := dococdWarning{Reference: ref, Warning: msg}
		if r.Name != r.Value {
			w.Name = r.Name
		}
		out = append(out, w)
	}
	return out
}

// errLookup: doco-cd's rule failed before the field (vault or item), where
// both rules agree.
var errLookup = errors.New("vault or item lookup")

type connectCreds struct {
	base, token string
	client      *http.Client
}

// connectCredentials finds the Connect plugin's host and token as the
// plugin would: its config map, then (config_from_env) the environment.
func (a *app) connectCredentials() (*connectCreds, bool) {
	if a.cfg == nil {
		return nil, false
	}
	for _, p := range a.cfg.Providers {
		if filepath.Base(p.Plugin) != "onepassword-connect" {
			continue
		}
		get := func(names ...string) (string, string) {
			for _, n := range names {
				if v := p.Config[n]; v != "" {
					return v, p.Dir
				}
				if p.ConfigFromEnv {
					if v, ok := a.LookupEnv(n); ok && v != "" {
						return v, ""
					}
				}
			}
			return "", ""
		}
		base, _ := get("SECRET_PROVIDER_CONNECT_HOST", "OP_CONNECT_HOST")
		token, _ := get("SECRET_PROVIDER_CONNECT_TOKEN", "OP_CONNECT_TOKEN")
		if token == "" {
			if path, dir := get("SECRET_PROVIDER_CONNECT_TOKEN_FILE"); path != "" {
				if !filepath.IsAbs(path) && dir != "" {
					path = filepath.Join(dir, path)
				}
				if f, err := os.Open(path); err == nil {
					b, err := bounded.ReadAll(f, credential.MaxFileSize)
					f.Close()
					if err == nil {
						token = strings.TrimSpace(string(b))
					}
				}
			}
		}
		if base == "" || token == "" {
			return nil, false
		}
		return &connectCreds{base: strings.TrimRight(base, "/"), token: token, client: &http.Client{Timeout: 10 * time.Second}}, true
	}
	return nil, false
}

var connectID = regexp.MustCompile(`^[a-z0-9]{26}$`)

type connectField struct {
	Label   string `json:"label"`
	Value   string `json:"value"`
	TOTP    string `json:"totp"`
	Section *struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"section"`
}

type connectItem struct {
	ID       string `json:"id"`
	Sections []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"sections"`
	Fields []connectField `json:"fields"`
}

func (c *connectCreds) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := bounded.ReadAll(resp.Body, 16<<20)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Connect answered %d", resp.StatusCode)
	}
	return json.Unmarshal(b, v)
}

// dococdValue resolves ref by doco-cd's rule. An error wrapping errLookup
// means the vault or item could not be found (uniquely).
func (c *connectCreds) dococdValue(ctx context.Context, ref string) (string, error) {
	vault, item, section, field, otp, err := parseDococdRef(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errLookup, err)
	}
	vaultID := vault
	if !connectID.MatchString(vault) {
		var vs []struct{ ID string }
		if err := c.get(ctx, "/v1/vaults?filter="+url.QueryEscape(`name eq "`+vault+`"`), &vs); err != nil || len(vs) != 1 {
			return "", errLookup
		}
		vaultID = vs[0].ID
	}
	var it connectItem
	if !connectID.MatchString(item) || c.get(ctx, "/v1/vaults/"+vaultID+"/items/"+item, &it) != nil {
		var is []struct{ ID string }
		if err := c.get(ctx, "/v1/vaults/"+vaultID+"/items?filter="+url.QueryEscape(`title eq "`+item+`"`), &is); err != nil || len(is) != 1 {
			return "", errLookup
		}
		if err := c.get(ctx, "/v1/vaults/"+vaultID+"/items/"+is[0].ID, &it); err != nil {
			return "", errLookup
		}
	}
	if v, ok := dococdField(&it, section, field, otp); ok {
		return v, nil
	}
	return "", errors.New("no field labelled exactly " + fmt.Sprintf("%q", field) + " where it looks: its labels are case-sensitive")
}

// dococdField is doco-cd's findConnectFieldValue with connect-sdk-go's
// Item.GetValue as its fallback.
func dococdField(it *connectItem, section, field string, otp bool) (string, bool) {
	for _, f := range it.Fields {
		if f.Label != field {
			continue
		}
		if section != "" && (f.Section == nil || f.Section.Label != section) {
			continue
		}
		if otp {
			return f.TOTP, f.TOTP != ""
		}
		return f.Value, true
	}
	if otp {
		return "", false
	}
	selector := field
	if section != "" {
		selector = section + "." + field
	}
	sectionLabel, fieldLabel, filter := "", selector, false
	if parts := strings.Split(selector, "."); len(parts) == 2 {
		sectionLabel, fieldLabel, filter = parts[0], parts[1], true
	}
	for _, f := range it.Fields {
		if filter && f.Section != nil {
			label := ""
			for _, s := range it.Sections {
				if s.ID == f.Section.ID {
					label = s.Label
					break
				}
			}
			if label != sectionLabel {
				continue
			}
		}
		if f.Label == fieldLabel {
			return f.Value, f.Value != ""
		}
	}
	return "", false
}

// parseDococdRef is doco-cd's ParseOPSecretReference.
func parseDococdRef(ref string) (vault, item, section, field string, otp bool, err error) {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "op" {
		return "", "", "", "", false, errors.New("not a reference doco-cd parses")
	}
	if vault, err = url.PathUnescape(u.Host); err != nil || strings.TrimSpace(vault) == "" {
		return "", "", "", "", false, errors.New("no vault")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 && len(parts) != 3 {
		return "", "", "", "", false, errors.New("not item/field or item/section/field")
	}
	for i, p := range parts {
		if parts[i], err = url.PathUnescape(p); err != nil || strings.TrimSpace(parts[i]) == "" {
			return "", "", "", "", false, errors.New("bad segment")
		}
	}
	attr := strings.TrimSpace(u.Query().Get("attribute"))
	if attr != "" && attr != "otp" {
		return "", "", "", "", false, errors.New("attribute doco-cd does not support")
	}
	item, field = parts[0], parts[len(parts)-1]
	if len(parts) == 3 {
		section = parts[1]
	}
	return vault, item, section, field, attr == "otp", nil
}

func writeDococdWarnings(w interface{ Write([]byte) (int, error) }, ws []dococdWarning) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(w, "\ndiffers from doco-cd's own 1Password client (see examples/doco-cd/README.md, migration notes)")
	for _, d := range ws {
		label := d.Reference
		if d.Name != "" {
			label = d.Name + " (" + d.Reference + ")"
		}
		fmt.Fprintf(w, "  WARN  %s: %s\n", label, d.Warning)
	}
}
