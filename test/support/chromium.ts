import { existsSync } from 'node:fs';

/** Where the browser tests look for Chromium, in order (CHROMIUM_PATH first). */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Browser tests are named `*.browser.test.ts`: they drive Chromium through playwright-core. */
export const BROWSER_TEST = /\.browser\.test\.ts$/;

export const NO_CHROMIUM =
  'No Chromium found for the browser tests: install it (`apt-get install chromium` on Debian, ' +
  'which .ci/run does) or set CHROMIUM_PATH to a Chromium or Chrome binary.';

/** The Chromium binary the browser tests drive, or undefined when the machine has none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}
