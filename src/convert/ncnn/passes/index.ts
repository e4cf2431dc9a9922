/**
 * The ncnn-level passes, in the order the converter runs them (after lowering). Each has the one
 * `Pass` signature; `optimize` marks the ones `--no-optimize` skips (BatchNorm folding, bias and activation fusion, channel shuffle, global pooling, Crops to Slice, attention to MultiHeadAttention, one-input Concat, Reshapes that change nothing, unread LSTM/GRU/RNN state outputs). Adding a pass = writing its
 * module and listing it here (one line); its report lands in the convert summary under `name`,
counted as `count` (`summary.passes.batchNorm.fused`), with the changed layers in `detail`.
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
import { eliminateNoopReshapes } from './eliminate-noop-reshape.js';
import { trimRecurrentStates } from './trim-recurrent-states.js';

/** How a pass's changes are counted in the convert summary (`summary.passes.<name>.<count>`). */
export type PassCount = 'fused' | 'removed' | 'rewritten' | 'inserted';

export interface PassEntry {
  name: string;
  run: Pass;
  /** Only with optimisation on (BatchNorm folding, activation fusion change the layer sequence onnx2ncnn would write). */
  optimize: boolean;
  /** The summary's word for its changes; `detail` lists them (the layer names) unless `countOnly`. */
  count: PassCount;
  countOnly?: boolean;
}

export const PASSES = [
  { name: 'batchNorm', run: fuseBatchNorm, optimize: true, count: 'fused' },
  { name: 'bias', run: fuseBias, optimize: true, count: 'fused' },
  { name: 'activation', run: fuseActivation, optimize: true, count: 'fused' },
  { name: 'channelShuffle', run: fuseChannelShuffle, optimize: true, count: 'fused' },
  { name: 'globalPooling', run: globalPooling, optimize: true, count: 'rewritten' },
  { name: 'cropsToSlice', run: cropsToSlice, optimize: true, count: 'fused' },
  // after bias (the projections carry their biases) and cropsToSlice (q/k/v split by one Slice)
  { name: 'attention', run: fuseAttention, optimize: true, count: 'fused' },
  { name: 'singleConcat', run: eliminateSingleConcat, optimize: true, count: 'removed', countOnly: true },
  { name: 'noopReshape', run: eliminateNoopReshapes, optimize: true, count: 'removed' },
  { name: 'unusedStates', run: trimRecurrentStates, optimize: true, count: 'rewritten' },
  { name: 'deadLayers', run: eliminateDead, optimize: false, count: 'removed', countOnly: true },
  { name: 'split', run: insertSplits, optimize: false, count: 'inserted', countOnly: true },
] as const satisfies readonly PassEntry[];

export type PassName = (typeof PASSES)[number]['name'];

/** What the convert summary says of one pass: its count under the pass's word, and the changes unless countOnly. */
export type PassSummary = Partial<Record<PassCount, number>> & { detail?: string[] };

export type { Pass, PassContext, PassReport } from './graph-util.js';
