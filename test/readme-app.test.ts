import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'mocha';
import { createClient } from 'redis';
import supertest from 'supertest';
import { startNodeApp } from './helpers/node-app.js';
import { developerEnv, packedTarball } from './helpers/packed-tarball.js';
import { codeAt, csrfFrom, recoveryCodesFrom, totpKeyFrom } from './helpers/portal.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis.js';

/**
 * The README's "Mounting it" as a new team follows it: its code blocks are the files of
 * examples/minimal/, and those files, copied into a fresh `npm init -y` folder outside the repo
 * with only the installs the README names (the packed tarball for the package), start with
 * `node` and sign a person in. Runs once, on Express 5 (scripts/test.sh leaves it out of the
 * Express 4 run, like the consumer test).
 */
const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const readmePath = join(repo, 'README.md');
const PASSWORD = 'correct horse battery staple';
// The install lines of the README, run as written (the tarball standing in for the package name).
const INSTALL = 'npm install passport-second-factor express express-session passport passport-local';
const INSTALL_PRODUCTION = 'npm install redis connect-redis@^9';

/** Each fenced block the README introduces with `<!-- file: PATH -->`, and the path it names. */
function fileBlocks(readme: string): { path: string; text: string }[] {
  const lines = readme.split('\n');
  const blocks: { path: string; text: string }[] = [];
  lines.forEach((line, index) => {
    const named = /^<!-- file: (\S+) -->$/.exec(line);
    if (!named) return;
    let open = index + 1;
    while (lines[open] === '') open += 1;
    assert.match(lines[open] ?? '', /^```[a-z]+$/, `a fenced block right after the comment naming ${named[1]}`);
    const close = lines.indexOf('```', open + 1);
    assert.ok(close > open, `the block of ${named[1]} is closed`);
    blocks.push({ path: named[1]!, text: `${lines.slice(open + 1, close).join('\n')}\n` });
  });
  return blocks;
}

function mountingSection(readme: string): string {
  const start = readme.indexOf('\n## Mounting it\n');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0 && end > start, 'the README has a "Mounting it" section');
  return readme.slice(start, end);
}

describe("the README's host app", () => {
  it('shows examples/minimal/server.mjs, production.mjs and types.mts byte for byte', async () => {
    const readme = await readFile(readmePath, 'utf8');
    const blocks = fileBlocks(mountingSection(readme));
    assert.deepEqual(
      blocks.map((block) => block.path),
      ['examples/minimal/server.mjs', 'examples/minimal/production.mjs', 'examples/minimal/types.mts'],
    );
    for (const { path, text } of blocks) assert.equal(text, await readFile(join(repo, path), 'utf8'), `the README's block of ${path}`);
    // Every other named block in the README too, wherever it is.
    for (const { path, text } of fileBlocks(readme)) assert.equal(text, await readFile(join(repo, path), 'utf8'), `the README's block of ${path}`);
  });

  it('names the installs this test runs, each on a line of its own', async () => {
    const lines = mountingSection(await readFile(readmePath, 'utf8')).split('\n');
    assert.ok(lines.includes(INSTALL), INSTALL);
    assert.ok(lines.includes(INSTALL_PRODUCTION), INSTALL_PRODUCTION);
  });

  describe('copied into a fresh `npm init -y` folder with only the documented installs', function () {
    this.timeout(180_000);
    let work: string;
    let dir: string;

    before(async () => {
      const { tarball } = await packedTarball();
      work = await mkdtemp(join(tmpdir(), 'psf-readme-'));
      dir = join(work, 'my-app');
      await mkdir(dir);
      await run('npm', ['init', '-y'], { cwd: dir, env: developerEnv });
      // The default that broke the old README: a CommonJS project, where only .mjs is ESM.
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { type?: string };
      assert.notEqual(manifest.type, 'module');
      await npmInstall(dir, INSTALL, tarball);
      await copyFile(join(repo, 'examples', 'minimal', 'server.mjs'), join(dir, 'server.mjs'));
    });

    after(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('node server.mjs: enrols an authenticator app, signs out with its CSRF button, signs in again with a code', async () => {
      const app = await startNode(dir, 'server.mjs', { PORT: String(await freePort()) });
      try {
        const { secret } = await enrolAndSignOut(app.url);

        // A later sign-in verifies with a code of the authenticator's next step (one step of
        // drift is allowed): the enrolment's own step is refused as already used.
        const agent = supertest.agent(app.url);
        await agent.post('/login').type('form').send({ username: 'ada', password: PASSWORD }).expect(303).expect('location', '/2fa/verify');
        await agent.get('/2fa').expect(303).expect('location', '/2fa/verify');
        const verify = await agent.get('/2fa/verify').expect(200);
        await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(verify.text), code: codeAt(secret, Date.now() + 30_000) }).expect(303).expect('location', '/');
        assert.match((await agent.get('/').expect(200)).text, /Signed in as Ada Lovelace\./);
        assert.doesNotMatch(app.stderr(), /Error|Warning/);
      } finally {
        await app.stop();
      }
    });

    describe('production.mjs', () => {
      let redis: RedisServer;
      const productionEnv = () => ({
        NODE_ENV: 'production',
        REDIS_URL: redis.url,
        SESSION_SECRET: randomBytes(32).toString('hex'),
        TWO_FACTOR_KEY: randomBytes(32).toString('base64'),
        // A TOTP sign-in sends no text: the key is never used.
        MESSAGEBIRD_ACCESS_KEY: 'test_dummy-key',
      });

      before(async () => {
        const { tarball } = await packedTarball();
        await npmInstall(dir, INSTALL_PRODUCTION, tarball);
        await copyFile(join(repo, 'examples', 'minimal', 'production.mjs'), join(dir, 'production.mjs'));
        redis = await startRedis();
      });

      after(async () => {
        await redis?.stop();
      });

      async function keys(pattern: string): Promise<string[]> {
        const client = createClient({ url: redis.url });
        await client.connect();
        try {
          return await client.keys(pattern);
        } finally {
          await client.quit();
        }
      }

      it('refuses to start, naming each missing environment variable', async () => {
        const withoutKey: NodeJS.ProcessEnv = { ...developerEnv, ...productionEnv(), PORT: String(await freePort()) };
        delete withoutKey.TWO_FACTOR_KEY;
        const failed = await run(process.execPath, ['production.mjs'], { cwd: dir, env: withoutKey, timeout: 15_000 }).then(
          () => assert.fail('production.mjs started without TWO_FACTOR_KEY'),
          (error: { code?: number; stderr?: string }) => error,
        );
        assert.equal(failed.code, 1);
        assert.equal(failed.stderr, 'production.mjs: set the environment variables TWO_FACTOR_KEY (make TWO_FACTOR_KEY with: openssl rand -base64 32)\n');

        const bare: NodeJS.ProcessEnv = { ...developerEnv, NODE_ENV: 'production' };
        const none = await run(process.execPath, ['production.mjs'], { cwd: dir, env: bare, timeout: 15_000 }).then(
          () => assert.fail('production.mjs started with no environment'),
          (error: { code?: number; stderr?: string }) => error,
        );
        assert.equal(none.code, 1);
        assert.match(none.stderr ?? '', /set the environment variables REDIS_URL, SESSION_SECRET, TWO_FACTOR_KEY, MESSAGEBIRD_ACCESS_KEY /);
      });

      it('keeps sessions and second-factor state in Redis, signs in with a recovery code, and lives through a Redis restart', async () => {
        const app = await startNode(dir, 'production.mjs', { ...productionEnv(), PORT: String(await freePort()) });
        try {
          const { recoveryCodes } = await enrolAndSignOut(app.url);
          assert.ok((await keys('sf:*')).length > 0, "the package's RedisStore holds the enrolment");

          const agent = supertest.agent(app.url);
          await agent.post('/login').type('form').send({ username: 'ada', password: PASSWORD }).expect(303).expect('location', '/2fa/verify');
          await agent.get('/2fa').expect(303).expect('location', '/2fa/verify');
          const page = await agent.get('/2fa/recovery').expect(200);
          const used = await agent.post('/2fa/recovery').type('form').send({ _csrf: csrfFrom(page.text), recoveryCode: recoveryCodes[0] }).expect(200);
          assert.match(used.text, /You have 9 recovery codes left\./);
          assert.match((await agent.get('/').expect(200)).text, /Signed in as Ada Lovelace\./);
          assert.ok((await keys('sess:*')).length > 0, 'the sessions live in Redis (connect-redis)');
          assert.doesNotMatch(app.stderr(), /Error|Warning/);

          // The client's error listener keeps the process up while Redis is away: requests
          // answer 503 meanwhile, and the app serves again once Redis is back (this test's
          // Redis keeps nothing on disk, so the session is gone: the home page sends to login).
          await redis.stop();
          await agent.get('/').set('Accept', 'text/html').expect(503);
          await redis.start();
          const deadline = Date.now() + 15_000;
          for (;;) {
            const res = await agent.get('/');
            if (res.status === 302 && res.headers.location === '/login') break;
            assert.ok(Date.now() < deadline, `still ${res.status} after Redis came back`);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          assert.equal(app.exitCode(), null, 'production.mjs is still running');
          assert.match(app.stderr(), /^redis: /m, 'the lost connection is logged');
        } finally {
          await app.stop();
        }
      });
    });
  });
});

/** Runs one of the README's install lines in `dir`, the tarball in place of the package name. */
async function npmInstall(dir: string, line: string, tarball: string): Promise<void> {
  const packages = line.split(' ').slice(2).map((name) => (name === 'passport-second-factor' ? tarball : name));
  await run('npm', ['install', ...packages, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: developerEnv, maxBuffer: 16 * 1024 * 1024 });
}

interface RunningNode {
  /** The URL the app printed. */
  readonly url: string;
  stderr(): string;
  exitCode(): number | null;
  stop(): Promise<void>;
}

/** `node FILE` in `dir`; resolves with the URL once it prints "Listening on URL". */
async function startNode(dir: string, file: string, extraEnv: NodeJS.ProcessEnv): Promise<RunningNode> {
  const app = await startNodeApp(dir, file, { ...developerEnv, ...extraEnv }, (stdout) => /^Listening on (http:\/\/\S+)$/m.exec(stdout)?.[1]);
  return { url: app.ready, stderr: app.stderr, exitCode: app.exitCode, stop: app.stop };
}

/**
 * The first sign-in of the README's demo user: the password, enrolment of an authenticator
 * app, the recovery codes, the home page, then sign-out through the page's CSRF form.
 */
async function enrolAndSignOut(url: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const agent = supertest.agent(url);
  await agent.get('/').expect(302).expect('location', '/login');
  const login = await agent.get('/login').expect(200);
  assert.match(login.text, /<form method="post" action="\/login">/);
  await agent.post('/login').type('form').send({ username: 'ada', password: 'wrong' }).expect(302).expect('location', '/login?failed');
  assert.match((await agent.get('/login?failed').expect(200)).text, /Wrong username or password/);

  await agent.post('/login').type('form').send({ username: 'ada', password: PASSWORD }).expect(303).expect('location', '/2fa/enrol');
  // The guard keeps a password-only session away from the host's page.
  await agent.get('/').set('Accept', 'text/html').expect(303).expect('location', '/2fa');
  await agent.get('/2fa').expect(303).expect('location', '/2fa/enrol');
  const choose = await agent.get('/2fa/enrol').expect(200);
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303).expect('location', '/2fa/enrol/totp');
  const enrol = await agent.get('/2fa/enrol/totp').expect(200);
  const secret = totpKeyFrom(enrol.text);
  const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: codeAt(secret, Date.now()) }).expect(200);
  const recoveryCodes = recoveryCodesFrom(shown.text);
  assert.equal(recoveryCodes.length, 10, 'the recovery codes are shown');
  await agent.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(shown.text) }).expect(303).expect('location', '/');

  const home = await agent.get('/').expect(200);
  assert.match(home.text, /Signed in as Ada Lovelace\./);
  const signOut = /<form method="post" action="\/2fa\/logout">\s*<input type="hidden" name="_csrf" value="([^"]+)">/.exec(home.text);
  assert.ok(signOut, 'the home page has a sign-out form with a CSRF token');
  // The token is what lets the form through: without it the package refuses the post.
  await agent.post('/2fa/logout').type('form').send({}).expect(403);
  await agent.get('/').expect(200);
  await agent.post('/2fa/logout').type('form').send({ _csrf: signOut[1] }).expect(303).expect('location', '/login');
  await agent.get('/').expect(302).expect('location', '/login');
  return { secret, recoveryCodes };
}
