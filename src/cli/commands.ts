/** The list of commands: each module exports `register(program)`. One line per command. */
import type { Command } from 'commander';
import { register as report } from './report.js';
import { register as setup } from './setup.js';
import { register as bench } from './bench.js';
import { register as parity } from './parity.js';
import { register as models } from './models.js';
import { register as convert } from './convert.js';
import { register as evalCmd } from './eval.js';
import { register as analyze } from './analyze.js';
import { register as detect } from './detect.js';
import { register as accuracy } from './accuracy.js';

export const COMMANDS: ((p: Command) => void)[] = [
  models,
  convert,
  analyze,
  setup,
  bench,
  parity,
  evalCmd,
  report,
  detect,
  accuracy,
];
