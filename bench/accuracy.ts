/**
 * Benchmark of the WIDER accuracy pipeline (`npm run bench:accuracy`):
 *  1. images/s of mnet0.25 at long side 640 over val-mini (488 images), per runtime, end to end
 *     (JPEG decode, resize, inference, decode, NMS, WIDER text), with --jobs workers;
 *  2. whole-run time of full-val rows (3226 images; prediction + evaluation) next to the original
 *     PyTorch pipeline on this machine kind (177 s slim-320, 283 s mnet0.25-640, 2 threads), when
 *     the full val images are present (FDK_WIDER_FULL, default /work/wider-full/WIDER_val);
 *     otherwise an estimate from the val-mini rate, labelled as such;
 *  3. `fdk eval` on the full known-preds folder next to the official Python evaluator (benchEval in bench/eval.ts).
 *
 * Options: --runtimes ort,wasm,ncnn  --jobs N  --full-rows slim-320,mnet0.25-640  --skip-full  --skip-eval  --json
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { getModel } from '../src/models/manifest.js';
import { detectAll } from '../src/accuracy/pool.js';
import { runAccuracy } from '../src/accuracy/run.js';
import { resolveDataDir, workDir } from '../src/util/data.js';

/** The original pipelines (test_widerface.py + PyTorch 1.13 CPU, 2 threads) on this machine kind. */
const ORIGINAL_SECONDS: Record<string, number> = { 'slim-320': 177, 'mnet0.25-640': 283 };
const FULL_VAL_IMAGES = 3226;

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name: string) => args.includes(`--${name}`);
const jobs = Number(opt('jobs') ?? availableParallelism());
const runtimes = (opt('runtimes') ?? 'ort,wasm,ncnn').split(',');
const fullRows = (opt('full-rows') ?? 'slim-320,mnet0.25-640').split(',');
const json = flag('json');
const log = (s: string) => {
  if (!json) console.log(s);
};

interface RuntimeRate {
  runtime: string;
  images: number;
  seconds?: number;
  imagesPerSecond?: number;
  meanInferenceMs?: number;
  ap?: { easy: number; medium: number; hard: number };
  error?: string;
}

async function rateOnValMini(runtime: string): Promise<RuntimeRate> {
  const data = resolveDataDir()!;
  const mini = join(data, 'wider', 'val-mini');
  const paths = readFileSync(join(mini, 'list.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => join(mini, 'images', l));
  // warm-up: load + first image (ncnn converts the model and starts its worker here)
  try {
    await detectAll(getModel('mnet0.25'), paths.slice(0, 1), { runtime, longSide: 640, jobs: 1 }, () => {});
    const r = await runAccuracy({ models: ['mnet0.25'], longSides: [640], runtime, jobs, outDir: join(workDir('bench-accuracy'), runtime) });
    const x = r.rows[0];
    return { runtime, images: x.images, seconds: x.seconds, imagesPerSecond: x.imagesPerSecond, meanInferenceMs: x.meanInferenceMs, ap: x.ap };
  } catch (e) {
    return { runtime, images: paths.length, error: (e as Error).message.split('\n')[0] };
  }
}

async function main() {
  const out: Record<string, unknown> = { jobs, cores: availableParallelism() };
  log(`fdk accuracy pipeline benchmark (${jobs} jobs on ${availableParallelism()} cores)\n`);
  log('1. mnet0.25 at long side 640 on val-mini (488 images), end to end:');
  const rates: RuntimeRate[] = [];
  for (const rt of runtimes) {
    const r = await rateOnValMini(rt);
    rates.push(r);
    log(r.error ? `   ${rt.padEnd(5)} unavailable: ${r.error}` : `   ${rt.padEnd(5)} ${r.imagesPerSecond!.toFixed(1)} images/s  (${r.seconds!.toFixed(1)} s; mean inference ${r.meanInferenceMs!.toFixed(1)} ms/image/worker; AP ${r.ap!.easy.toFixed(4)} / ${r.ap!.medium.toFixed(4)} / ${r.ap!.hard.toFixed(4)})`);
  }
  out.valMiniRates = rates;

  const fullDir = process.env.FDK_WIDER_FULL ?? '/work/wider-full/WIDER_val';
  const full: Record<string, unknown>[] = [];
  if (!flag('skip-full')) {
    log(`\n2. whole-run time of full-val rows (${FULL_VAL_IMAGES} images, prediction + evaluation), runtime ort:`);
    const haveFull = existsSync(join(fullDir, 'images')) || existsSync(join(fullDir, '0--Parade'));
    for (const row of fullRows) {
      const m = /^(.*)-(\d+)$/.exec(row)!;
      const original = ORIGINAL_SECONDS[row];
      if (haveFull) {
        const t0 = performance.now();
        const r = await runAccuracy({ models: [m[1]], longSides: [Number(m[2])], widerDir: fullDir, jobs, outDir: workDir('bench-accuracy', 'full') });
        const seconds = (performance.now() - t0) / 1000;
        const x = r.rows[0];
        full.push({ row, measured: true, seconds, original, speedup: original ? original / seconds : undefined, ap: x.ap, rerun: x.rerun });
        log(`   ${row.padEnd(13)} ${seconds.toFixed(1)} s  vs original ${original ?? '?'} s  -> ${original ? (original / seconds).toFixed(1) + 'x' : '-'}   AP ${x.ap.easy.toFixed(4)} / ${x.ap.medium.toFixed(4)} / ${x.ap.hard.toFixed(4)}`);
      } else {
        // estimate from the val-mini rate of this row
        const t0 = performance.now();
        const r = await runAccuracy({ models: [m[1]], longSides: [Number(m[2])], jobs, outDir: workDir('bench-accuracy', 'mini') });
        const perImage = (performance.now() - t0) / 1000 / r.images;
        const seconds = perImage * FULL_VAL_IMAGES;
        full.push({ row, measured: false, seconds, original, speedup: original ? original / seconds : undefined });
        log(`   ${row.padEnd(13)} ~${seconds.toFixed(0)} s (ESTIMATE from val-mini; full val not found at ${fullDir})  vs original ${original ?? '?'} s  -> ~${original ? (original / seconds).toFixed(1) + 'x' : '-'}`);
      }
    }
  }
  out.fullRows = full;

  if (!flag('skip-eval')) {
    log('\n3. fdk eval on the full known-preds folder (seed-rfb-320, 3226 files):');
    try {
      const { benchEval } = (await import('./eval.js')) as typeof import('./eval.js');
      const e = benchEval({ runs: 3 });
      out.eval = e;
      log(`   fdk eval ${e.fdkMedianSeconds.toFixed(2)} s (median of ${e.fdkSeconds.length}, ${e.fdkCommand}) vs Python ${e.python.seconds.toFixed(1)} s (${e.python.measured ? 'measured' : 'quoted'}) -> ${e.speedup.toFixed(1)}x`);
    } catch (e) {
      out.eval = { error: (e as Error).message };
      log(`   unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (json) console.log(JSON.stringify(out, null, 2));
}

await main();
