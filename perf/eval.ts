/**
 * Benchmark of `fdk eval` on the full WIDER val prediction folder (known-preds/seed-rfb-320, 3226
 * images), whole process (start-up, .mat parsing, 3226 files, three difficulties), next to the
 * official Python evaluator on the same folder.
 *
 * The Python evaluator (the seed's widerface_evaluate: evaluation.py + its Cython bbox extension)
 * is not part of fdk and cannot be fetched at run time. To time it here, build it somewhere outside
 * the project and point to it:
 *   FDK_WIDER_PY_EVAL=/path/to/widerface_evaluate   (holds evaluation.py and the built bbox*.so)
 *   FDK_WIDER_PY=/path/to/python                    (with numpy<1.24, scipy, tqdm, IPython; default python3)
 * Without it the script quotes the time measured on these machines (50.6 s, 2 cores).
 *
 * Run: npm run bench:eval [-- --runs N]   (bench:accuracy calls benchEval()).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT, resolveDataDir } from '../src/util/data.js';
import { median } from '../src/bench/stats.js';

/** Official evaluator on this machine kind (2 cores), 2026-11-27: 50.6 s wall for seed-rfb-320. */
export const QUOTED_PYTHON_SECONDS = 50.6;

export interface EvalBench {
  predDir: string;
  /** How fdk was started: the built CLI (bin/fdk.js) or the TypeScript sources via tsx. */
  fdkCommand: string;
  fdkSeconds: number[];
  fdkMedianSeconds: number;
  /** CPU time (user + sys) of each fdk run, when /proc is there. */
  fdkCpuSeconds: number[];
  ap: { easy: number; medium: number; hard: number };
  python: { seconds: number; cpuSeconds?: number; measured: boolean; ap?: { easy: number; medium: number; hard: number }; note: string };
  speedup: number;
}

/** dist/ holds a build of the current evaluator sources (else the sources are run through tsx). */
function builtIsFresh(): boolean {
  const pairs: [string, string][] = [['cli/eval', 'cli/eval'], ...['mat', 'ground-truth', 'predictions', 'evaluate', 'index'].map(
    (m): [string, string] => [`accuracy/wider/${m}`, `accuracy/wider/${m}`],
  )];
  for (const [src, out] of pairs) {
    const js = join(PROJECT_ROOT, 'dist', `${out}.js`);
    if (!existsSync(js)) return false;
    if (statSync(js).mtimeMs < statSync(join(PROJECT_ROOT, 'src', `${src}.ts`)).mtimeMs) return false;
  }
  return true;
}

/**
 * CPU seconds of waited-for children (Linux /proc: cutime + cstime, clock ticks of 1/100 s).
 * Reported beside wall time because on a shared 2-core machine wall time swings with other load.
 */
function childCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // fields 16, 17 of proc(5), counted from field 3
  } catch {
    return undefined;
  }
}

function timed(cmd: string, args: string[], cwd: string): { seconds: number; cpuSeconds?: number; stdout: string; stderr: string; code: number } {
  const c0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = childCpuSeconds();
  const cpuSeconds = c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined;
  return { seconds, cpuSeconds, stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
}

export function benchEval(opts: { runs?: number; log?: (s: string) => void } = {}): EvalBench {
  const log = opts.log ?? (() => {});
  const runs = opts.runs ?? 5;
  const data = resolveDataDir()!;
  const predDir = join(data, 'wider', 'known-preds', 'seed-rfb-320');
  const gtDir = join(data, 'wider', 'ground_truth');
  const built = builtIsFresh();
  const fdkArgs = built
    ? [join(PROJECT_ROOT, 'bin', 'fdk.js')]
    : ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'entry.ts')];
  const fdkCommand = built ? 'node bin/fdk.js' : 'node --import tsx src/cli/entry.ts (dist/ missing or stale: sources via tsx)';

  const fdkSeconds: number[] = [];
  const fdkCpuSeconds: number[] = [];
  let ap = { easy: NaN, medium: NaN, hard: NaN };
  for (let i = 0; i < runs; i++) {
    const r = timed(process.execPath, [...fdkArgs, 'eval', predDir, '--gt', gtDir, '--json'], PROJECT_ROOT);
    if (r.code !== 0) throw new Error(`fdk eval failed: ${r.stderr.trim()}`);
    const out = JSON.parse(r.stdout);
    ap = { easy: out.easy, medium: out.medium, hard: out.hard };
    fdkSeconds.push(r.seconds);
    if (r.cpuSeconds !== undefined) fdkCpuSeconds.push(r.cpuSeconds);
    log(`  fdk eval run ${i + 1}/${runs}: ${r.seconds.toFixed(3)} s wall${r.cpuSeconds !== undefined ? `, ${r.cpuSeconds.toFixed(2)} s CPU` : ''}`);
  }
  const fdkMedianSeconds = median(fdkSeconds);

  let python: EvalBench['python'] = {
    seconds: QUOTED_PYTHON_SECONDS,
    measured: false,
    note: 'quoted (measured on this machine kind); set FDK_WIDER_PY_EVAL to re-measure',
  };
  const pyDir = process.env.FDK_WIDER_PY_EVAL;
  if (pyDir) {
    if (!existsSync(join(pyDir, 'evaluation.py'))) throw new Error(`FDK_WIDER_PY_EVAL=${pyDir} has no evaluation.py`);
    log('  running the official Python evaluator once (about a minute)...');
    const r = timed(process.env.FDK_WIDER_PY ?? 'python3', ['evaluation.py', '-p', predDir, '-g', gtDir], pyDir);
    if (r.code !== 0) throw new Error(`Python evaluator failed: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
    const num = (name: string) => Number(new RegExp(`${name}\\s+Val AP: ([0-9.eE+-]+)`).exec(r.stdout)?.[1]);
    python = {
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      measured: true,
      ap: { easy: num('Easy'), medium: num('Medium'), hard: num('Hard') },
      note: `measured: ${pyDir}/evaluation.py`,
    };
  }
  return { predDir, fdkCommand, fdkSeconds, fdkMedianSeconds, fdkCpuSeconds, ap, python, speedup: python.seconds / fdkMedianSeconds };
}

/** Lines for a human: fdk vs Python, and the ratio against the 20x goal. */
export function formatEvalBench(b: EvalBench): string[] {
  const lines = [
    `fdk eval, full WIDER val (3226 images, ${b.predDir}):`,
    `  fdk (${b.fdkCommand}), whole process: median ${b.fdkMedianSeconds.toFixed(3)} s over ${b.fdkSeconds.length} runs ` +
      `(min ${Math.min(...b.fdkSeconds).toFixed(3)} s)  AP ${b.ap.easy.toFixed(6)} / ${b.ap.medium.toFixed(6)} / ${b.ap.hard.toFixed(6)}`,
    ...(b.fdkCpuSeconds.length ? [`  fdk CPU time (user+sys): median ${median(b.fdkCpuSeconds).toFixed(2)} s`] : []),
    `  official Python evaluator: ${b.python.seconds.toFixed(1)} s wall${b.python.cpuSeconds !== undefined ? `, ${b.python.cpuSeconds.toFixed(1)} s CPU` : ''} (${b.python.note})` +
      (b.python.ap ? `  AP ${b.python.ap.easy.toFixed(6)} / ${b.python.ap.medium.toFixed(6)} / ${b.python.ap.hard.toFixed(6)}` : ''),
    `  speed-up (wall): ${b.speedup.toFixed(1)}x (goal >= 20x)`,
  ];
  if (b.python.cpuSeconds !== undefined && b.fdkCpuSeconds.length)
    lines.push(`  speed-up (CPU time): ${(b.python.cpuSeconds / median(b.fdkCpuSeconds)).toFixed(1)}x`);
  if (b.python.ap) {
    const d = Math.max(...(['easy', 'medium', 'hard'] as const).map((k) => Math.abs(b.ap[k] - b.python.ap![k])));
    lines.push(`  max |AP difference| vs Python: ${d.toExponential(2)}`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  const b = benchEval({ runs, log: (s) => console.error(s) });
  if (process.argv.includes('--json')) console.log(JSON.stringify(b, null, 2));
  else for (const l of formatEvalBench(b)) console.log(l);
}
