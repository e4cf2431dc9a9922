/** The exports pass onnx.checker.check_model(full_check=True) of the PyPI onnx package (dev venv). */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { exportedOnnxPath } from '../src/convert/onnx-export.js';
import { ROOT } from './helpers/index.js';

const PY = join(ROOT, '.venv-dev', 'bin', 'python');

beforeAll(() => {
  if (!existsSync(PY)) {
    const r = spawnSync('flock', ['/tmp/fdk-pip.lock', 'bash', 'scripts/setup-python.sh'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`setup-python failed: ${r.stderr}`);
  }
});

const CHECK = `
import sys, onnx
for f in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(f), full_check=True)
    print("ok", f)
`;

describe('onnx.checker full_check', () => {
  it('all seven models, dynamic and fixed, --fold-bn, with and without the Ultra-Light tail, opsets 11 / 13 / 17', () => {
    const files = [
      ...['slim', 'rfb', 'mnet0.25'].flatMap((id) => [exportedOnnxPath(id), exportedOnnxPath(id, { foldBn: true })]),
      ...['ulfd-slim-320', 'ulfd-slim-640', 'ulfd-rfb-320', 'ulfd-rfb-640'].flatMap((id) => [exportedOnnxPath(id), exportedOnnxPath(id, { dynamic: false })]),
      exportedOnnxPath('ulfd-rfb-320', { postprocess: false }),
      ...[11, 17].flatMap((opset) => [exportedOnnxPath('mnet0.25', { opset }), exportedOnnxPath('ulfd-slim-320', { opset })]),
    ];
    const r = spawnSync(PY, ['-c', CHECK, ...files], { encoding: 'utf8' });
    expect(r.status, r.stderr.split('\n').slice(-3).join(' ')).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(files.length);
  });
});
