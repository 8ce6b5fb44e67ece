import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What apps and npm see in the tests that install the package: a developer's shell, not this
 * test run. Variables npm sets for `npm test` would point a nested npm at this repo;
 * NODE_ENV=production would leave out devDependencies and make the apps refuse a MemoryStore.
 */
export const developerEnv: Readonly<NodeJS.ProcessEnv> = Object.freeze({
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_(lifecycle|package|command|config_local_prefix)|npm_config_prefix$|INIT_CWD$|NODE_OPTIONS$)/.test(name)),
  ),
  NODE_ENV: 'development',
});

export interface PackedTarball {
  /** Absolute path of the .tgz. */
  readonly tarball: string;
  /** The paths inside it, sorted (what `npm pack --dry-run` lists). */
  readonly files: readonly string[];
}

let packing: Promise<PackedTarball> | undefined;

/**
 * `npm pack` of the repo (its prepack builds dist/), once per test run: every test file that
 * installs the package shares one tarball. It is removed when the run ends.
 */
export function packedTarball(): Promise<PackedTarball> {
  packing ??= pack();
  return packing;
}

async function pack(): Promise<PackedTarball> {
  const dir = await mkdtemp(join(tmpdir(), 'psf-pack-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, env: developerEnv, maxBuffer: 16 * 1024 * 1024 }).catch(
    // tsc reports a failed build on stdout, which the error's message leaves out.
    (error: Error & { stdout?: string }) => {
      throw new Error(`npm pack failed: ${error.message}\n${error.stdout ?? ''}`);
    },
  );
  const [report] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  return { tarball: join(dir, report.filename), files: report.files.map((file) => file.path).sort() };
}
