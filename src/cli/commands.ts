/** The list of commands: each module exports `register(program)`. One line per command. */
import type { Command } from 'commander';
import { register as models } from './models.js';
import { register as convert } from './convert.js';

export const COMMANDS: ((p: Command) => void)[] = [
  models,
  convert,
];
