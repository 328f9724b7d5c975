package connect

import (
	"strconv"

	"github.com/1Password/connect-sdk-go/onepassword"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// Attributes (issue 12, item 3), as 1Password's secret reference syntax documents them
// (developer.1password.com/docs/cli/secret-reference-syntax, "Field and file metadata"):
//
//	attribute   field                                   file
//	value       the value (default), dates formatted    the content (default)
//	type        the field type, e.g. CONCEALED           FILE
//	id          the field ID                            the file ID
//	purpose     USERNAME, PASSWORD, NOTES or empty      -
//	title       the field label                         -
//	otp, totp   the current one-time password           -
//	content     -                                       the content
//	size        -                                       the size in bytes, decimal
//	name        -                                       the file name
//
// "-" is an invalid_reference error naming the field or file.

// fileTypeName is what ?attribute=type gives for a file attachment: Connect's files carry
// no type of their own.
const fileTypeName = "FILE"

// fieldAttribute is ref's value from field f.
func fieldAttribute(item *onepassword.Item, f *onepassword.ItemField, ref opref.Ref, now nowFunc) ([]byte, *failure) {
	if ref.SSHFormat != "" {
		return openSSHKey(item, f)
	}
	switch ref.Attribute {
	case opref.AttrValue:
		return []byte(displayValue(string(f.Type), f.Value)), nil
	case opref.AttrOTP:
		return fieldValue(item, f, ref, now)
	case opref.AttrType:
		return []byte(f.Type), nil
	case opref.AttrID:
		return []byte(f.ID), nil
	case opref.AttrPurpose:
		return []byte(f.Purpose), nil
	case opref.AttrTitle:
		return []byte(f.Label), nil
	}
	return nil, fail(provider.CodeInvalidReference,
		"?attribute=%s applies to file attachments, but %s of item %s is a field (fields have type, value, id, purpose, title or label, otp)",
		ref.Attribute, describeField(f), describeItem(item))
}

// fileAttribute is ref's value from file f; content is called only for the content.
func fileAttribute(item *onepassword.Item, f *onepassword.File, ref opref.Ref, content func() ([]byte, *failure)) ([]byte, *failure) {
	if ref.SSHFormat != "" {
		return nil, fail(provider.CodeInvalidReference,
			"?ssh-format=openssh needs an SSH key's private key, but %s of item %s is a file attachment", describeFile(f), describeItem(item))
	}
	switch ref.Attribute {
	case opref.AttrValue, opref.AttrContent:
		return content()
	case opref.AttrType:
		return []byte(fileTypeName), nil
	case opref.AttrID:
		return []byte(f.ID), nil
	case opref.AttrSize:
		return []byte(strconv.Itoa(f.Size)), nil
	case opref.AttrName:
		return []byte(f.Name), nil
	}
	return nil, fail(provider.CodeInvalidReference,
		"?attribute=%s applies to fields, but %s of item %s is a file attachment (files have type, content, size, id, name)",
		ref.Attribute, describeFile(f), describeItem(item))
}
