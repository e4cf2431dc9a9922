/**
 * float32Repr (the WIDER text's str(float32 score)) against the plain definition: the first of
 * 1..9 significant digits that reads back as the same float32. On N random float32 bit patterns
 * and N random scores in (0.02, 1], and on every score of the given WIDER prediction folders
 * (e.g. a full-val run of main): each printed score must print again the same.
 *
 *   npx tsx perf/repr-check.ts --random 5000000 .fdk/preds/slim-320 .fdk/preds/mnet0.25-640
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32Repr } from '../src/accuracy/pipeline.js';

const f = Math.fround;
const args = process.argv.slice(2);
const at = args.indexOf('--random');
const random = at >= 0 ? Number(args[at + 1]) : 1_000_000;
const folders = args.filter((a, k) => !a.startsWith('--') && args[k - 1] !== '--random');

function reprLinear(v: number): string {
  let p = 1;
  while (p < 9 && f(Number(v.toPrecision(p))) !== v) p++;
  const s = String(Number(v.toPrecision(p)));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

let bad = 0;
const bits = new Uint32Array(1);
const asF32 = new Float32Array(bits.buffer);
let seed = 12345;
const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
for (let k = 0; k < random; k++) {
  bits[0] = next();
  const v = asF32[0];
  if (Number.isFinite(v) && float32Repr(v) !== reprLinear(v)) bad++;
  const s = f(0.02 + (next() / 2 ** 32) * 0.98);
  if (float32Repr(s) !== reprLinear(s)) bad++;
}
console.log(`${random} random float32 bit patterns + ${random} random scores: ${bad} differ from the linear search`);
for (const dir of folders) {
  let scores = 0;
  let differ = 0;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.txt')) continue;
    for (const l of readFileSync(join(dir, name), 'utf8').split('\n').slice(2)) {
      const s = l.split(' ')[4];
      if (!s) continue;
      scores++;
      if (float32Repr(f(Number(s))) !== s) differ++;
    }
  }
  bad += differ;
  console.log(`${dir}: ${scores} scores, ${differ} printed differently`);
}
process.exit(bad ? 1 : 0);
