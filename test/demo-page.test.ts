/**
 * `fdk serve`'s demo page in real headless Chromium: a shared photo picked in the page, run with
 * ncnn-wasm and with ort-wasm, gives the boxes `fdk detect` gives for the same model (IoU >= 0.99),
 * and the page draws them (screenshot in test-artifacts/, checked not blank). Needs `npm run build`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedBrowser } from '../src/browser/chromium.js';
import { openPage } from '../src/browser/runtime.js';
import { startServer, type LocalServer } from '../src/browser/server.js';
import { demoRoutes } from '../src/demo/routes.js';
import { ROOT, shared, expectOneLineError } from './helpers/index.js';
import { runCliAsync } from './helpers/cli-async.js';

type Det = { box: [number, number, number, number]; score: number; landmarks?: [number, number][] };
const IMAGE = shared('images', 'seed-sample.jpg');

let server: LocalServer;
let browser: LaunchedBrowser;
let page: Page;
beforeAll(async () => {
  server = await startServer(demoRoutes());
  browser = await launchChromium();
  page = await openPage(browser.context, `${server.url}/`, 'fdkDemoReady');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** Runs the page on IMAGE with a model and engine; returns the detections it drew. */
async function detectInPage(model: string, engine: string): Promise<Det[]> {
  await page.selectOption('#model', model);
  await page.selectOption('#engine', engine);
  await page.selectOption('#long-side', '320');
  await page.evaluate(() => document.getElementById('view')!.removeAttribute('data-detections'));
  await page.setInputFiles('#photo', []); // picking the same file again fires no change event
  await page.setInputFiles('#photo', IMAGE);
  await page.waitForFunction(() => document.getElementById('view')!.hasAttribute('data-detections') || /^error/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  const status = await page.textContent('#status');
  expect(status).not.toMatch(/^error/);
  expect(status).toMatch(new RegExp(`${engine} .*inference [\\d.]+ ms`));
  return JSON.parse((await page.getAttribute('#view', 'data-detections'))!) as Det[];
}

async function detectCli(model: string): Promise<Det[]> {
  const r = await runCliAsync(['detect', IMAGE, '--model', model, '--long-side', '320', '--no-annotate', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).images[0].detections as Det[];
}

function expectSameBoxes(page: Det[], cli: Det[]) {
  expect(cli.length).toBeGreaterThan(0);
  expect(page.length).toBe(cli.length);
  for (const d of cli) {
    const best = Math.max(...page.map((p) => iou(p.box, d.box)));
    expect(best, `box ${d.box.join(',')}`).toBeGreaterThanOrEqual(0.99);
  }
}

describe('fdk serve demo page', () => {
  it('seed slim on ncnn-wasm draws the boxes and landmarks of fdk detect', async () => {
    const [inPage, cli] = [await detectInPage('slim', 'ncnn-wasm'), await detectCli('slim')];
    expectSameBoxes(inPage, cli);
    expect(inPage[0].landmarks).toHaveLength(5);
  });

  it('Ultra-Light RFB-320 on ort-wasm draws the boxes of fdk detect', async () => {
    expectSameBoxes(await detectInPage('ulfd-rfb-320', 'ort-wasm'), await detectCli('ulfd-rfb-320'));
  });

  it('the screenshot shows the photo with green boxes (not blank)', async () => {
    await detectInPage('slim', 'ncnn-wasm');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    const shot = join(ROOT, 'test-artifacts', 'demo-page.png');
    await page.locator('#view').screenshot({ path: shot });
    const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let green = 0;
    let sum = 0;
    let sum2 = 0;
    for (let i = 0; i < data.length; i += 3) {
      if (data[i + 1] > 200 && data[i] < 60 && data[i + 2] < 60) green++;
      const y = (data[i] + data[i + 1] + data[i + 2]) / 3;
      sum += y;
      sum2 += y * y;
    }
    const n = info.width * info.height;
    const std = Math.sqrt(sum2 / n - (sum / n) ** 2);
    expect(info.width).toBeGreaterThan(100);
    expect(std, 'pixel spread: a blank canvas has none').toBeGreaterThan(20);
    expect(green, 'box pixels').toBeGreaterThan(100);
  });

  it('fdk serve: a bad --port is one error line', async () => {
    expectOneLineError(await runCliAsync(['serve', '--port', 'x']), /bad --port 'x'/);
  });
});
