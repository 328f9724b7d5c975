package connect

import (
	"fmt"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// File attachments (issue 12, item 1).
//
// op://<vault>/<item>/[<section>/]<file name> names a file attached to the item, as in
// 1Password's secret reference syntax. The item's full GET already lists its files (ID,
// name, size, section), so only the content costs a request:
// GET /v1/vaults/{v}/items/{i}/files/{f}/content, one per distinct file of the call, and
// only for references that need the bytes. It starts as soon as the item is known
// (resolver.itemReady, called from the plan), concurrently with the rest of the plan.
//
// A file is matched like a field: by ID, then by exact name, then case-insensitively when
// that is unique; without a section, files outside any section first. 1Password documents
// no rule for a name that matches both a field and a file, so that is ambiguous, unless the
// attribute applies to only one of them (?attribute=otp is a field's, ?attribute=size a
// file's).

// target is what a reference selects in an item: a field or a file.
type target struct {
	field *onepassword.ItemField
	file  *onepassword.File
}

// matchTarget finds the field or file ref names in item.
func matchTarget(item *onepassword.Item, ref opref.Ref) (target, *failure) {
	fieldOK := ref.Attribute.FieldAttribute() || ref.SSHFormat != ""
	fileOK := ref.Attribute.FileAttribute() && ref.SSHFormat == ""
	var f *onepassword.ItemField
	var ff *failure
	if fieldOK {
		f, ff = matchField(item, ref)
	}
	var file *onepassword.File
	var fl *failure
	if fileOK {
		file, fl = matchFile(item, ref)
	}
	switch {
	case !fileOK:
		if ff != nil && ff.code == provider.CodeNotFound {
			if other, _ := matchFile(item, ref); other != nil {
				return target{}, wrongKind(ref, describeFile(other)+" of item "+describeItem(item)+" is a file attachment", "fields")
			}
		}
		return target{field: f}, ff
	case !fieldOK:
		if fl != nil && fl.code == provider.CodeNotFound {
			if other, _ := matchField(item, ref); other != nil {
				return target{}, wrongKind(ref, "field "+describeField(other)+" of item "+describeItem(item)+" is a field", "file attachments")
			}
		}
		return target{file: file}, fl
	}
	fieldHit := f != nil || ff.code == provider.CodeAmbiguous
	fileHit := file != nil || fl.code == provider.CodeAmbiguous
	switch {
	case fieldHit && fileHit:
		fd, fi := "several fields", "several file attachments"
		if f != nil {
			fd = "field " + describeField(f)
		}
		if file != nil {
			fi = describeFile(file)
		}
		return target{}, fail(provider.CodeAmbiguous,
			"%q names both %s and %s of item %s; refer to the one you mean by its ID",
			ref.Field, fd, fi, describeItem(item))
	case f != nil:
		return target{field: f}, nil
	case file != nil:
		return target{file: file}, nil
	case fieldHit:
		return target{}, ff
	case fileHit:
		return target{}, fl
	}
	// Neither matched: the field message, naming the files too.
	ff.msg += listFiles(item.Files)
	return target{}, ff
}

// matchFile finds the file ref names in item, with the rules of matchField.
func matchFile(item *onepassword.Item, ref opref.Ref) (*onepassword.File, *failure) {
	var secs map[string]bool
	if ref.HasSection() {
		secs = matchSections(item, ref.Section)
		if len(secs) == 0 {
			for _, f := range item.Files {
				if f != nil && fileSection(f) == ref.Section {
					secs = map[string]bool{ref.Section: true}
				}
			}
		}
	}
	ps := pools(item.Files, fileSection, secs)
	switch hits := firstMatch(ps, func(f *onepassword.File) string { return f.ID }, func(f *onepassword.File) string { return f.Name }, ref.Field); {
	case len(hits) == 1:
		return hits[0], nil
	case len(hits) > 1:
		return nil, fail(provider.CodeAmbiguous, "file name %q matches %d file attachments of item %s: %s; refer to the file by its ID",
			ref.Field, len(hits), describeItem(item), listIDs(hits, func(f *onepassword.File) string { return "id " + f.ID }))
	}
	return nil, fail(provider.CodeNotFound, "item %s has no file attachment %q%s%s",
		describeItem(item), ref.Field, inSection(ref), listFiles(item.Files))
}

func fileSection(f *onepassword.File) string {
	if f.Section == nil {
		return ""
	}
	return f.Section.ID
}

func inSection(ref opref.Ref) string {
	if ref.HasSection() {
		return fmt.Sprintf(" in section %q", ref.Section)
	}
	return ""
}

func describeFile(f *onepassword.File) string {
	return fmt.Sprintf("file %q (%s)", f.Name, f.ID)
}

func listFiles(fs []*onepassword.File) string {
	if len(fs) == 0 {
		return ""
	}
	return "; its file attachments: " + listIDs(fs, func(f *onepassword.File) string { return fmt.Sprintf("%q", f.Name) })
}

// needsContent reports whether ref, resolved to a file, needs the file's bytes.
func needsContent(ref opref.Ref) bool {
	return ref.Attribute == opref.AttrValue || ref.Attribute == opref.AttrContent
}

// itemReady is the plan's hook: item is the one the references of (vq, iq) name. It starts
// the content download of every file those references need, each at most once per call.
func (r *resolver) itemReady(vq, iq, vid string, item *onepassword.Item) {
	if item == nil || len(item.Files) == 0 {
		return
	}
	r.vaultOf.Store(item, vid) // the vault ID the plan used, for downloads from value()
	for _, ref := range r.refsOf[itemKey{vq, iq}] {
		if !needsContent(ref) {
			continue
		}
		if t, f := matchTarget(item, ref); f == nil && t.file != nil {
			file := t.file
			r.bg.Go(func() { r.fileContent(vq, vid, item, file) })
		}
	}
}

// fileContent downloads a file's content, at most once per call.
func (r *resolver) fileContent(vq, vid string, item *onepassword.Item, f *onepassword.File) ([]byte, *failure) {
	return r.contents.do(vid+"/"+item.ID+"/"+f.ID, func() ([]byte, *failure) {
		var b []byte
		// The path is built from IDs rather than taken from content_path, which the spec's
		// example sends without its leading slash and connect-sdk-go appends to the host as is.
		file := &onepassword.File{ID: f.ID, Name: f.Name,
			ContentPath: "/v1/vaults/" + vid + "/items/" + item.ID + "/files/" + f.ID + "/content"}
		o, err := r.do(func(c sdk.Client) (err error) {
			b, err = c.GetFileContent(file)
			return err
		})
		if err != nil {
			fl := r.failureFor(o, err, subject{action: "downloading " + describeFile(f) + " of", vault: vq, vaultID: vid, item: item.Title, itemID: item.ID})
			fl.itemMissing, fl.vaultMissing = false, false
			return nil, fl
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	})
}

// targetValue is ref's value from the field or file it names.
func (r *resolver) targetValue(vq string, item *onepassword.Item, ref opref.Ref) ([]byte, *failure) {
	vid := item.Vault.ID
	if v, ok := r.vaultOf.Load(item); ok {
		vid = v.(string)
	}
	t, fl := matchTarget(item, ref)
	if fl != nil {
		return nil, fl
	}
	if t.file != nil {
		return fileAttribute(item, t.file, ref, func() ([]byte, *failure) { return r.fileContent(vq, vid, item, t.file) })
	}
	return fieldAttribute(item, t.field, ref, r.now)
}

// wrongKind is the error for an attribute (or ssh-format) that does not apply to what the
// reference names.
func wrongKind(ref opref.Ref, what, appliesTo string) *failure {
	q := "?attribute=" + ref.Attribute.String()
	if ref.SSHFormat != "" {
		q = "?ssh-format=" + ref.SSHFormat
	}
	return fail(provider.CodeInvalidReference, "%s applies to %s, but %s", q, appliesTo, what)
}
