/** biubug6 "version-RFB" (our): the slim network with a BasicRFB block as conv8 (models/net_rfb.py). */
import { buildSlimLike } from './slim.js';
import type { Layers } from './layers.js';
import type { ArchOutputs } from './types.js';

export function buildRfb(L: Layers, input: string): ArchOutputs {
  return buildSlimLike(L, input, 'rfb');
}
