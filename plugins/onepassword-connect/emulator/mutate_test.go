package emulator

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRenameVaultAndRevoke(t *testing.T) {
	d := Generate(2, 1)
	srv := NewTestServer(t, d)
	v0, v1 := d.Vaults[0].ID, d.Vaults[1].ID
	byTitle := func(title string) int {
		var vs []map[string]any
		getJSON(t, srv.URL(), "/v1/vaults?filter="+url.QueryEscape(`title eq "`+title+`"`), GeneratedToken, http.StatusOK, &vs)
		return len(vs)
	}
	if err := srv.RenameVault(v1, "Renamed"); err != nil {
		t.Fatal(err)
	}
	if byTitle("Vault 01") != 0 || byTitle("Renamed") != 1 {
		t.Errorf("the rename is not visible")
	}
	if err := srv.RenameVault("nosuchvaultnosuchvaultnosu", "x"); err == nil {
		t.Errorf("renamed a vault that does not exist")
	}
	// GeneratedToken has every vault; revoking one keeps the others.
	if err := srv.Revoke(GeneratedToken, v1); err != nil {
		t.Fatal(err)
	}
	wantError(t, srv.URL(), "/v1/vaults/"+v1+"/items", GeneratedToken, http.StatusForbidden, "Authorization")
	var items []map[string]any
	getJSON(t, srv.URL(), "/v1/vaults/"+v0+"/items", GeneratedToken, http.StatusOK, &items)
	if byTitle("Renamed") != 0 || byTitle("Vault 00") != 1 {
		t.Errorf("the revoked vault is still listed, or the other is not")
	}
	if err := srv.Revoke("no-such-token", v0); err == nil {
		t.Errorf("revoked for an unknown token")
	}
}
