/**
 * Opens a report.html in headless Debian Chromium (playwright-core, no bundled browser) and
 * collects what the report tests check: tables with rows, every SVG plot's rendered size, and
 * console/page errors. Saves a full-page screenshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface RenderedPlot {
  section: string;
  label: string;
  width: number;
  height: number;
  /** Drawn marks inside the plot (polylines, bars). */
  marks: number;
}

export interface RenderedPage {
  tables: { id: string; rows: number; visible: boolean }[];
  /** The verdict box: overall class and one entry per check row (status badge, title, key number). */
  verdict: { overall: string; visibleInFirstScreen: boolean; checks: { status: string; title: string; key: string }[] };
  plots: RenderedPlot[];
  consoleErrors: string[];
  /** Requests to anything but the file itself (must be none: the report is self-contained). */
  externalRequests: string[];
}

export async function renderReport(htmlPath: string, screenshotPath: string): Promise<RenderedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'fdk-chromium-'));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    const externalRequests: string[] = [];
    const url = pathToFileURL(htmlPath).href;
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== url) externalRequests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    const result = await page.evaluate(() => {
      const tables = [...document.querySelectorAll('table.report-table')].map((t) => {
        const r = (t as HTMLElement).getBoundingClientRect();
        return { id: t.id, rows: t.querySelectorAll('tbody tr').length, visible: r.width > 0 && r.height > 0 };
      });
      const plots = [...document.querySelectorAll('svg.plot')].map((s) => {
        const r = s.getBoundingClientRect();
        const marks = [...s.querySelectorAll('polyline, rect.bar, circle.point')].filter((m) => {
          const b = (m as SVGGraphicsElement).getBBox();
          return b.width > 0 || b.height > 0;
        }).length;
        return { section: s.closest('section')?.id ?? '', label: s.getAttribute('aria-label') ?? '', width: r.width, height: r.height, marks };
      });
      const box = document.querySelector('section#verdict');
      const br = box?.getBoundingClientRect();
      const verdict = {
        overall: box?.classList.contains('pass') ? 'pass' : box?.classList.contains('fail') ? 'fail' : '',
        visibleInFirstScreen: !!br && br.top >= 0 && br.top < window.innerHeight && br.height > 0,
        checks: [...document.querySelectorAll('#table-verdict tr.check')].map((tr) => {
          const td = tr.querySelectorAll('td');
          return { status: td[0]?.textContent ?? '', title: td[1]?.textContent ?? '', key: td[2]?.textContent ?? '' };
        }),
      };
      return { tables, plots, verdict };
    });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return { ...result, consoleErrors, externalRequests };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
