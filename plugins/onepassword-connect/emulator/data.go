package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// idPattern is the shape of vault and item IDs, both in Connect's path validation and in
// connect-sdk-go's isValidUUID: exactly 26 lowercase ASCII letters or digits.
var idPattern = regexp.MustCompile(`^[a-z0-9]{26}$`)

// ValidID reports whether s has the shape of a Connect vault or item ID.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// AllVaults is the grant that gives a token every vault, present and future.
const AllVaults = "*"

// Data is the emulator's seed: vaults holding items, and bearer tokens with their vault grants.
//
// The JSON form uses Connect's own object shapes so that a captured Connect response can be
// pasted in, with two differences: a vault's "items" is the array of full items it holds (on
// the wire Connect sends an item count there), and a file may carry its bytes (see File).
//
//	{
//	  "vaults": [{"id": "...26 chars...", "name": "Demo", "items": [{"id": "...", "title": "Postgres", ...}]}],
//	  "tokens": {"demo-token": ["<vault id>"], "admin-token": ["*"]}
//	}
//
// Unknown JSON keys are rejected, so a typo such as "feilds" fails loudly instead of silently
// producing an item without fields.
type Data struct {
	Vaults []*Vault `json:"vaults"`
	// Tokens maps a bearer token to the IDs of the vaults it may read; AllVaults grants all.
	Tokens map[string][]string `json:"tokens,omitempty"`
}

// Vault is a Connect vault plus, in seed data, the items it holds.
type Vault struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	AttributeVersion int       `json:"attributeVersion,omitempty"`
	ContentVersion   int       `json:"contentVersion,omitempty"`
	Type             string    `json:"type,omitempty"` // USER_CREATED (default), PERSONAL, EVERYONE, TRANSFER
	CreatedAt        time.Time `json:"createdAt,omitzero"`
	UpdatedAt        time.Time `json:"updatedAt,omitzero"`
	Items            []*Item   `json:"items,omitempty"`
}

// Item is a Connect FullItem. List responses send it without Sections, Fields and Files.
type Item struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Vault        ItemVault  `json:"vault,omitzero"` // filled in by the server; if set in seed data it must match
	Category     string     `json:"category"`       // LOGIN, PASSWORD, DATABASE, API_CREDENTIAL, ...
	URLs         []URL      `json:"urls,omitempty"`
	Favorite     bool       `json:"favorite,omitempty"`
	Tags         []string   `json:"tags,omitempty"`
	Version      int        `json:"version,omitempty"`
	State        string     `json:"state,omitempty"` // ARCHIVED or DELETED; normally absent
	Sections     []*Section `json:"sections,omitempty"`
	Fields       []*Field   `json:"fields,omitempty"`
	Files        []*File    `json:"files,omitempty"`
	LastEditedBy string     `json:"lastEditedBy,omitempty"`
	// AdditionalInformation is the subtitle Connect puts in list results (e.g. a login's
	// username). Kept as seeded, so items captured from a real server load unchanged.
	AdditionalInformation string    `json:"additionalInformation,omitempty"`
	CreatedAt             time.Time `json:"createdAt,omitzero"`
	UpdatedAt             time.Time `json:"updatedAt,omitzero"`
}

// ItemVault is the {"id": ...} reference every item carries; connect-sdk-go needs it to fetch
// full items after a title search.
type ItemVault struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"` // sent by newer Connect servers; kept as seeded
}

// URL is one of an item's websites.
type URL struct {
	Href    string `json:"href"`
	Label   string `json:"label,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Section groups fields. Label may be absent: items edited in the 1Password apps often hold
// custom fields in a section {"id": "add more"} with no label.
type Section struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
}

// SectionRef is how a field or file points at its section. Connect's documented examples
// carry only the ID, so clients must look the label up in Item.Sections; the emulator sends
// exactly that and nothing more.
type SectionRef struct {
	ID string `json:"id"`
}

// Field is one item field.
type Field struct {
	ID      string      `json:"id"`
	Section *SectionRef `json:"section,omitempty"`
	Type    string      `json:"type"`              // STRING (default), CONCEALED, EMAIL, URL, OTP, DATE, MONTH_YEAR, MENU, SSHKEY, ...
	Purpose string      `json:"purpose,omitempty"` // USERNAME, PASSWORD or NOTES on built-in fields
	Label   string      `json:"label,omitempty"`
	// Value is left out of responses when empty, as Connect does.
	Value   string  `json:"value,omitempty"`
	Entropy float64 `json:"entropy,omitempty"`
	// PasswordDetails is passed through untouched when seed data carries it.
	PasswordDetails json.RawMessage `json:"passwordDetails,omitempty"`
	// TOTP is computed by the server at response time for OTP fields (see totpCode); a value in
	// seed data is ignored.
	TOTP string `json:"totp,omitempty"`
}

// File is a file attached to an item.
//
// In seed JSON the bytes go in "content" as standard base64, exactly as Connect sends them
// inline, or, for readable fixtures, in "contentText" as plain UTF-8 text (one or the other).
// Size and content_path are always computed by the server; values in seed data are ignored.
type File struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Size        int         `json:"size"`
	ContentPath string      `json:"content_path"`
	Section     *SectionRef `json:"section,omitempty"`
	Content     []byte      `json:"content,omitzero"` // omitzero: an inlined empty file still sends ""
	ContentText string      `json:"contentText,omitempty"`
}

// Load reads and validates a seed data file.
func Load(path string) (*Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse decodes and validates seed data JSON.
func Parse(b []byte) (*Data, error) {
	// The envelope ("vaults", "tokens") is the emulator's own format, so a misspelt key there
	// is an error. Inside vaults and items, keys the emulator does not model are ignored: seed
	// data is often an item captured from a real Connect server, and a newer server may send
	// keys this one has never heard of.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err == nil {
		for k := range top {
			if k != "vaults" && k != "tokens" {
				return nil, fmt.Errorf("decoding seed data: unknown field %q (want vaults, tokens)", k)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var d Data
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decoding seed data: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decoding seed data: trailing data after the top-level object")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks the data for what would make the emulator misbehave or silently hide a
// mistake in a fixture: malformed or duplicate IDs, dangling section references, grants for
// vaults that do not exist. It reports every problem it finds, not just the first.
func (d *Data) Validate() error {
	if d == nil {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	vaultIDs := map[string]bool{}
	itemIDs := map[string]string{} // item ID -> vault ID; Connect item IDs are globally unique
	for vi, v := range d.Vaults {
		if v == nil {
			bad("vaults[%d]: null vault", vi)
			continue
		}
		where := fmt.Sprintf("vault %q (vaults[%d])", v.Name, vi)
		switch {
		case !ValidID(v.ID):
			bad("%s: id %q must be 26 lowercase letters or digits", where, v.ID)
		case vaultIDs[v.ID]:
			bad("%s: duplicate vault id %s", where, v.ID)
		}
		vaultIDs[v.ID] = true
		if v.Name == "" {
			bad("%s: name is required", where)
		}
		for ii, it := range v.Items {
			if it == nil {
				bad("%s: items[%d]: null item", where, ii)
				continue
			}
			iwhere := fmt.Sprintf("%s: item %q (items[%d])", where, it.Title, ii)
			switch {
			case !ValidID(it.ID):
				bad("%s: id %q must be 26 lowercase letters or digits", iwhere, it.ID)
			case itemIDs[it.ID] != "":
				bad("%s: duplicate item id %s (also in vault %s)", iwhere, it.ID, itemIDs[it.ID])
			default:
				itemIDs[it.ID] = v.ID
			}
			if err := validateItem(it, v.ID); err != nil {
				bad("%s: %w", iwhere, err)
			}
		}
	}
	for token, grants := range d.Tokens {
		// Never echo the token itself: error messages end up in CI logs.
		if token == "" {
			bad("tokens: empty token")
		}
		if strings.ContainsAny(token, " \t\r\n") {
			bad("tokens: a token contains whitespace")
		}
		for _, g := range grants {
			if g != AllVaults && !vaultIDs[g] {
				bad("tokens: a token is granted vault %q, which is not in the data", g)
			}
		}
	}
	return errors.Join(errs...)
}

// validateItem checks one item's inner consistency.
func validateItem(it *Item, vaultID string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if it.Title == "" {
		bad("title is required")
	}
	if it.Category == "" {
		bad("category is required (e.g. LOGIN, PASSWORD, DATABASE, API_CREDENTIAL)")
	}
	if it.Vault.ID != "" && it.Vault.ID != vaultID {
		bad("vault.id %q does not match the enclosing vault %s", it.Vault.ID, vaultID)
	}
	sections := map[string]bool{}
	for si, s := range it.Sections {
		switch {
		case s == nil || s.ID == "":
			bad("sections[%d]: id is required", si)
		case sections[s.ID]:
			bad("sections[%d]: duplicate section id %q", si, s.ID)
		default:
			sections[s.ID] = true
		}
	}
	checkRef := func(where string, ref *SectionRef) {
		if ref != nil && !sections[ref.ID] {
			bad("%s: section %q is not among the item's sections", where, ref.ID)
		}
	}
	fields := map[string]bool{}
	for fi, f := range it.Fields {
		if f == nil || f.ID == "" {
			bad("fields[%d]: id is required", fi)
			continue
		}
		where := fmt.Sprintf("field %q (fields[%d])", f.Label, fi)
		if fields[f.ID] {
			bad("%s: duplicate field id %q", where, f.ID)
		}
		fields[f.ID] = true
		checkRef(where, f.Section)
	}
	files := map[string]bool{}
	for fi, f := range it.Files {
		if f == nil || f.ID == "" {
			bad("files[%d]: id is required", fi)
			continue
		}
		where := fmt.Sprintf("file %q (files[%d])", f.Name, fi)
		if !ValidID(f.ID) {
			// As for vaults and items: connect-sdk-go refuses any other file ID.
			bad("%s: id %q must be 26 lowercase letters or digits", where, f.ID)
		}
		if files[f.ID] {
			bad("%s: duplicate file id %q", where, f.ID)
		}
		files[f.ID] = true
		if f.Name == "" {
			bad("%s: name is required", where)
		}
		if len(f.Content) > 0 && f.ContentText != "" {
			bad("%s: set content (base64) or contentText (plain text), not both", where)
		}
		checkRef(where, f.Section)
	}
	return errors.Join(errs...)
}

// Clone returns a deep copy, so the server never shares memory with the caller's fixture.
func (d *Data) Clone() *Data {
	if d == nil {
		return nil
	}
	c := &Data{Vaults: make([]*Vault, 0, len(d.Vaults))}
	for _, v := range d.Vaults {
		c.Vaults = append(c.Vaults, v.clone())
	}
	if d.Tokens != nil {
		c.Tokens = make(map[string][]string, len(d.Tokens))
		for t, g := range d.Tokens {
			c.Tokens[t] = append([]string(nil), g...)
		}
	}
	return c
}

func (v *Vault) clone() *Vault {
	if v == nil {
		return nil
	}
	c := *v
	c.Items = make([]*Item, 0, len(v.Items))
	for _, it := range v.Items {
		c.Items = append(c.Items, it.Clone())
	}
	return &c
}

// Clone returns a deep copy of the item.
func (it *Item) Clone() *Item {
	if it == nil {
		return nil
	}
	c := *it
	c.URLs = append([]URL(nil), it.URLs...)
	c.Tags = append([]string(nil), it.Tags...)
	c.Sections = nil
	for _, s := range it.Sections {
		if s != nil {
			s2 := *s
			c.Sections = append(c.Sections, &s2)
		}
	}
	c.Fields = nil
	for _, f := range it.Fields {
		if f != nil {
			f2 := *f
			f2.Section = cloneRef(f.Section)
			f2.PasswordDetails = append(json.RawMessage(nil), f.PasswordDetails...)
			c.Fields = append(c.Fields, &f2)
		}
	}
	c.Files = nil
	for _, f := range it.Files {
		if f != nil {
			f2 := *f
			f2.Section = cloneRef(f.Section)
			f2.Content = append([]byte(nil), f.Content...)
			c.Files = append(c.Files, &f2)
		}
	}
	return &c
}

func cloneRef(r *SectionRef) *SectionRef {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// NewID derives a valid, deterministic 26-character ID from any seed string, so fixtures and
// generated data get stable IDs without anyone inventing them by hand.
func NewID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	return enc.EncodeToString(sum[:])[:26]
}

// --- Builders for tests -------------------------------------------------------------------

// AddVault appends a vault named name with a deterministic ID and returns it.
func (d *Data) AddVault(name string) *Vault {
	v := &Vault{ID: NewID(fmt.Sprintf("vault/%d/%s", len(d.Vaults), name)), Name: name}
	d.Vaults = append(d.Vaults, v)
	return v
}

// Grant gives token read access to the listed vault IDs (AllVaults for every vault),
// adding to any grants it already has.
func (d *Data) Grant(token string, vaultIDs ...string) *Data {
	if d.Tokens == nil {
		d.Tokens = map[string][]string{}
	}
	d.Tokens[token] = append(d.Tokens[token], vaultIDs...)
	return d
}

// AddItem appends an item with a deterministic ID and returns it.
func (v *Vault) AddItem(title, category string) *Item {
	it := &Item{
		ID:       NewID(fmt.Sprintf("item/%s/%d/%s", v.ID, len(v.Items), title)),
		Title:    title,
		Category: category,
	}
	v.Items = append(v.Items, it)
	return it
}

// AddSection appends a section with a deterministic ID and returns it.
func (it *Item) AddSection(label string) *Section {
	s := &Section{ID: NewID(fmt.Sprintf("section/%s/%d/%s", it.ID, len(it.Sections), label)), Label: label}
	it.Sections = append(it.Sections, s)
	return s
}

// AddField appends f (defaulting its ID and type) and returns the stored field.
func (it *Item) AddField(f Field) *Field {
	if f.ID == "" {
		f.ID = NewID(fmt.Sprintf("field/%s/%d/%s", it.ID, len(it.Fields), f.Label))
	}
	if f.Type == "" {
		f.Type = "STRING"
	}
	it.Fields = append(it.Fields, &f)
	return &f
}

// AddFile attaches a file with a deterministic ID and returns it.
func (it *Item) AddFile(name string, content []byte) *File {
	f := &File{
		ID:      NewID(fmt.Sprintf("file/%s/%d/%s", it.ID, len(it.Files), name)),
		Name:    name,
		Content: append([]byte(nil), content...),
	}
	it.Files = append(it.Files, f)
	return f
}

// Ref returns a reference to the section, for Field.Section and File.Section.
func (s *Section) Ref() *SectionRef { return &SectionRef{ID: s.ID} }
