/**
 * The ncnn-level passes, in the order the converter runs them (after lowering). Each has the one
 * `Pass` signature; `optimize` marks the ones `--no-optimize` skips (BatchNorm folding, bias and activation fusion, channel shuffle, global pooling, Crops to Slice, attention to MultiHeadAttention, one-input Concat). Adding a pass = writing its
 * module and listing it here; its report lands in the convert summary under `name`.
 */
import type { Pass } from './graph-util.js';
import { fuseBatchNorm } from './fuse-batchnorm.js';
import { fuseActivation } from './fuse-activation.js';
import { fuseBias } from './fuse-bias.js';
import { eliminateDead } from './eliminate-dead.js';
import { insertSplits } from './insert-split.js';
import { fuseChannelShuffle } from './fuse-channel-shuffle.js';
import { globalPooling } from './global-pooling.js';
import { cropsToSlice } from './crops-to-slice.js';
import { eliminateSingleConcat } from './eliminate-single-concat.js';
import { fuseAttention } from './fuse-attention.js';

export interface PassEntry {
  name: 'batchNorm' | 'bias' | 'activation' | 'channelShuffle' | 'globalPooling' | 'cropsToSlice' | 'attention' | 'singleConcat' | 'deadLayers' | 'split';
  run: Pass;
  /** Only with optimisation on (BatchNorm folding, activation fusion change the layer sequence onnx2ncnn would write). */
  optimize: boolean;
}

export const PASSES: readonly PassEntry[] = [
  { name: 'batchNorm', run: fuseBatchNorm, optimize: true },
  { name: 'bias', run: fuseBias, optimize: true },
  { name: 'activation', run: fuseActivation, optimize: true },
  { name: 'channelShuffle', run: fuseChannelShuffle, optimize: true },
  { name: 'globalPooling', run: globalPooling, optimize: true },
  { name: 'cropsToSlice', run: cropsToSlice, optimize: true },
  // after bias (the projections carry their biases) and cropsToSlice (q/k/v split by one Slice)
  { name: 'attention', run: fuseAttention, optimize: true },
  { name: 'singleConcat', run: eliminateSingleConcat, optimize: true },
  { name: 'deadLayers', run: eliminateDead, optimize: false },
  { name: 'split', run: insertSplits, optimize: false },
];

export type { Pass, PassContext, PassReport } from './graph-util.js';
