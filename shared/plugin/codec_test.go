package plugin

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/secrethost/secrethost/shared/internal/providerv1"
)

// TestLenientCodecRepairsStrings: a response whose strings are not UTF-8
// (as a plugin in another language may send) decodes with the strings
// repaired and the values untouched, where protobuf alone refuses it.
func TestLenientCodecRepairsStrings(t *testing.T) {
	const mark = "@@@@"
	msg := &pb.ResolveResponse{Results: []*pb.ResolveResult{
		{Reference: "op://v/i/f", Value: []byte("val\xff" + mark)},
		{Reference: "op://v/i/g", Error: &pb.Error{Code: pb.Code(2), Reference: "op://v/i/g", Message: "said " + mark}},
	}}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte(mark), []byte("\xff\xfe\xff\xfe"))
	if err := proto.Unmarshal(b, &pb.ResolveResponse{}); err == nil {
		t.Fatal("protobuf accepted invalid UTF-8; the test proves nothing")
	}
	var got pb.ResolveResponse
	if err := (lenientCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &got); err != nil {
		t.Fatal(err)
	}
	if v := string(got.Results[0].GetValue()); v != "val\xff\xff\xfe\xff\xfe" {
		t.Errorf("value changed: %q", v)
	}
	if m := got.Results[1].GetError().GetMessage(); !strings.HasPrefix(m, "said \uFFFD") {
		t.Errorf("message %q", m)
	}
	if r := got.Results[1].GetReference(); r != "op://v/i/g" {
		t.Errorf("reference %q", r)
	}
	// Garbage stays an error.
	if err := (lenientCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0xff})}, &pb.ResolveResponse{}); err == nil {
		t.Error("malformed message accepted")
	}
}
