package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	connectonepassword "github.com/1Password/connect-sdk-go/onepassword"

	dococd "github.com/secrethost/secrethost/examples/doco-cd"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// docoFindConnectFieldValue is doco-cd's findConnectFieldValue
// (internal/secretprovider/1password/client_connect.go at 03cbeb36), copied
// as the oracle, over connect-sdk-go's Item (whose GetValue it falls back to).
func docoFindConnectFieldValue(item *connectonepassword.Item, section, field string, otp bool) (string, bool) {
	selector := field
	if section != "" {
		selector = section + "." + field
	}
	for _, f := range item.Fields {
		if f == nil || f.Label != field {
			continue
		}
		if section != "" && (f.Section == nil || f.Section.Label != section) {
			continue
		}
		if otp {
			if f.TOTP == "" {
				return "", false
			}
			return f.TOTP, true
		}
		return f.Value, true
	}
	if otp {
		return "", false
	}
	if v := item.GetValue(selector); v != "" {
		return v, true
	}
	return "", false
}

// TestDococdFieldRuleMatchesDocoCD: the doctor's rendition of doco-cd's
// field rule gives doco-cd's answer for every item of the seed, as Connect
// (the emulator) sends it, and many references.
func TestDococdFieldRuleMatchesDocoCD(t *testing.T) {
	data := dococd.Seed()
	srv := emulator.NewTestServer(t, data)
	var labels, sections []string
	for _, v := range data.Vaults {
		for _, it := range v.Items {
			for _, f := range it.Fields {
				labels = append(labels, f.Label, strings.ToLower(f.Label))
			}
			for _, s := range it.Sections {
				sections = append(sections, s.Label)
			}
		}
	}
	labels = append(labels, "nothere")
	sections = append(sections, "", "Nope")
	n := 0
	for _, v := range data.Vaults {
		for _, it := range v.Items {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL()+"/v1/vaults/"+v.ID+"/items/"+it.ID, nil)
			req.Header.Set("Authorization", "Bearer "+dococd.SeedToken)
			if v.Name == "Other" {
				continue // not granted
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var sdkItem connectonepassword.Item
			var ours connectItem
			var raw json.RawMessage
			err = json.NewDecoder(resp.Body).Decode(&raw)
			resp.Body.Close()
			if err != nil || json.Unmarshal(raw, &sdkItem) != nil || json.Unmarshal(raw, &ours) != nil {
				t.Fatalf("item %s: %v", it.Title, err)
			}
			for _, sec := range sections {
				for _, label := range labels {
					for _, otp := range []bool{false, true} {
						wantV, wantOK := docoFindConnectFieldValue(&sdkItem, sec, label, otp)
						gotV, gotOK := dococdField(&ours, sec, label, otp)
						if wantV != gotV || wantOK != gotOK {
							t.Errorf("%s/%s/%s otp=%v: doctor says %q %v, doco-cd %q %v", it.Title, sec, label, otp, gotV, gotOK, wantV, wantOK)
						}
						n++
					}
				}
			}
		}
	}
	t.Log(fmt.Sprint(n, " cases"))
}
