/**
 * Interleaved ncnn speed of two conversions of one model (fdk's and pnnx's `.param`): both are
 * loaded in real ncnn (one worker each, 1 thread) and run in alternating rounds, so the load of a
 * shared machine falls on both alike. Times are what ncnn's worker measures around its own forward
 * pass (as `fdk bench`): the wall time, and the CPU time of the same span. The ratio is of CPU
 * times — with the load average at 25-30 on 2 cores the wall time of one model moved 3x between
 * rounds, its CPU time far less — fdk/pnnx of the medians of all runs; its spread is the range of
 * the per-round ratios (median of a round's fdk runs / median of the same round's pnnx runs): a
 * model is "slower" only when every round was (the whole spread above 1).
 *
 *   npx tsx scripts/corpus/speed.ts A.param B.param 1x3x224x224 [--rounds 5] [--runs 10]
 */
import { loadavg } from 'node:os';
import { syntheticInputs } from '../../src/bench/case.js';
import { median } from '../../src/bench/stats.js';
import { getRuntime } from '../../src/runtime/index.js';
import type { LoadedModel } from '../../src/runtime/types.js';

export interface PairSpeed {
  /** Median wall ms of all timed runs of each model. */
  aMs: number;
  bMs: number;
  /** Median CPU ms of all timed runs of each model. */
  aCpuMs: number;
  bCpuMs: number;
  /** aCpuMs / bCpuMs. */
  ratio: number;
  /** Smallest and largest per-round ratio. */
  lo: number;
  hi: number;
  rounds: number;
  runs: number;
  /** 1-minute load average at the start and the end of the measurement. */
  load: [number, number];
  /** 'slower' / 'faster' only when every round agrees; 'level' otherwise. */
  verdict: 'slower' | 'faster' | 'level';
}

export interface PairOptions {
  rounds?: number;
  /** Timed runs per model and round, at least. */
  runs?: number;
  warmup?: number;
  /**
   * More runs per round for fast models: enough that each model's timed runs in a round add up
   * to about this many ms (by its warm-up runs in the first round). 6 runs of a 3 ms model are too
   * few to resolve a few percent; 6 of an 800 ms model are plenty.
   */
  minRoundMs?: number;
}

/** Wall and CPU ms of n runs (CPU = wall where the runtime does not measure it). */
async function timedRuns(m: LoadedModel, feeds: ReturnType<typeof syntheticInputs>, n: number): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await m.run(feeds);
    wall.push(r.ms);
    cpu.push(r.cpuMs ?? r.ms);
  }
  return { wall, cpu };
}

/**
 * Runs `a` and `b` (each with its own input name) in alternating rounds; the first of a round swaps
 * every round. Each round loads both models into new worker processes: a process keeps whatever
 * it drew at start (where its weights and buffers landed in memory), and with the same two
 * processes for every round that draw biased every round alike — the same .param timed against
 * pnnx's went from 0.87 to 1.40 between opsets whose fdk files are identical. Fresh processes per
 * round turn that bias into round-to-round spread, where the verdict rule can see it.
 */
export async function pairSpeed(a: string, b: string, dims: number[], o: PairOptions = {}): Promise<PairSpeed> {
  const rounds = o.rounds ?? 5, warmup = o.warmup ?? 3, minRoundMs = o.minRoundMs ?? 60;
  let runs = o.runs ?? 10;
  const rt = await getRuntime('ncnn');
  const load0 = loadavg()[0];
  const wall: number[][] = [[], []], cpu: number[][] = [[], []];
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const models: LoadedModel[] = [];
    try {
      for (const p of r % 2 ? [b, a] : [a, b]) models.push(await rt.load(p, { threads: 1 }));
      if (r % 2) models.reverse();
      const feeds = models.map((m) => syntheticInputs({ [m.inputNames[0]]: dims }));
      const warm: number[] = [];
      for (let i = 0; i < 2; i++) warm.push(...(await timedRuns(models[i], feeds[i], warmup)).cpu);
      if (r === 0) runs = Math.max(runs, Math.min(200, Math.ceil(minRoundMs / Math.max(0.05, median(warm)))));
      const meds: number[] = [0, 0];
      for (const i of r % 2 ? [1, 0] : [0, 1]) {
        const t = await timedRuns(models[i], feeds[i], runs);
        wall[i].push(...t.wall);
        cpu[i].push(...t.cpu);
        meds[i] = median(t.cpu);
      }
      perRound.push(meds[0] / meds[1]);
    } finally {
      for (const m of models) await m.release();
    }
  }
  const [aCpuMs, bCpuMs] = cpu.map(median);
  const lo = Math.min(...perRound), hi = Math.max(...perRound);
  return {
    aMs: median(wall[0]), bMs: median(wall[1]), aCpuMs, bCpuMs, ratio: aCpuMs / bCpuMs, lo, hi, rounds, runs,
    load: [load0, loadavg()[0]], verdict: lo > 1 ? 'slower' : hi < 1 ? 'faster' : 'level',
  };
}

export const pairLine = (s: PairSpeed) =>
  `CPU ${s.aCpuMs.toFixed(2)} vs ${s.bCpuMs.toFixed(2)} ms (wall ${s.aMs.toFixed(1)} vs ${s.bMs.toFixed(1)}), ratio ${s.ratio.toFixed(2)} (rounds ${s.lo.toFixed(2)}-${s.hi.toFixed(2)}, ${s.verdict}; ${s.rounds}x${s.runs} runs, load ${s.load.map((x) => x.toFixed(1)).join('->')})`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : undefined);
  const [a, b, shape] = args.filter((x, i) => !x.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!a || !b || !shape) throw new Error('usage: speed.ts A.param B.param 1x3x224x224 [--rounds 5] [--runs 10]');
  console.log(pairLine(await pairSpeed(a, b, shape.split('x').map(Number), { rounds: opt('--rounds'), runs: opt('--runs') })));
}

if (process.argv[1] && /corpus[\\/]speed\.ts$/.test(process.argv[1]))
  main().catch((e) => {
    console.error(`speed: ${(e as Error).message}`);
    process.exit(1);
  });
