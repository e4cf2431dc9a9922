/**
 * `npm run docs:screenshots [-- REPORT.html|report.json]`: screenshots of the report for the docs,
 * taken in headless Chromium (playwright-core with the system browser, as test/report-browser.ts):
 *   docs/report-first-screen.png  the first screen (1280x800): verdict box and table of contents
 *   docs/report-scatter.png       the speed-against-accuracy scatter
 * Source: the argument; else reports/latest/report.html (the last full `fdk report`); else a page
 * rendered from reports/baseline.json (the committed baseline numbers, without PR curves).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../src/util/data.js';
import { readReportFile } from '../src/cli/report.js';
import { renderHtml } from '../src/report/render-html.js';
import { chromiumPath } from '../src/browser/chromium.js';

const DOCS = join(PROJECT_ROOT, 'docs');

/** The report.html to photograph, rendering one from a report.json when needed. */
function sourceHtml(arg: string | undefined): string {
  const latest = join(PROJECT_ROOT, 'reports', 'latest', 'report.html');
  const path = arg ? resolve(arg) : existsSync(latest) ? latest : join(PROJECT_ROOT, 'reports', 'baseline.json');
  if (path.endsWith('.html')) return path;
  const dir = join(PROJECT_ROOT, '.fdk', 'docs-screenshots');
  mkdirSync(dir, { recursive: true });
  const html = join(dir, 'report.html');
  writeFileSync(html, renderHtml(readReportFile(path, 'report')));
  return html;
}

async function main(): Promise<void> {
  const html = sourceHtml(process.argv[2]);
  const profile = mkdtempSync(join(tmpdir(), 'fdk-shots-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    // written under temp names and renamed: an interrupted run leaves the old pictures
    const shots: [string, (tmp: string) => Promise<unknown>][] = [
      ['report-first-screen.png', (tmp) => page.screenshot({ path: tmp })],
      ['report-scatter.png', (tmp) => page.locator('#plots-scatter svg').first().screenshot({ path: tmp })],
    ];
    for (const [name, take] of shots) {
      const out = join(DOCS, name);
      const tmp = `${out}.tmp.png`;
      await take(tmp);
      renameSync(tmp, out);
      console.log(`wrote ${out}`);
    }
    console.log(`from ${html}`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`docs:screenshots: ${(e as Error).message.split('\n')[0]}`);
  process.exit(1);
});
