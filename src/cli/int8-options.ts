/**
 * The int8 recipe options, defined once for the commands with an ncnn-int8 accuracy row (accuracy,
 * report): `--int8-method M` and `--int8-auto-keep N` replace those fields of each model's own
 * recipe (its description's `int8`, src/quantize/cached.ts int8Plan).
 */
import type { Command } from 'commander';
import { FdkError } from '../util/errors.js';
import { CALIB_METHODS, type CalibMethod } from '../quantize/thresholds.js';
import type { Int8Override } from '../quantize/cached.js';

export function withInt8Options(cmd: Command): Command {
  return cmd
    .option('--int8-method <m>', `ncnn-int8 rows: calibration method instead of the model's recipe (${CALIB_METHODS.join(' | ')})`)
    .option('--int8-auto-keep <n>', "ncnn-int8 rows: keep N layers fp32 instead of the model's recipe (0 = every layer int8)");
}

/** The parsed options; `int8Row` = the command runs an ncnn-int8 row at all (the options mean nothing otherwise). */
export function int8Override(o: { int8Method?: string; int8AutoKeep?: string }, int8Row: boolean): Int8Override {
  if ((o.int8Method !== undefined || o.int8AutoKeep !== undefined) && !int8Row) throw new FdkError('--int8-method and --int8-auto-keep apply to ncnn-int8 accuracy rows; none is asked for');
  const out: Int8Override = {};
  if (o.int8Method !== undefined) {
    if (!(CALIB_METHODS as readonly string[]).includes(o.int8Method)) throw new FdkError(`bad --int8-method '${o.int8Method}': expected one of ${CALIB_METHODS.join(', ')}`);
    out.method = o.int8Method as CalibMethod;
  }
  if (o.int8AutoKeep !== undefined) {
    if (!/^\d+$/.test(o.int8AutoKeep) || !Number.isSafeInteger(Number(o.int8AutoKeep)))
      throw new FdkError(`bad --int8-auto-keep '${o.int8AutoKeep}': expected a whole number of layers (0 = none)`);
    out.autoKeep = Number(o.int8AutoKeep);
  }
  return out;
}
