import type { Reporter, TestModule } from 'vitest/node';
import { BROWSER_TEST, findChromium, NO_CHROMIUM } from './chromium.ts';

/**
 * Ends the run with one plain line, `tests: N passed, N failed`, that CI can read, and
 * a loud one above it when browser tests ran on a machine without Chromium (they fail).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      const failedBefore = failed;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      // A file that failed with no failed test (an import or a beforeAll threw, and its
      // tests were left unrun) is a failure too, not a row of skips.
      if (module.state() === 'failed' && failed === failedBefore) failed += 1;
    }
    if (testModules.some((m) => BROWSER_TEST.test(m.moduleId)) && !findChromium()) {
      process.stdout.write(`\n!!! BROWSER TESTS FAILED: ${NO_CHROMIUM}\n`);
    }
    process.stdout.write(
      `\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}
