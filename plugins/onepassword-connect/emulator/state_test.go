package emulator

import (
	"net/url"
	"testing"
)

// TestArchivedAndDeletedNotListed: item lists, title searches and the vault's item count
// leave out archived and deleted items (see listed for the sources); a GET by ID still
// answers with the item and its state.
func TestArchivedAndDeletedNotListed(t *testing.T) {
	fx := newFixture()
	arch := fx.demo.AddItem("Postgres", "DATABASE") // an archived twin of a live title
	arch.State = "ARCHIVED"
	del := fx.demo.AddItem("Gone", "PASSWORD")
	del.State = "DELETED"
	srv := fx.start(t)
	base := srv.URL()

	var items []Item
	getJSON(t, base, "/v1/vaults/"+fx.demo.ID+"/items", testToken, 200, &items)
	for _, it := range items {
		if it.ID == arch.ID || it.ID == del.ID {
			t.Errorf("item list holds %s item %q", it.State, it.Title)
		}
	}
	if len(items) != 3 {
		t.Errorf("item list has %d items, want the 3 live ones", len(items))
	}
	for _, title := range []string{"Postgres", "Gone"} {
		items = nil
		getJSON(t, base, "/v1/vaults/"+fx.demo.ID+"/items?filter="+url.QueryEscape(`title eq "`+title+`"`), testToken, 200, &items)
		for _, it := range items {
			if it.State != "" {
				t.Errorf("title search %q returns %s item %s", title, it.State, it.ID)
			}
		}
	}
	var v vaultView
	getJSON(t, base, "/v1/vaults/"+fx.demo.ID, testToken, 200, &v)
	if v.Items != 3 {
		t.Errorf("vault item count %d, want 3", v.Items)
	}
	for _, it := range []*Item{arch, del} {
		var got Item
		getJSON(t, base, "/v1/vaults/"+fx.demo.ID+"/items/"+it.ID, testToken, 200, &got)
		if got.State != it.State {
			t.Errorf("GET by ID of %s: state %q", it.Title, got.State)
		}
	}
}
