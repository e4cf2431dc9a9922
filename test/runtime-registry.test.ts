/**
 * The runtime registry: one list of names the CLI, bench, parity, accuracy and the report read;
 * `wasm` is an alias of `ort-wasm` that warns once; browser lanes are `<runtime>@chromium`.
 */
import { describe, it, expect, vi } from 'vitest';
import { canonicalRuntimeName, getRuntime, parseRuntimeList, RUNTIME_NAMES, runtimeEntry, withBrowserLanes } from '../src/runtime/index.js';

describe('runtime registry', () => {
  it('lists the four runtimes, each loading an adapter that reports its own name', async () => {
    expect(RUNTIME_NAMES).toEqual(['ort', 'ort-wasm', 'ncnn', 'ncnn-wasm']);
    for (const n of ['ort', 'ort-wasm', 'ncnn-wasm']) expect((await (await getRuntime(n)).info()).name).toBe(n);
    expect(runtimeEntry('ncnn-wasm@chromium')).toMatchObject({ name: 'ncnn-wasm', engine: 'ncnn', browser: true });
  });

  it("'wasm' maps to 'ort-wasm' with one warning per process", () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(parseRuntimeList('ort,wasm,ort-wasm')).toEqual(['ort', 'ort-wasm']);
      expect(canonicalRuntimeName('wasm@chromium')).toBe('ort-wasm@chromium');
      const warnings = write.mock.calls.map((c) => String(c[0])).filter((s) => s.includes("'wasm' is now called 'ort-wasm'"));
      expect(warnings).toHaveLength(1);
    } finally {
      write.mockRestore();
    }
  });

  it('browser lanes: only browser runtimes, only known browsers', async () => {
    expect(parseRuntimeList('ncnn-wasm@chromium')).toEqual(['ncnn-wasm@chromium']);
    expect(() => parseRuntimeList('ncnn@chromium')).toThrow(/unknown runtime 'ncnn@chromium'/);
    expect(() => parseRuntimeList('ort-wasm@safari')).toThrow(/unknown runtime 'ort-wasm@safari'/);
    expect(await withBrowserLanes(['ort', 'ncnn-wasm', 'ort-wasm'], undefined)).toEqual(['ort', 'ncnn-wasm', 'ort-wasm']);
    expect(await withBrowserLanes(['ort', 'ncnn-wasm', 'ort-wasm'], 'chromium')).toEqual(['ort', 'ncnn-wasm', 'ort-wasm', 'ncnn-wasm@chromium', 'ort-wasm@chromium']);
    await expect(withBrowserLanes(['ort'], 'chromium')).rejects.toThrow(/none of the runtimes ort runs in a browser/);
  });
});
