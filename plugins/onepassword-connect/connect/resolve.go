package connect

// The batch plan
// ==============
//
// A Resolve of N references costs, at most:
//
//   - one vault title lookup per distinct vault named by title
//     (GET /v1/vaults?filter=title eq "…"); vault IDs cost nothing;
//   - one item title lookup per distinct (vault, item title)
//     (GET /v1/vaults/{v}/items?filter=title eq "…"), which connect-sdk-go
//     follows with a full GET of each match, so a unique title costs
//     lookup + fetch and that fetch is the item's only one;
//   - one full GET per distinct item named by ID, shared with a title
//     lookup that fetches the same item.
//
// Only failures cost more: a title the server filter does not match
// exactly leads to one listing of that vault (or of all vaults), shared by
// every such title of the call, for a case-insensitive comparison and a
// useful "not found" message; an ID-shaped item name that is not an ID
// gets one title lookup.
//
// Work runs as a small dependency graph rather than in global phases: each
// vault proceeds as soon as its own ID is known, and everything
// independent runs concurrently; the transport caps the requests in
// flight (max_concurrency). So 100 references to 10 items in 2 vaults, all
// by title, take 2 + 10 + 10 = 22 requests in 3 round trips (vault →
// item lookup → item fetch).
//
// A provider that has resolved the same titles before sends the lookups
// and fetches of each vault together with its vault lookup, guessing the
// IDs from its memory; the plan itself is unchanged and decides every
// answer (warm.go): one round trip for an unchanged batch.
//
// Nothing is fetched twice in a call: lookups are shared through
// singleflight groups keyed by vault ID (so "Prod" and its ID do not
// double the work), and the transport sends identical GETs of one call
// once, which also covers the fetches connect-sdk-go makes inside
// GetItemsByTitle (an item named both by title and by ID).

import (
	"context"
	"fmt"
	"sync"
	"time"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// resolver runs one Resolve (or Check) call.
type resolver struct {
	s     *settings
	token string
	t     *transport
	pol   *policy
	ua    string
	ctx   context.Context
	stats callState
	now   nowFunc

	warmState // remembered IDs and the GETs they predict (warm.go)

	vaults    group[string]              // vault title -> vault ID
	allVaults group[[]onepassword.Vault] // "" -> every vault the token sees
	lookups   group[*onepassword.Item]   // vaultID/title -> item
	listings  group[[]onepassword.Item]  // vaultID -> item summaries
	fetches   group[*onepassword.Item]   // vaultID/itemID -> full item

	// File attachments (files.go): the references of each item, and content downloads.
	refsOf   map[itemKey][]opref.Ref
	contents group[[]byte]  // vaultID/itemID/fileID -> content
	bg       sync.WaitGroup // downloads started by itemReady
	vaultOf  sync.Map       // *onepassword.Item -> the vault ID it was fetched from
}

// itemKey identifies an item as references name it.
type itemKey struct{ vault, item string }

type itemResult struct {
	item *onepassword.Item
	fail *failure
}

// do runs one SDK call with a client whose requests carry the call's
// context through the transport, and returns the op that saw them.
func (r *resolver) do(fn func(c sdk.Client) error) (*op, error) {
	o, ua, end := r.t.begin(r.ctx, r.pol, &r.stats, r.ua)
	defer end()
	return o, fn(sdk.NewClientWithUserAgent(r.s.host, r.token, ua))
}

// resolveAll fetches every item the references need; the result is keyed
// by (vault, item) as the references spell them.
func (r *resolver) resolveAll(plan map[string]map[string]bool) map[itemKey]itemResult {
	var mu sync.Mutex
	out := map[itemKey]itemResult{}
	set := func(v, i string, it *onepassword.Item, f *failure) {
		mu.Lock()
		out[itemKey{v, i}] = itemResult{it, f}
		mu.Unlock()
	}
	r.startWarm(len(plan))
	defer r.endWarm()
	var wg sync.WaitGroup
	for vq, items := range plan {
		wg.Go(func() {
			r.warmUp(vq, items) // guesses from earlier calls start the GETs below early
			vid, f := r.vaultID(vq)
			if f != nil {
				r.unlearnVault(vq, f)
				for iq := range items {
					set(vq, iq, nil, f)
				}
				return
			}
			res := r.resolveItems(vq, vid, items)
			// A vault name that looks like an ID (e.g. "productionsecretsvault2024") was
			// taken as an ID; if Connect says no such vault, look it up by name once and
			// resolve the items again there (issue 12, item 5).
			if opref.IsID(vq) && anyVaultMissing(res) {
				if alt, af := r.vaultByName(vq); af == nil && alt != vid {
					vid, res = alt, r.resolveItems(vq, alt, items)
				}
			}
			r.learn(vq, vid, res)
			for iq, ir := range res {
				set(vq, iq, ir.item, ir.fail)
			}
		})
	}
	wg.Wait()
	return out
}

func anyVaultMissing(res map[string]itemResult) bool {
	for _, ir := range res {
		if ir.fail != nil && ir.fail.vaultMissing {
			return true
		}
	}
	return false
}

// resolveItems resolves the items of one vault, by title and by ID, concurrently.
func (r *resolver) resolveItems(vq, vid string, items map[string]bool) map[string]itemResult {
	var mu sync.Mutex
	out := map[string]itemResult{}
	set := func(i string, it *onepassword.Item, f *failure) {
		r.itemReady(vq, i, vid, it) // start file downloads now (files.go)
		mu.Lock()
		out[i] = itemResult{it, f}
		mu.Unlock()
	}
	var titles, ids []string
	for iq := range items {
		if opref.IsID(iq) {
			ids = append(ids, iq)
		} else {
			titles = append(titles, iq)
		}
	}
	var iwg sync.WaitGroup
	for _, t := range titles {
		iwg.Go(func() {
			it, f := r.itemByTitle(vq, vid, t, false)
			set(t, it, f)
		})
	}
	// An item named by ID may also be one a title lookup
	// fetches: the transport sends identical GETs of a call
	// once, so both can start now.
	for _, id := range ids {
		iwg.Go(func() {
			it, f := r.itemByID(vq, vid, id)
			set(id, it, f)
		})
	}
	iwg.Wait()
	return out
}

// vaultID resolves a vault as a reference names it. IDs cost no request.
// (An ID-shaped vault name is taken as an ID, as connect-sdk-go does.)
func (r *resolver) vaultID(query string) (string, *failure) {
	if opref.IsID(query) {
		return query, nil
	}
	return r.vaultByName(query)
}

// vaultByName looks a vault up by its name, at most once per call.
func (r *resolver) vaultByName(query string) (string, *failure) {
	return r.vaults.do(query, func() (string, *failure) {
		s := subject{action: "looking up", vault: query}
		var found []onepassword.Vault
		o, err := r.do(func(c sdk.Client) (err error) {
			found, err = c.GetVaultsByTitle(query)
			return err
		})
		if err != nil {
			return "", r.failureFor(o, err, s)
		}
		hits := byTitle(found, query, vaultName)
		var all []onepassword.Vault
		if len(hits) == 0 {
			// The filter found nothing the client accepts. List every
			// visible vault once per call: a case-insensitive match, or
			// else the names for the error message.
			var f *failure
			all, f = r.allVaults.do("", func() ([]onepassword.Vault, *failure) {
				var vs []onepassword.Vault
				o, err := r.do(func(c sdk.Client) (err error) {
					vs, err = c.GetVaults()
					return err
				})
				if err != nil {
					return nil, r.failureFor(o, err, subject{action: "listing", what: fmt.Sprintf("vaults (to find vault %q)", query)})
				}
				return vs, nil
			})
			if f != nil {
				return "", f
			}
			hits = byTitle(all, query, vaultName)
		}
		switch len(hits) {
		case 0:
			return "", fail(provider.CodeNotFound,
				"vault %q not found: no vault of that name is visible to the token, which may not have access to it (%s). Vaults the token can read: %s",
				query, noAccessHint, listVaultNames(all))
		case 1:
			return hits[0].ID, nil
		}
		return "", fail(provider.CodeAmbiguous, "vault name %q matches %d vaults: %s; refer to the vault by its ID",
			query, len(hits), listIDs(hits, func(v onepassword.Vault) string { return fmt.Sprintf("%q (%s)", v.Name, v.ID) }))
	})
}

// itemByTitle finds the item titled title in the vault. connect-sdk-go's
// GetItemsByTitle lists with a filter and then fetches each match in full.
// With exactOnly, a miss is a miss: no listing fallback.
func (r *resolver) itemByTitle(vq, vid, title string, exactOnly bool) (*onepassword.Item, *failure) {
	return r.lookups.do(vid+"/"+title, func() (*onepassword.Item, *failure) {
		s := subject{action: "looking up", vault: vq, vaultID: vid, item: title}
		var found []onepassword.Item
		o, err := r.do(func(c sdk.Client) (err error) {
			found, err = c.GetItemsByTitle(title, vid)
			return err
		})
		if err != nil {
			return nil, r.failureFor(o, err, s)
		}
		items := make([]*onepassword.Item, len(found))
		for i := range found {
			items[i] = &found[i]
			r.fetches.put(vid+"/"+found[i].ID, items[i], nil)
		}
		hits := live(r, byTitle(items, title, itemTitle), func(it *onepassword.Item) string { return it.ID })
		switch {
		case len(hits) == 1:
			return hits[0], nil
		case len(hits) > 1:
			return nil, ambiguousItem(s, len(hits), listIDs(hits, func(it *onepassword.Item) string { return fmt.Sprintf("%q (%s)", it.Title, it.ID) }))
		case exactOnly:
			return nil, fail(provider.CodeNotFound, "item %q not found in vault %s", title, s.vaultDesc())
		}
		return r.itemFromListing(s)
	})
}

// itemFromListing is the fallback when the title filter found nothing the
// client accepts (Connect's item filter is case-sensitive): one listing of
// the vault per call, compared case-insensitively, then a fetch.
func (r *resolver) itemFromListing(s subject) (*onepassword.Item, *failure) {
	sums, f := r.listings.do(s.vaultID, func() ([]onepassword.Item, *failure) {
		var items []onepassword.Item
		o, err := r.do(func(c sdk.Client) (err error) {
			items, err = c.GetItems(s.vaultID)
			return err
		})
		if err != nil {
			return nil, r.failureFor(o, err, subject{action: "listing items of", vault: s.vault, vaultID: s.vaultID})
		}
		return items, nil
	})
	if f != nil {
		return nil, f
	}
	hits := live(r, byTitle(sums, s.item, func(it onepassword.Item) string { return it.Title }),
		func(it onepassword.Item) string { return it.ID })
	switch len(hits) {
	case 0:
		return nil, fail(provider.CodeNotFound, "item %q not found in vault %s", s.item, s.vaultDesc())
	case 1:
		return r.fetch(s.vault, s.vaultID, hits[0].ID, s.item)
	}
	return nil, ambiguousItem(s, len(hits), listIDs(hits, func(it onepassword.Item) string { return fmt.Sprintf("%q (%s)", it.Title, it.ID) }))
}

func ambiguousItem(s subject, n int, ids string) *failure {
	return fail(provider.CodeAmbiguous, "item title %q matches %d items in vault %s: %s; refer to the item by its ID",
		s.item, n, s.vaultDesc(), ids)
}

// itemByID fetches an item named by ID. If Connect says there is no such
// item, the name may be a title that happens to look like an ID: one title
// lookup settles it.
func (r *resolver) itemByID(vq, vid, id string) (*onepassword.Item, *failure) {
	it, f := r.fetch(vq, vid, id, id)
	if f == nil || !f.itemMissing {
		return it, f
	}
	if alt, af := r.itemByTitle(vq, vid, id, true); af == nil {
		return alt, nil
	}
	return nil, f
}

// fetch gets one full item, at most once per call.
func (r *resolver) fetch(vq, vid, id, name string) (*onepassword.Item, *failure) {
	return r.fetches.do(vid+"/"+id, func() (*onepassword.Item, *failure) {
		var it *onepassword.Item
		o, err := r.do(func(c sdk.Client) (err error) {
			// GetItemByUUID, not GetItem: GetItem swallows the
			// error and searches for a title equal to the ID.
			it, err = c.GetItemByUUID(id, vid)
			return err
		})
		if err != nil {
			return nil, r.failureFor(o, err, subject{action: "reading", vault: vq, vaultID: vid, item: name, itemID: id})
		}
		if st := r.stats.state(id); st != "" {
			return nil, stateFailure(st, fmt.Sprintf("%q (%s)", name, id), vq)
		}
		return it, nil
	})
}

func vaultName(v onepassword.Vault) string  { return v.Name }
func itemTitle(it *onepassword.Item) string { return it.Title }

func listVaultNames(vs []onepassword.Vault) string {
	if len(vs) == 0 {
		return "none"
	}
	return listIDs(vs, func(v onepassword.Vault) string { return fmt.Sprintf("%q", v.Name) })
}

// group is a minimal singleflight with memory: the first caller of a key
// runs fn, later callers wait for and share its result.
type group[T any] struct {
	mu sync.Mutex
	m  map[string]*future[T]
}

type future[T any] struct {
	done chan struct{}
	val  T
	fail *failure
}

func (g *group[T]) do(key string, fn func() (T, *failure)) (T, *failure) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*future[T]{}
	}
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		<-f.done
		return f.val, f.fail
	}
	f := &future[T]{done: make(chan struct{})}
	g.m[key] = f
	g.mu.Unlock()
	f.val, f.fail = fn()
	close(f.done)
	return f.val, f.fail
}

// put records a result obtained otherwise, unless the key is taken.
func (g *group[T]) put(key string, val T, fl *failure) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*future[T]{}
	}
	if _, ok := g.m[key]; ok {
		return
	}
	f := &future[T]{done: make(chan struct{}), val: val, fail: fl}
	close(f.done)
	g.m[key] = f
}

// callContext leaves a margin before the caller's deadline, so that a
// slow server yields per-reference "unavailable" answers in time instead
// of a call the host gives up on (and kills the plugin for).
func callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(max(time.Until(dl)/10, 20*time.Millisecond), 500*time.Millisecond)
	return context.WithDeadline(ctx, dl.Add(-margin))
}
