import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The commit the "before" app of `npm run bench` runs: main just before the sign-in's cost was
 * cut (issue #16: the login's extra hop, pages that re-read the record, separate round trips
 * for a lock check and a failure count's reset). Its figures and this tree's come from one run.
 */
export const BEFORE_REVISION = '502fc2e';

/** Where its sources are extracted (ignored by git). */
export const beforeDir = fileURLToPath(new URL('./.before/', import.meta.url));

/**
 * Extracts the package's sources at BEFORE_REVISION (src, views, public) from this clone's
 * history, and returns the path of its entry module. They import their dependencies from this
 * tree's node_modules, as the package would from an app's.
 */
export async function extractBefore(): Promise<string> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  rmSync(beforeDir, { recursive: true, force: true });
  mkdirSync(beforeDir, { recursive: true });
  try {
    const archive = `${beforeDir}before.tar`;
    await run('git', ['-C', root, 'archive', '--format=tar', '-o', archive, BEFORE_REVISION, 'src', 'views', 'public']);
    await run('tar', ['-xf', archive, '-C', beforeDir]);
  } catch (error) {
    throw new Error(`bench: could not extract commit ${BEFORE_REVISION} for the "before" app (a clone with its history is needed): ${(error as Error).message}`);
  }
  return `${beforeDir}src/index.ts`;
}
