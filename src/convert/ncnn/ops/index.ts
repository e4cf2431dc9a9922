/**
 * Op lowerings added for real-world ONNX exports (recurrent, transformer, tensor and logic ops),
 * one file per family. op-table.ts spreads NEW_OPS after its own entries, so an entry here
 * replaces a simpler one there (Gemm, MatMul).
 */
import type { OpEntry } from '../op-table.js';
import { RECURRENT_OPS } from './recurrent.js';
import { ACTIVATION_OPS } from './activations.js';
import { TENSOR_OPS } from './tensor-ops.js';
import { EINSUM_OPS } from './einsum.js';
import { ALGEBRA_OPS } from './algebra.js';

export const NEW_OPS: Record<string, OpEntry> = {
  ...RECURRENT_OPS,
  ...ACTIVATION_OPS,
  ...TENSOR_OPS,
  ...EINSUM_OPS,
  ...ALGEBRA_OPS,
};
