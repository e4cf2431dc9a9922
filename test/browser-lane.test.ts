/**
 * The browser lane: `fdk parity` / `fdk bench --browser chromium` run ort-wasm and ncnn-wasm inside
 * real headless Chromium (Debian's /usr/bin/chromium) behind a local COOP/COEP server, and their
 * outputs come back in the same JSON as the Node lanes. Needs `npm run build` (the page scripts are
 * served from dist/) and the ncnn-wasm build.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../src/browser/chromium.js';
import { openPage } from '../src/browser/runtime.js';
import { startServer } from '../src/browser/server.js';
import { findNcnnWasm } from '../src/runtime/ncnn-wasm/locate.js';
import { expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

const tmp = mkdtempSync(join(tmpdir(), 'fdk-browser-lane-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fdk parity --browser chromium', () => {
  it('ncnn-wasm and ort-wasm in Chromium give the Node outputs (<= 1e-4), in a cross-origin isolated page with SIMD', async () => {
    const r = await runCliAsync(['parity', 'ulfd-rfb-320', '--runtimes', 'ort,ncnn-wasm,ort-wasm', '--browser', 'chromium', '--max-images', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    const names = j.runtimes.map((x: { name: string }) => x.name);
    expect(names).toEqual(['ort', 'ncnn-wasm', 'ort-wasm', 'ncnn-wasm@chromium', 'ort-wasm@chromium']);
    for (const lane of j.runtimes.filter((x: { name: string }) => x.name.endsWith('@chromium')))
      expect(lane.notes.join(' '), lane.name).toMatch(/\(simd\) in HeadlessChrome\/[\d.]+; crossOriginIsolated=true, SIMD=true/);
    const pairs = Object.fromEntries(j.pairs.map((p: { a: string; b: string; outputs: Record<string, { maxAbs: number }> }) => [`${p.a}/${p.b}`, p.outputs]));
    for (const key of ['ort/ncnn-wasm@chromium', 'ort/ort-wasm@chromium', 'ncnn-wasm/ncnn-wasm@chromium', 'ort-wasm/ort-wasm@chromium'])
      for (const [name, d] of Object.entries(pairs[key] as Record<string, { maxAbs: number }>)) expect(d.maxAbs, `${key} ${name}`).toBeLessThanOrEqual(1e-4);
    // the same wasm engine gives the same bits in Node and in Chromium
    for (const d of Object.values(pairs['ncnn-wasm/ncnn-wasm@chromium'] as Record<string, { maxAbs: number }>)) expect(d.maxAbs).toBe(0);
  });
});

describe('fdk bench --browser chromium', () => {
  it('one table: Node and Chromium lanes of both engines, threads 1 and 2', async () => {
    const threads = findNcnnWasm('simd-threads') ? ['1', '2'] : ['1'];
    const r = await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ncnn-wasm,ort-wasm', '--browser', 'chromium', '--threads', threads.join(','),
      '--warmup', '0', '--runs', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const got = j.cases.map((c: { runtime: string; threads: number }) => `${c.runtime}/${c.threads}`);
    const want = ['ncnn-wasm', 'ort-wasm', 'ncnn-wasm@chromium', 'ort-wasm@chromium'].flatMap((rt) => threads.map((t) => `${rt}/${t}`));
    expect(got).toEqual(want);
    for (const c of j.cases) {
      expect(c.error, `${c.runtime}/${c.threads}`).toBeUndefined();
      expect(c.latency.median).toBeGreaterThan(0);
      if (c.runtime.endsWith('@chromium')) expect(c.notes.join(' ')).toMatch(new RegExp(`\\((${c.threads > 1 ? 'simd-threads' : 'simd'})\\).*crossOriginIsolated=true`));
    }
  });
});

describe('browser lane bad input', () => {
  it('an unknown browser, and a browser that is not installed: one line each', async () => {
    expectOneLineError(await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ncnn-wasm', '--browser', 'firefox']), /unknown browser 'firefox' \(known: chromium\)/);
    const missing = await runCliAsync(['parity', 'ulfd-slim-320', '--runtimes', 'ort,ncnn-wasm', '--browser', 'chromium'], {
      env: { ...process.env, CI: 'true', FDK_CHROMIUM: join(tmp, 'no-chromium') },
    });
    expectOneLineError(missing, /browser 'chromium' not found at .*no-chromium/);
    expectOneLineError(await runCliAsync(['bench', 'ulfd-slim-320', '--runtimes', 'ort', '--browser', 'chromium']), /none of the runtimes ort runs in a browser/);
  });

  it('a page that fails to load names the URL and the page\'s own error', async () => {
    const html = join(tmp, 'broken.html');
    writeFileSync(html, '<!doctype html><script type="module">throw new Error("engine exploded")</script>');
    const server = await startServer({ dirs: {}, files: { '/broken.html': html } });
    const b = await launchChromium();
    try {
      await expect(openPage(b.context, `${server.url}/broken.html`, 'fdkLane', 5_000)).rejects.toThrow(/the page failed to load \(http:\/\/127\.0\.0\.1:\d+\/broken\.html\): .*engine exploded/);
      await expect(openPage(b.context, `${server.url}/missing.html`, 'fdkLane', 5_000)).rejects.toThrow(/missing\.html\): HTTP 404/);
    } finally {
      await b.close();
      await server.close();
    }
  });

  it('the server sends COOP/COEP and serves nothing outside its routes', async () => {
    const server = await startServer({ dirs: { '/d/': tmp }, files: {} });
    try {
      writeFileSync(join(tmp, 'a.txt'), 'x');
      const ok = await fetch(`${server.url}/d/a.txt`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(ok.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect((await fetch(`${server.url}/d/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
      expect((await fetch(`${server.url}/d/`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
