/**
 * Headless Chromium for the browser lane and the demo-page tests: Debian's /usr/bin/chromium
 * driven by playwright-core (which ships no browser). FDK_CHROMIUM overrides the path.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { FdkError } from '../util/errors.js';

export const BROWSERS = ['chromium'] as const;
export type BrowserName = (typeof BROWSERS)[number];

export function chromiumPath(): string {
  return process.env.FDK_CHROMIUM ?? '/usr/bin/chromium';
}

/** Checks a --browser value up front: known name, and the browser is installed. */
export function checkBrowser(name: string): BrowserName {
  if (!(BROWSERS as readonly string[]).includes(name)) throw new FdkError(`unknown browser '${name}' (known: ${BROWSERS.join(', ')})`);
  const path = chromiumPath();
  if (!existsSync(path))
    throw new FdkError(`browser '${name}' not found at ${path}: install it (apt-get install chromium, or scripts/setup-system.sh) or set FDK_CHROMIUM`);
  return name as BrowserName;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  checkBrowser('chromium');
  // playwright-core is a devDependency of the package; import it on demand so that the CLI
  // without --browser never needs it.
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new FdkError('the browser lane needs the npm package playwright-core (npm install playwright-core)');
  }
  const profile = mkdtempSync(join(tmpdir(), 'fdk-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--enable-features=SharedArrayBuffer'],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new FdkError(`chromium does not start (${chromiumPath()}): ${String((e as Error).message ?? e).split('\n')[0]}`);
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
