/**
 * The ONNX protobuf schema, loaded once with protobufjs from the `onnx.proto` shipped in the
 * PyPI `onnx` package (1.23, IR version 13). Using the upstream schema rather than the
 * `onnx-proto` npm package matters: that one stops at ONNX 1.10 and silently drops newer fields.
 */
import protobuf from 'protobufjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: protobuf.Root | undefined;

export function onnxRoot(): protobuf.Root {
  if (!root) {
    const here = dirname(fileURLToPath(import.meta.url));
    root = protobuf.loadSync(join(here, 'onnx.proto'));
  }
  return root;
}

export function onnxType(name: 'ModelProto' | 'GraphProto' | 'TensorProto' | 'NodeProto'): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}

/** TensorProto.DataType numbers. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType numbers. */
export const AttrType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
} as const;
