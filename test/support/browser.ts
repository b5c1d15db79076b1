import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findChromium, NO_CHROMIUM } from './chromium.ts';
import { ROOT } from './keygate.ts';

/** Headless Chromium through playwright-core; fails (never skips) when the machine has none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  // Tests often run as root in CI, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, chromiumSandbox: false });
}

/** Screenshots of each page go here (git-ignored), for a person to look at after a run. */
export const SCREENSHOTS = join(ROOT, 'test-results/console');
