/**
 * The node flags of our own test runs (.mocharc.json): TypeScript through tsx, the package's
 * self-reference (`passport-second-factor`) resolved to src/ rather than a stale or missing
 * dist/, and the Express major EXPRESS_MAJOR names. A child process that loads the example
 * portal needs them as much as the test process does.
 */
export const testNodeFlags: readonly string[] = [
  '--import',
  'tsx',
  '--conditions=passport-second-factor:source',
  '--import',
  new URL('../support/express-major.mjs', import.meta.url).href,
];
