/**
 * The command table: name -> module exporting `register(program)`. Modules are imported lazily so
 * that `fdk eval` does not pay for loading onnxruntime, sharp or the converters (start-up time
 * matters for the whole-process benchmarks). One line per command.
 */
import type { Command } from 'commander';

type Registrar = () => Promise<{ register: (p: Command) => void }>;

export const COMMANDS: Record<string, Registrar> = {
  models: () => import('./models.js'),
  convert: () => import('./convert.js'),
  analyze: () => import('./analyze.js'),
  setup: () => import('./setup.js'),
  bench: () => import('./bench.js'),
  parity: () => import('./parity.js'),
  eval: () => import('./eval.js'),
  report: () => import('./report.js'),
  detect: () => import('./detect.js'),
  accuracy: () => import('./accuracy.js'),
  serve: () => import('./serve.js'),
  quantize: () => import('./quantize.js'),
};
