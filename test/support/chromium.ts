import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';

/** Where the browser tests look for Chromium, in order (CHROMIUM_PATH first). */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Browser tests are named `*.browser.test.ts`: they drive Chromium through playwright-core. */
export const BROWSER_TEST = /\.browser\.test\.ts$/;

export const NO_CHROMIUM =
  'No Chromium found for the browser tests: install it (`apt-get install chromium` on Debian, ' +
  'which .ci/run does) or set CHROMIUM_PATH to a Chromium or Chrome binary.';

/** Screenshots of each console page go here (git-ignored), for a person to look at after a run. */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/console');

/** The Chromium binary the browser tests drive, or undefined when the machine has none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Headless Chromium through playwright-core; fails (never skips) when the machine has none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  // Loaded here, not at the top: the summary reporter imports this file for findChromium.
  const { chromium } = await import('playwright-core');
  // Tests often run as root in CI, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, chromiumSandbox: false });
}
