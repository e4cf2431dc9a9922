// Minimal standalone onnxruntime-node loop: the reference that `fdk bench` is compared with.
// usage: node ort-standalone.mjs MODEL THREADS DIMS(1x3x240x320) WARMUP RUNS  -> prints {"median": ms}
import * as ort from 'onnxruntime-node';
const [model, threads, dims, warmup, runs] = process.argv.slice(2);
const shape = dims.split('x').map(Number);
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
await session.run(feeds);
for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
const ms = [];
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  await session.run(feeds);
  ms.push(performance.now() - t0);
}
ms.sort((a, b) => a - b);
console.log(JSON.stringify({ median: ms[Math.floor(ms.length / 2)] }));
