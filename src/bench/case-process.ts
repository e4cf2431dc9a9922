/**
 * Child-process entry of `fdk bench`: runs exactly one case and sends the result back over IPC.
 * Each case gets a fresh process so peak RSS belongs to that case alone and the wasm backend can be
 * initialised with the requested thread count (it reads numThreads once per process).
 */
import { runCase, type CaseSpec } from './case.js';

process.once('message', (spec: CaseSpec) => {
  runCase(spec).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (e: unknown) => process.send!({ error: e instanceof Error ? e.message : String(e) }, () => process.exit(0)),
  );
});
