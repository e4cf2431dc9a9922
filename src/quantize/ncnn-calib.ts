/**
 * Runs `calib_worker.py` (the real ncnn, in fdk's ncnn venv) for one job and returns its reply:
 * activation statistics for calibration, per-blob drift between an fp32 and an int8 model.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureNcnnVenv } from '../runtime/ncnn-venv.js';
import { FdkError } from '../util/errors.js';
import type { CalibTensor } from './calib-images.js';
import type { BlobStats } from './thresholds.js';

const SCRIPT = fileURLToPath(new URL('./calib_worker.py', import.meta.url));

async function runJob<T>(job: Record<string, unknown>): Promise<T> {
  const venv = await ensureNcnnVenv({ log: (s) => process.stderr.isTTY && !process.env.CI && process.stderr.write(`fdk setup ncnn: ${s}\n`) });
  return new Promise<T>((done, fail) => {
    const child = spawn(venv.python, ['-u', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-8000)));
    child.on('error', (e) => fail(new FdkError(`cannot start the ncnn calibration helper: ${e.message}`)));
    child.on('close', (code) => {
      let r: { ok?: boolean; error?: string; file?: string } & Record<string, unknown>;
      try {
        r = JSON.parse(out);
      } catch {
        const last = err.trim().split('\n').at(-1) ?? '';
        return fail(new FdkError(`the ncnn calibration helper exited with code ${code} without a reply${last ? `: ${last}` : ''}`));
      }
      if (!r.ok) return fail(new FdkError(`ncnn: ${r.error}`, { file: r.file }));
      done(r as T);
    });
    child.stdin.end(JSON.stringify(job));
  });
}

export interface NcnnFiles {
  param: string;
  bin: string;
}

export async function blobStats(model: NcnnFiles, input: string, tensors: CalibTensor[], blobs: string[], bins: number): Promise<Map<string, BlobStats>> {
  const r = await runJob<{ blobs: Record<string, BlobStats> }>({ job: 'stats', ...model, input, tensors, blobs, bins });
  return new Map(Object.entries(r.blobs));
}

export interface BlobDrift {
  /** Mean cosine similarity of the blob, int8 vs fp32, over the images. */
  cosine: number;
  /** Mean ||int8 - fp32|| / ||fp32||. */
  relL2: number;
}

export async function blobDrift(fp32: NcnnFiles, int8: NcnnFiles, input: string, tensors: CalibTensor[], blobs: string[]): Promise<Map<string, BlobDrift>> {
  const r = await runJob<{ blobs: Record<string, { cosine: number; rel_l2: number }> }>({ job: 'drift', fp32, int8, input, tensors, blobs });
  return new Map(Object.entries(r.blobs).map(([k, v]) => [k, { cosine: v.cosine, relL2: v.rel_l2 }]));
}

export interface EqLayerJob {
  name: string;
  bottom: string;
  top: string;
  /** The layer alone as an int8 model (Input 'in' -> layer); its bottom-blob scale is the .bin's last float. */
  param: string;
  bin: string;
  scale: number;
}

/** ncnn2table's eq search (calib_worker.py `eq`): per layer, the factor of its scale with the best mean cosine. */
export async function eqSearch(fp32: NcnnFiles, input: string, tensors: CalibTensor[], layers: EqLayerJob[], factors: number[], dir: string): Promise<Map<string, { factor: number; cosine: number; base: number }>> {
  const r = await runJob<{ layers: Record<string, { factor: number; cosine: number; base: number }> }>({ job: 'eq', fp32, input, tensors, layers, factors, dir });
  return new Map(Object.entries(r.layers));
}

/** Mean cosine of the model outputs against fp32 for each int8 variant (calib_worker.py `gain`). */
export async function outputCosine(fp32: NcnnFiles, variants: NcnnFiles[], input: string, tensors: CalibTensor[]): Promise<number[]> {
  const r = await runJob<{ cosine: number[] }>({ job: 'gain', fp32, variants, input, tensors });
  return r.cosine;
}
