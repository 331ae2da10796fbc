/**
 * For tests that need something `.ci/run` provides: the native TensorFlow backend,
 * Chromium, Python TensorFlow (for the Keras export check) or ../shared (data, weights,
 * fixtures). Outside CI such a test skips, saying what is missing. In CI (`CI=true`)
 * it fails instead, naming what .ci/run should have installed, so a broken install
 * step cannot hide behind skips.
 *
 * Tests that skip for other reasons (e.g. Linux-only behaviour) do not use this.
 */
import { it } from "vitest";

export const IN_CI = process.env.CI === "true";

/**
 * Whether to skip the tests that need `what`; `problem` is why it is missing, or null
 * when it is there. In CI a missing `what` registers a failing test here (at the place
 * of the call: file or describe level) and the dependent tests are skipped.
 */
export function skipUnlessAvailable(what: string, problem: string | null): boolean {
  if (problem === null) return false;
  if (IN_CI) {
    it(`needs ${what} (.ci/run installs it)`, () => {
      throw new Error(`missing in CI: ${what} (${problem}); .ci/run should have installed it, check its log`);
    });
  } else {
    process.stderr.write(`skipped, needs ${what}: ${problem}\n`);
  }
  return true;
}
