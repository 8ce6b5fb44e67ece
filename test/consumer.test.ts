import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { startNodeApp } from './helpers/node-app.js';
import { developerEnv, packedTarball } from './helpers/packed-tarball.js';
import { codeAt, csrfFrom, totpKeyFrom } from './helpers/portal.js';

/**
 * The package as teams get it: `npm pack` (its prepack builds dist/), the tarball installed
 * with npm into fresh projects outside the repo next to Express 5 or Express 4 and their own
 * express-session, passport and passport-local, then apps in ES modules, CommonJS and strict
 * TypeScript mount it and a login + enrol + verify journey runs against each over HTTP. Nothing
 * here resolves to the repo's src/: the custom `passport-second-factor:source` export condition
 * is set only in our own runs, and src/ is not in the tarball.
 */
const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(repo, 'test', 'fixtures', 'consumer');
// The README's TypeScript snippet, compiled on its own: it declares its own Express.User.
const readmeTypes = join(repo, 'examples', 'minimal', 'types.mts');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const PASSWORD = 'correct horse battery staple';

// What the journey's apps and npm see: a developer's shell, not this test run.
const env: NodeJS.ProcessEnv = { ...developerEnv, ENCRYPTION_KEY: 'e'.repeat(64) };

const projects = {
  5: {
    dependencies: { express: '^5.1.0', 'express-session': '^1.18.0', passport: '^0.7.0', 'passport-local': '^1.0.0' },
    devDependencies: { '@types/express': '^5.0.0', '@types/express-session': '^1.18.0', '@types/passport': '^1.0.16', '@types/passport-local': '^1.0.38', '@types/node': '^20.19.0', mocha: '^12.0.0' },
  },
  4: {
    dependencies: { express: '^4.21.0', 'express-session': '^1.18.0', passport: '^0.7.0', 'passport-local': '^1.0.0' },
    devDependencies: { '@types/express': '^4.17.21', '@types/express-session': '^1.18.0', '@types/passport': '^1.0.16', '@types/passport-local': '^1.0.38', '@types/node': '^20.19.0' },
  },
} as const;

describe('the packed tarball, installed into fresh apps as a team would', function () {
  this.timeout(240_000);

  let work: string;
  let tarball: string;
  let packed: readonly string[];
  const dirs: Record<4 | 5, string> = { 4: '', 5: '' };
  // Both projects compile at once, while the JavaScript apps run; the tests await the outcome.
  const compiled: Partial<Record<4 | 5, Promise<{ ok: boolean; output: string }>>> = {};
  const compiledReadme: Partial<Record<4 | 5, Promise<{ ok: boolean; output: string }>>> = {};

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'psf-consumer-'));
    // One pack for every consumer (and the README app's test): prepack builds dist/ first.
    ({ tarball, files: packed } = await packedTarball());

    await Promise.all(
      ([5, 4] as const).map(async (major) => {
        const dir = join(work, `app-express${major}`);
        dirs[major] = dir;
        await mkdir(dir);
        const { dependencies, devDependencies } = projects[major];
        const manifest = {
          name: `consumer-express${major}`,
          version: '1.0.0',
          private: true,
          dependencies: { 'passport-second-factor': `file:${relative(dir, tarball)}`, ...dependencies },
          devDependencies,
        };
        await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        for (const file of await readdir(fixtures)) await copyFile(join(fixtures, file), join(dir, file));
        await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 });
        compiled[major] = compile(['-p', dir], dir);
        await copyFile(readmeTypes, join(dir, 'readme-types.mts'));
        compiledReadme[major] = compile(
          ['--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'ES2022', '--skipLibCheck', 'false', 'readme-types.mts'],
          dir,
        );
      }),
    );
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships dist/, views/, public/ and the changelog and licence, nothing else', async () => {
    const outside = packed.filter((path) => !/^(dist|views|public)\//.test(path) && !['package.json', 'LICENSE', 'CHANGELOG.md', 'README.md'].includes(path));
    assert.deepEqual(outside, [], 'files outside dist/, views/ and public/');
    for (const path of ['package.json', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/store-contract.js', 'dist/testing/store-contract.d.ts']) {
      assert.ok(packed.includes(path), `${path} is shipped`);
    }
    assert.deepEqual(packed.filter((path) => /^(src|test|examples|bench|scripts|\.ci)\/|tsconfig|\.tgz$|\.test\./.test(path)), []);
    // Every view, partial and static asset the pages need, and every module of src/ built.
    assert.deepEqual(packed.filter((path) => /^(views|public)\//.test(path)), await filesUnder('views', 'public'));
    const modules = (await filesUnder('src')).filter((path) => path.endsWith('.ts')).map((path) => path.replace(/^src\//, 'dist/').replace(/\.ts$/, ''));
    assert.ok(modules.length > 10);
    for (const module of modules) {
      for (const ext of ['.js', '.d.ts', '.js.map']) assert.ok(packed.includes(module + ext), `${module}${ext} is shipped`);
    }
  });

  for (const major of [5, 4] as const) {
    describe(`in an app on Express ${major}`, () => {
      it(`installs next to the app's own Express ${major}, with no Express of its own`, async () => {
        const { stdout } = await run('npm', ['ls', 'express', '--all', '--json'], { cwd: dirs[major], env });
        const versions = new Set<string>();
        collectVersions(JSON.parse(stdout), 'express', versions);
        assert.deepEqual([...versions].map((version) => version.split('.')[0]), [String(major)]);
      });

      it('compiles strict TypeScript apps (ES module and CommonJS) against the shipped types', async () => {
        const { ok, output } = await compiled[major]!;
        assert.ok(ok, `tsc failed:\n${output}`);
        assert.equal(output, '');
      });

      it("compiles the README's TypeScript snippet (examples/minimal/types.mts) under --strict", async () => {
        const { ok, output } = await compiledReadme[major]!;
        assert.ok(ok, `tsc failed:\n${output}`);
        assert.equal(output, '');
      });

      for (const [label, file] of [
        ['an ES module app', 'app.mjs'],
        ['a CommonJS app (require of the ES module build)', 'app.cjs'],
        ['the TypeScript app, compiled to an ES module', 'build/app.mjs'],
        ['the TypeScript app, compiled to CommonJS', 'build/app.cjs'],
      ] as const) {
        it(`signs in, enrols and verifies through ${label}`, async () => {
          if (file.startsWith('build/')) assert.ok((await compiled[major]!).ok, 'the TypeScript apps compiled');
          const app = await startApp(dirs[major], file);
          try {
            const distIndex = join(dirs[major], 'node_modules', 'passport-second-factor', 'dist', 'index.js');
            const distTesting = join(dirs[major], 'node_modules', 'passport-second-factor', 'dist', 'testing', 'store-contract.js');
            const esm = file.endsWith('.mjs');
            assert.equal(app.info.resolved, esm ? pathToFileURL(distIndex).href : distIndex);
            assert.equal(app.info.testing, esm ? pathToFileURL(distTesting).href : distTesting);
            await journey(app.baseUrl);
            assert.doesNotMatch(app.stderr(), /Warning|Error/, 'nothing on stderr');
          } finally {
            await app.stop();
          }
        });
      }
    });
  }

  it('runs the exported store contract suite with the team’s mocha, imported and required', async () => {
    const mocha = join(dirs[5], 'node_modules', 'mocha', 'bin', 'mocha.js');
    const { stdout } = await run(process.execPath, [mocha, '--reporter', 'dot', 'contract.spec.mjs', 'contract.spec.cjs'], { cwd: dirs[5], env }).catch(
      (error: { stdout?: string; stderr?: string }) => assert.fail(`the contract suite failed:\n${error.stdout ?? ''}${error.stderr ?? String(error)}`),
    );
    const passing = Number(/(\d+) passing/.exec(stdout)?.[1] ?? 0);
    assert.ok(passing >= 40, `${passing} passing:\n${stdout}`);
    assert.doesNotMatch(stdout, /failing|pending/);
  });
});

function compile(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  return run(process.execPath, [tsc, ...args], { cwd, env }).then(
    ({ stdout }) => ({ ok: true, output: stdout }),
    (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
  );
}

interface RunningApp {
  readonly baseUrl: string;
  readonly info: { readonly port: number; readonly resolved: string; readonly testing: string };
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts a consumer app with node and waits for the JSON line it prints once it listens. */
async function startApp(dir: string, file: string): Promise<RunningApp> {
  const app = await startNodeApp(dir, file, env, (stdout) => {
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as RunningApp['info']) : undefined;
  });
  return { baseUrl: `http://127.0.0.1:${app.ready.port}`, info: app.ready, stderr: app.stderr, stop: app.stop };
}

/** Password, then enrolment of an authenticator app; then a second sign-in that verifies. */
async function journey(baseUrl: string): Promise<void> {
  const first = supertest.agent(baseUrl);
  await first.post('/login').type('form').send({ username: 'ada', password: PASSWORD }).expect(303).expect('location', '/2fa/enrol');
  // The guard holds a password-only session away from the app's own routes.
  await first.get('/').set('Accept', 'text/html').expect(303).expect('location', '/2fa');
  await first.get('/2fa').expect(303).expect('location', '/2fa/enrol');
  const choose = await first.get('/2fa/enrol').expect(200);
  await first.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
  const enrol = await first.get('/2fa/enrol/totp').expect(200);
  assert.match(enrol.text, /<svg[^>]*>/, 'the QR code rendered from the shipped views');
  const secret = totpKeyFrom(enrol.text);
  const shown = await first.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: codeAt(secret, Date.now()) }).expect(200);
  assert.match(shown.text, /Save your recovery codes/, 'the recovery codes page from the shipped views');
  await first.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(shown.text) }).expect(303).expect('location', '/');
  await first.get('/').expect(200, 'Hello, Ada');
  const status = await first.get('/status').expect(200);
  assert.equal(status.body.method, 'totp');
  await first.get('/2fa/assets/second-factor.css').expect(200).expect('content-type', /css/);

  const second = supertest.agent(baseUrl);
  await second.post('/login').type('form').send({ username: 'ada', password: PASSWORD }).expect(303).expect('location', '/2fa/verify');
  await second.get('/2fa').expect(303).expect('location', '/2fa/verify');
  const wrong = await second.get('/2fa/verify').expect(200);
  await second.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(wrong.text), code: codeAt(secret, Date.now() - 10 * 60_000) }).expect(401);
  await second.get('/').set('Accept', 'text/html').expect(303).expect('location', '/2fa');
  const verify = await second.get('/2fa/verify').expect(200);
  // An authenticator one step ahead (within the drift allowed): the enrolment's own step is
  // never accepted twice.
  await second.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(verify.text), code: codeAt(secret, Date.now() + 30_000) }).expect(303).expect('location', '/');
  await second.get('/').expect(200, 'Hello, Ada');
}

async function filesUnder(...roots: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const root of roots) {
    for (const entry of await readdir(join(repo, root), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(relative(repo, join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}

interface NpmTree {
  readonly version?: string;
  readonly dependencies?: Record<string, NpmTree>;
}

function collectVersions(tree: NpmTree, name: string, into: Set<string>): void {
  for (const [dependency, node] of Object.entries(tree.dependencies ?? {})) {
    if (dependency === name && node.version) into.add(node.version);
    collectVersions(node, name, into);
  }
}
