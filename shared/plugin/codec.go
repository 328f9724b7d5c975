package plugin

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// lenientCodec is the host's protobuf codec for plugin responses. It
// decodes as gRPC's own does, except that a string field that is not valid
// UTF-8 (a plugin not written with this SDK, which makes its text valid
// before it sends it, may send one) is repaired, each invalid sequence
// becoming U+FFFD, instead of failing the whole call: one bad byte in one
// error message must not fail a batch. Values are bytes fields and are
// never touched.
type lenientCodec struct{}

var _ encoding.CodecV2 = lenientCodec{}

// lenient makes a call decode its response with lenientCodec.
var lenient = grpc.ForceCodecV2(lenientCodec{})

func (lenientCodec) Name() string { return "proto" }

func (lenientCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal: %T is not a protobuf message", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("unmarshal: %T is not a protobuf message", v)
	}
	// As gRPC's own codec: a pooled buffer, freed once decoded (proto
	// copies what it keeps).
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	err := proto.Unmarshal(b, m)
	if err == nil {
		return nil
	}
	fixed, ferr := repairUTF8(b, m.ProtoReflect().Descriptor(), 0)
	if ferr != nil {
		return err
	}
	if err2 := proto.Unmarshal(fixed, m); err2 != nil {
		return err
	}
	return nil
}

// maxDepth bounds the recursion into nested messages of a hostile plugin.
const maxDepth = 32

var errWire = errors.New("malformed protobuf")

// repairUTF8 copies the wire-format message b of type md, making every
// string field (in nested messages and map entries too) valid UTF-8.
func repairUTF8(b []byte, md protoreflect.MessageDescriptor, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errWire
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errWire
		}
		tag := b[:n]
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil {
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return nil, errWire
			}
			out = append(append(out, tag...), b[:m]...)
			b = b[m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, errWire
		}
		b = b[m:]
		switch fd.Kind() {
		case protoreflect.StringKind:
			v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
		case protoreflect.MessageKind:
			var err error
			if v, err = repairUTF8(v, fd.Message(), depth+1); err != nil {
				return nil, err
			}
		}
		out = protowire.AppendBytes(append(out, tag...), v)
	}
	return out, nil
}
