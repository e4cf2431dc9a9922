/** The architectures `fdk convert --arch` knows, by id, with their builder. */
import type { Layers } from './layers.js';
import type { ArchOutputs } from './types.js';
import type { PriorParams } from '../../families/prior.js';
import { buildSlimLike } from './slim.js';
import { buildRfb } from './rfb.js';
import { buildMnet } from './mnet.js';
import { buildUlfd } from './ulfd.js';

export interface ArchBuildOptions {
  postprocess: boolean;
  fixedHW?: [number, number];
  /** Prior parameters from the model description, for architectures that decode in the graph. */
  priors?: PriorParams;
}

export interface ArchDef {
  id: string;
  title: string;
  family: 'seed' | 'ultra-light';
  build(L: Layers, input: string, o: ArchBuildOptions): ArchOutputs;
}

const ARCHS: ArchDef[] = [
  { id: 'slim', title: 'version-slim (our), biubug6', family: 'seed', build: (L, x) => buildSlimLike(L, x, 'slim') },
  { id: 'rfb', title: 'version-RFB (our), biubug6', family: 'seed', build: (L, x) => buildRfb(L, x) },
  { id: 'mnet0.25', title: 'Retinaface-Mobilenet-0.25 (our), biubug6', family: 'seed', build: (L, x) => buildMnet(L, x) },
  { id: 'ulfd-slim', title: 'Ultra-Light version-slim (original), Linzaer', family: 'ultra-light', build: (L, x, o) => buildUlfd(L, x, { variant: 'slim', ...o }) },
  { id: 'ulfd-rfb', title: 'Ultra-Light version-RFB (original), Linzaer', family: 'ultra-light', build: (L, x, o) => buildUlfd(L, x, { variant: 'rfb', ...o }) },
];

const ALIASES: Record<string, string> = { mnet: 'mnet0.25', 'mobilenet0.25': 'mnet0.25', RFB: 'rfb' };

export const ARCH_IDS = [...ARCHS.map((a) => a.id), 'ulfd-slim-320', 'ulfd-slim-640', 'ulfd-rfb-320', 'ulfd-rfb-640'];

/** Finds an architecture; `ulfd-*-320/640` name the same network (the size only matters for weights). */
export function findArch(id: string): ArchDef | undefined {
  const base = ALIASES[id] ?? id.replace(/^(ulfd-(?:slim|rfb))-(320|640)$/, '$1');
  return ARCHS.find((a) => a.id === base);
}
