/**
 * ONNX LSTM/GRU/RNN nodes always name their final-state outputs (Y_h, Y_c), and torch exports
 * them even when nothing reads them (CRNN reads only Y). ncnn's recurrent layers take 1 or 1 + states
 * outputs; with nobody reading the states the layer keeps its sequence output only, as pnnx
 * writes it, so ncnn does not fill two more Mats per run and a caller does not see them as
 * extra network outputs.
 */
import { blobReaders, type Pass } from './graph-util.js';

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);

export const trimRecurrentStates: Pass = (net, { outputs }) => {
  const changes: string[] = [];
  const readers = blobReaders(net.layers);
  for (const l of net.layers) {
    if (!RECURRENT.has(l.type) || l.outputs.length < 2) continue;
    if (l.outputs.slice(1).some((b) => outputs.has(b) || readers.has(b))) continue;
    l.outputs = l.outputs.slice(0, 1);
    changes.push(l.name);
  }
  return { changes };
};
