/**
 * The model description: every manifest entry is one (validated like a user's file), the JSON
 * Schema in models/ names the same fields, each bad field is one error line `FILE: field.path:
 * problem`, and commands given a bad / missing / mismatched description stop without writing.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../src/models/manifest.js';
import { descriptionForModelFile, loadDescription, validateDescription, type ModelDescription } from '../src/models/description.js';
import { familyIds } from '../src/families/index.js';
import { PUBLISHED } from '../src/accuracy/targets.js';
import { saveOnnx } from '../src/onnx/io.js';
import { anchorFree, anchorFreeDescription, maskedSsdDescription } from './helpers/tiny-detectors.js';
import { expectOneLineError, ROOT, shared } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const dir = mkdtempSync(join(tmpdir(), 'fdk-desc-'));
const schema = JSON.parse(readFileSync(join(ROOT, 'models/model-description.schema.json'), 'utf8'));
const good = (): ModelDescription => structuredClone(anchorFreeDescription());
const errorOf = (obj: unknown) => {
  try {
    validateDescription(obj, 'd.json');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('descriptions', () => {
  it('every manifest entry carries a valid description; the seed and Ultra-Light lines are both the prior family', async () => {
    const all = loadManifest();
    expect(all.length).toBe(7);
    for (const m of all) {
      expect(validateDescription(m.description, m.id)).toEqual(m.description);
      expect(m.description.decode.family).toBe('prior');
      expect(m.description.decode.variant).toBe(m.family === 'seed' ? 'retinaface' : 'ultra-light');
    }
    // the published AP table lives in the entries too: one row per (model, long side) of the seed README
    expect(Object.keys(PUBLISHED).sort()).toEqual(['mnet0.25-320', 'mnet0.25-640', 'rfb-320', 'rfb-640', 'slim-320', 'slim-640', 'ulfd-rfb-320', 'ulfd-rfb-640', 'ulfd-slim-320', 'ulfd-slim-640']);
    expect(PUBLISHED['rfb-320']).toEqual(all.find((m) => m.id === 'rfb')!.publishedAp!.seedReadme!['320']);
  });

  it('the JSON Schema file lists the same families and fields the validator accepts', async () => {
    expect(schema.properties.decode.properties.family.enum).toEqual(familyIds());
    expect(schema.required).toEqual(['fdkDescription', 'input', 'preprocess', 'outputs', 'decode', 'postprocess']);
    for (const k of schema.required) {
      const d = good() as unknown as Record<string, unknown>;
      delete d[k];
      expect(errorOf(d)).toBe(`d.json: ${k}: missing`);
    }
    // every field the schema defines is known to the validator (no "unknown field"), per section
    const sections: [string, Record<string, unknown>, (d: ModelDescription) => Record<string, unknown>][] = [
      ['', schema.properties, (d) => d as unknown as Record<string, unknown>],
      ['postprocess', schema.properties.postprocess.properties, (d) => d.postprocess as unknown as Record<string, unknown>],
      ['preprocess', schema.properties.preprocess.properties, (d) => d.preprocess as unknown as Record<string, unknown>],
      ['input.resize', schema.properties.input.properties.resize.properties, (d) => d.input.resize as unknown as Record<string, unknown>],
      ['decode', schema.$defs.grid.properties, (d) => d.decode],
      ['int8', schema.properties.int8.properties, (d) => (d.int8 ??= { method: 'kl' }) as unknown as Record<string, unknown>],
    ];
    for (const [path, props, at] of sections) {
      for (const k of Object.keys(props)) {
        const d = good();
        at(d)[k] = '?'; // a wrong value: the error must be about the value, not an unknown field
        expect(errorOf(d), `${path}.${k}`).not.toMatch(/unknown field/);
      }
      const d = good();
      at(d).bogus = 1;
      expect(errorOf(d)).toMatch(new RegExp(`${path ? `${path}.` : ''}bogus: unknown field`));
    }
    for (const k of Object.keys(schema.$defs.prior.properties)) {
      const d = maskedSsdDescription(2) as unknown as { decode: Record<string, unknown> };
      d.decode[k] = '?';
      expect(errorOf(d), `decode.${k}`).not.toMatch(/unknown field/);
    }
  });

  it('one line per bad field, naming the field path', async () => {
    const cases: [(d: ModelDescription & Record<string, unknown>) => void, string][] = [
      [(d) => ((d as { fdkDescription: unknown }).fdkDescription = 2), 'fdkDescription: unsupported description version 2 (this fdk reads version 1)'],
      [(d) => (d.decode = { family: 'yolo-magic' }), "decode.family: unknown decode family 'yolo-magic' (known: prior, grid)"],
      [(d) => (d.decode.strides = [8, 'x']), 'decode.strides[1]: expected a number, got "x"'],
      [(d) => (d.decode.box = 'xyxy'), "decode.box: expected one of 'ltrb', 'cxcywh', got \"xyxy\""],
      [(d) => (d.decode.faceClass = 1), 'decode.faceClass: must be < classes (1), got 1'],
      [(d) => (d.preprocess.std = [1, 0, 1]), 'preprocess.std[1]: must be > 0, got 0'],
      [(d) => (d.preprocess.mean = [1, 2]), 'preprocess.mean: expected 3 values, got 2'],
      [(d) => (d.input.resize = { mode: 'fixed', width: 320 } as never), 'input.resize.height: missing'],
      [(d) => (d.input.resize.width = 320), "input.resize.width: not used with mode 'long-side'"],
      [(d) => delete (d.outputs as Record<string, string>).landmarks, 'outputs.landmarks: missing'],
      [(d) => (d.postprocess.nms = 0), 'postprocess.nms: must be > 0, got 0'],
      [(d) => (d.postprocess.topK = 2.5), 'postprocess.topK: expected an integer, got 2.5'],
      [(d) => (d.int8 = { method: 'fancy' } as never), "int8.method: expected one of 'kl', 'aciq', 'minmax', 'percentile', 'eq', got \"fancy\""],
      [(d) => (d.int8 = { autoKeep: 6 } as never), 'int8.method: missing'],
      [(d) => (d.int8 = { method: 'percentile', autoKeep: 0 }), 'int8.autoKeep: must be >= 1, got 0'],
      [(d) => (d.int8 = { method: 'percentile', keepFp32: ['conv1', ''] }), 'int8.keepFp32[1]: expected a non-empty string, got ""'],
    ];
    for (const [edit, msg] of cases) {
      const d = good() as ModelDescription & Record<string, unknown>;
      edit(d);
      expect(errorOf(d)).toBe(`d.json: ${msg}`);
    }
    const ssd = maskedSsdDescription(3);
    expect(errorOf(ssd)).toBe('d.json: decode.faceClass: must be < classes (3), got 3');
    const bad = join(dir, 'broken.json');
    writeFileSync(bad, '{"fdkDescription": 1,');
    expect(() => loadDescription(bad)).toThrow(/broken\.json: not a JSON model description/);
  });

  it('found embedded, beside the model, from --spec, or from the manifest entry owning the file', async () => {
    const onnx = join(dir, 'af.onnx');
    saveOnnx(anchorFree().model, onnx);
    expect((await descriptionForModelFile(onnx))!.source).toBe('embedded');
    const bare = join(dir, 'bare.onnx');
    saveOnnx(anchorFree(11, false).model, bare);
    expect(await descriptionForModelFile(bare)).toBeUndefined();
    writeFileSync(join(dir, 'bare.fdk.json'), JSON.stringify(anchorFreeDescription()));
    expect((await descriptionForModelFile(bare))!.source).toBe('sidecar');
    const linzaer = shared('models/ultra-light-1mb/onnx/version-RFB-320.onnx');
    const m = (await descriptionForModelFile(linzaer))!;
    expect([m.source, m.manifestId]).toEqual(['manifest', 'ulfd-rfb-320']);
  });
});

describe('commands refuse bad, missing and mismatched descriptions, writing nothing', () => {
  const sample = shared('images/seed-sample.jpg');
  const bare = join(dir, 'bare-cli.onnx');
  saveOnnx(anchorFree(11, false).model, bare);

  it('no description: detect says to pass --spec', async () => {
    const out = join(dir, 'out-none');
    const r = await runCliAsync(['detect', sample, '--model-file', bare, '--out', out]);
    expectOneLineError(r, /bare-cli\.onnx: no model description: .* pass --spec FILE/);
    expect(existsSync(out)).toBe(false);
  });

  it('a bad field in --spec: detect and accuracy name the file and field', async () => {
    const spec = join(dir, 'bad.json');
    const d = good() as unknown as { decode: Record<string, unknown> };
    d.decode.family = 'centernet';
    writeFileSync(spec, JSON.stringify(d));
    const out = join(dir, 'out-bad');
    expectOneLineError(await runCliAsync(['detect', sample, '--model-file', bare, '--spec', spec, '--out', out]), `${spec}: decode.family: unknown decode family 'centernet'`);
    expectOneLineError(await runCliAsync(['accuracy', '--model-file', bare, '--spec', spec, '--out', out]), `${spec}: decode.family: unknown decode family`);
    expect(existsSync(out)).toBe(false);
  });

  it('a description that does not match the model (other strides): the output row count mismatch is one line', async () => {
    const spec = join(dir, 'strides.json');
    const d = good();
    (d.decode as unknown as { strides: number[] }).strides = [8, 16, 32, 64];
    writeFileSync(spec, JSON.stringify(d));
    const out = join(dir, 'out-strides');
    expectOneLineError(await runCliAsync(['detect', sample, '--model-file', bare, '--spec', spec, '--out', out]), /output boxes has 1220 rows, but the description gives 1235 anchor points for a 320x180 input/);
    expect(existsSync(out)).toBe(false);
  });

  it('an output name the model does not have, with no unique fallback by shape', async () => {
    const spec = join(dir, 'names.json');
    const d = good();
    d.outputs.landmarks = 'points';
    (d.decode as unknown as { landmarks: number }).landmarks = 2; // last axis 4: only 'bbox' has it, and boxes took it by name
    writeFileSync(spec, JSON.stringify(d));
    expectOneLineError(await runCliAsync(['detect', sample, '--model-file', bare, '--spec', spec, '--no-annotate']), /model output 'points' \(landmarks, last axis 4\) not found/);
  });

  it('--spec without --model-file, and --arch without --weights', async () => {
    expectOneLineError(await runCliAsync(['detect', sample, '--model', 'slim', '--spec', 'x.json']), '--spec describes a --model-file');
    expectOneLineError(await runCliAsync(['accuracy', '--arch', 'slim']), '--arch and --weights go together');
  });
});
