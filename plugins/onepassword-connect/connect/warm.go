package connect

// The warm path (issue 13, item 1)
// ================================
//
// doco-cd keeps its provider for its whole life and resolves the same
// references on every poll, so the titles a Resolve looked up are a very
// good guess of the IDs the next one needs. The provider remembers, from
// earlier resolutions, vault title → vault ID and (vault ID, item title) →
// item ID: IDs only, never an item, a field or a value; at most
// maxRemembered entries (least recently used dropped first) of titles up
// to maxRememberedTitle bytes (longer ones are not remembered), so at most
// a few megabytes even in the worst case and a few hundred kilobytes in
// practice; forgotten when the provider is configured again. Guesses take
// at most max_concurrency - vaults request slots per call, 2 per item and
// 1 per listing (startWarm); items beyond that take the cold way.
//
// A guess never decides an answer. The cold plan (resolve.go) runs
// unchanged on every call; the guess only starts, in parallel with the
// vault title lookups, the very GETs the plan is going to send once it
// knows the vault ID:
//
//   - GET /v1/vaults/{guessed vault}/items?filter=title eq "…" (the title
//     lookup that confirms the item ID), followed by connect-sdk-go's own
//     fetch of each match, and
//   - GET /v1/vaults/{guessed vault}/items/{guessed item} (the fetch).
//
// They run as ops of their own whose results are thrown away; what they
// leave is the transport's per-call record of identical GETs (transport.go:
// identical GETs of one call are sent once). When the plan's vault lookup
// confirms the vault ID, its title lookup and fetches are the same GETs and
// are answered from that record, so an unchanged batch costs one round
// trip and the cold path's requests (22 for 100 references to 10 items in
// 2 vaults). If the last call found a guessed item only in the vault's
// item listing (the title filter missed it, e.g. by case), the listing
// starts with them too. Every
// answer is computed by the cold code from responses of this very call, so
// it is exactly the cold path's answer:
//
//   - renamed or removed item: the title lookup finds nothing, the plan
//     falls back to its listing (2 round trips; not_found as cold);
//   - new item with an old title, or a new duplicate: the lookup returns
//     it, the SDK fetches it (2 round trips; its value, or ambiguous);
//   - renamed vault, revoked grant: the vault lookup does not confirm the
//     ID and the plan goes its cold way (the guessed GETs are wasted; the
//     plan's own requests are unchanged);
//
// and the memory is then corrected from the plan's results (a failure
// forgets the entry). A right guess costs no request that the cold path
// would not send; a wrong one costs its two requests and at most one round
// trip more than a right one (a vault title that now names another vault
// whose items were never seen costs what the cold plan does: lookups
// there, then fetches).

import (
	"context"
	"sync"
	"sync/atomic"

	sdk "github.com/1Password/connect-sdk-go/connect"

	"github.com/secrethost/secrethost/plugins/internal/lru"
	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// maxRemembered bounds the remembered title → ID entries (vaults and items
// together).
const maxRemembered = 4096

// maxRememberedTitle is the longest title remembered, in bytes.
const maxRememberedTitle = 512

// memKey is a remembered title: a vault title (vault == ""), or an item
// title within a vault ID.
type memKey struct{ vault, title string }

type memEntry struct {
	key memKey
	id  string
	// listed (item entries): the last call found the item in the vault's
	// listing (the title filter missed it, e.g. by case), so a call that
	// guesses it starts the listing too.
	listed bool
}

// idMemory is the provider's title → ID memory. Safe for concurrent use.
type idMemory struct {
	mu sync.Mutex
	m  *lru.Map[memKey, memEntry]
}

func newIDMemory(max int) *idMemory {
	return &idMemory{m: lru.New[memKey, memEntry](max)}
}

func (m *idMemory) get(k memKey) (string, bool) {
	e, ok := m.entry(k)
	return e.id, ok
}

func (m *idMemory) entry(k memKey) (memEntry, bool) {
	if m == nil {
		return memEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m.Get(k)
}

func (m *idMemory) put(k memKey, id string) { m.putEntry(memEntry{key: k, id: id}) }

func (m *idMemory) putEntry(me memEntry) {
	if m == nil || len(me.key.title) > maxRememberedTitle {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.Put(me.key, me, nil)
}

func (m *idMemory) forget(k memKey) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.Remove(k)
}

func (m *idMemory) len() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m.Len()
}

// warmState is the warm path's part of one call.
type warmState struct {
	mem          *idMemory // nil: no memory (Check)
	prefetch     sync.WaitGroup
	prefetchCtx  context.Context
	stopPrefetch context.CancelFunc
	guessed      atomic.Int64 // items whose IDs were guessed
	budget       atomic.Int64 // request slots guesses may still take
}

// startWarm prepares the prefetch context and budget; endWarm ends any
// guessed GET still running (a wrong guess) and waits for it.
//
// The budget keeps the guesses (2 requests per item, 1 per listing)
// within max_concurrency beside the plan's vault lookups, so that a wrong
// guess never makes a vault lookup wait for a free slot: items beyond it
// are left to the plan, as cold.
func (r *resolver) startWarm(vaults int) {
	r.prefetchCtx, r.stopPrefetch = context.WithCancel(r.ctx)
	r.budget.Store(int64(cap(r.pol.sem) - vaults))
}

func (r *resolver) endWarm() {
	r.stopPrefetch()
	r.prefetch.Wait()
}

// warmUp starts, for one vault of the plan, the GETs that the remembered
// IDs predict (see above) and returns at once; r.prefetch.Wait waits for
// them. Items named by ID need no guess and are left to the plan.
func (r *resolver) warmUp(vq string, items map[string]bool) {
	if r.mem == nil {
		return
	}
	vid := vq
	if !opref.IsID(vq) {
		var ok bool
		if vid, ok = r.mem.get(memKey{title: vq}); !ok {
			return
		}
	}
	listing := false
	for iq := range items {
		if opref.IsID(iq) {
			continue
		}
		e, ok := r.mem.entry(memKey{vault: vid, title: iq})
		if !ok || r.budget.Add(-2) < 0 {
			continue
		}
		iid := e.id
		listing = listing || e.listed
		r.guessed.Add(1)
		r.prefetch.Go(func() {
			_, _ = r.doPrefetch(func(c sdk.Client) error { _, err := c.GetItemsByTitle(iq, vid); return err })
		})
		r.prefetch.Go(func() {
			_, _ = r.doPrefetch(func(c sdk.Client) error { _, err := c.GetItemByUUID(iid, vid); return err })
		})
	}
	if listing && r.budget.Add(-1) >= 0 {
		r.prefetch.Go(func() {
			_, _ = r.doPrefetch(func(c sdk.Client) error { _, err := c.GetItems(vid); return err })
		})
	}
}

// doPrefetch is r.do under the prefetch context, which ends when the plan
// is done (a wasted guess must not hold the call up).
func (r *resolver) doPrefetch(fn func(c sdk.Client) error) (*op, error) {
	o, ua, end := r.t.begin(r.prefetchCtx, r.pol, &r.stats, r.ua)
	defer end()
	return o, fn(sdk.NewClientWithUserAgent(r.s.host, r.token, ua))
}

// learn records what the plan found for one vault and its items, and
// forgets the titles it no longer finds.
func (r *resolver) learn(vq, vid string, res map[string]itemResult) {
	if r.mem == nil {
		return
	}
	if !opref.IsID(vq) {
		r.mem.put(memKey{title: vq}, vid)
	}
	listed := r.listings.has(vid) // the plan listed the vault's items in this call
	for iq, ir := range res {
		if opref.IsID(iq) {
			continue
		}
		k := memKey{vault: vid, title: iq}
		switch {
		case ir.fail == nil && ir.item != nil && ir.item.ID != "":
			// Not an exact title: it came from the listing if there was one.
			r.mem.putEntry(memEntry{key: k, id: ir.item.ID, listed: listed && ir.item.Title != iq})
		case !transient(ir.fail):
			r.mem.forget(k)
		}
	}
}

// unlearnVault forgets a vault title the plan could not resolve, unless
// the failure says nothing about the vault (Connect down, rate limited).
func (r *resolver) unlearnVault(vq string, f *failure) {
	if r.mem != nil && !transient(f) {
		r.mem.forget(memKey{title: vq})
	}
}

// transient: a failure after which a remembered ID is as good a guess as
// before.
func transient(f *failure) bool {
	return f != nil && (f.code == provider.CodeUnavailable || f.code == provider.CodeRateLimited)
}

// has reports whether key was asked for in this call.
func (g *group[T]) has(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.m[key]
	return ok
}
