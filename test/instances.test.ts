import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import { generateSync } from 'otplib';
import { createClient, type RedisClientType } from 'redis';
import { RedisStore } from '../src/store/redis.js';
import { BrowserClient, csrfTokenIn, keepAliveAgent, loginForm } from './helpers/http-client.js';
import { startPortalInstance, type PortalInstance } from './helpers/portal-instance.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const PASSWORD = 'demo-password';
const POLICY_CACHE_SECONDS = 1;
/** The portal's lockout (the package's default). */
const LOCKOUT_SECONDS = 900;
const agent = keepAliveAgent(32);

const codeAt = (secret: string, ms: number) => generateSync({ secret, epoch: Math.floor(ms / 1000) });
/** A code for the next time step: accepted once after the enrolment claimed the current one. */
const nextCode = (secret: string) => codeAt(secret, Date.now() + 30_000);
/** Six digits that are not the code of the current step or either neighbour. */
function wrongCode(secret: string): string {
  const valid = new Set([-30_000, 0, 30_000].map((offset) => codeAt(secret, Date.now() + offset)));
  for (let n = 0; ; n += 1) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

/** Enrols an authenticator app through the pages of one instance; returns the secret. */
async function enrol(url: string, username: string, client = new BrowserClient(agent)): Promise<string> {
  const choose = await client.follow(url, '/login', { form: await loginForm(client, url, { username, password: PASSWORD }) });
  assert.equal(choose.status, 200, `sign-in of ${username}`);
  const page = await client.follow(url, '/2fa/enrol', { form: { _csrf: csrfTokenIn(choose.text), method: 'totp' } });
  const secret = /id="totp-key">([A-Z2-7 ]+)</.exec(page.text)?.[1]?.replace(/ /g, '');
  assert.ok(secret, `no TOTP key on the enrolment page (${page.status})`);
  const shown = await client.follow(url, '/2fa/enrol/totp', { form: { _csrf: csrfTokenIn(page.text), code: codeAt(secret, Date.now()) } });
  assert.match(shown.text, /Save your recovery codes/, 'the recovery codes follow the enrolment');
  const done = await client.follow(url, '/2fa/recovery-codes/continue', { form: { _csrf: csrfTokenIn(shown.text) } });
  assert.equal(done.status, 200, 'enrolment finished');
  return secret;
}

/** The password step on `url`; the pending session is now in the client's cookie jar. */
async function signIn(client: BrowserClient, url: string, username: string): Promise<void> {
  const res = await client.request(url, '/login', { form: await loginForm(client, url, { username, password: PASSWORD }) });
  assert.equal(res.status, 303);
  assert.equal(res.location, '/2fa/verify', 'straight to the code (everyone signed in here is enrolled)');
}

/** The password step of a new browser on `url`: where it leads. */
async function passwordOnly(url: string, username: string) {
  const client = new BrowserClient(agent);
  return client.request(url, '/login', { form: await loginForm(client, url, { username, password: PASSWORD }) });
}

/** The CSRF token of the verify page on `url` (the session's token: the same on every instance). */
async function verifyToken(client: BrowserClient, url: string): Promise<string> {
  const page = await client.follow(url, '/2fa');
  assert.equal(page.status, 200, 'the verify page');
  assert.match(page.text, /name="code"/);
  return csrfTokenIn(page.text);
}

describe('two portal instances on one Redis', function () {
  // Two processes start (tsx compiles the portal in each) before the first test.
  this.timeout(60_000);

  let redisServer: RedisServer;
  let redis: RedisClientType<any, any, any, any, any>;
  let a: PortalInstance;
  let b: PortalInstance;

  before(async () => {
    redisServer = await startRedis();
    redis = createClient({ url: redisServer.url });
    redis.on('error', () => {});
    await redis.connect();
    // A policy cache of 1 s instead of 5 keeps the policy case short.
    const shared = { redisUrl: redisServer.url, encryptionKey: 'c'.repeat(64), sessionSecret: 'instances-test-session-secret', policyCacheSeconds: POLICY_CACHE_SECONDS };
    [a, b] = await Promise.all([startPortalInstance(shared), startPortalInstance(shared)]);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, instance] of [['A', a], ['B', b]] as const) {
      const logged = instance?.stderr().trim();
      if (logged) console.error(`instance ${name} logged:\n${logged.slice(-2_000)}`);
    }
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close().catch(() => {});
    await redisServer?.stop();
    agent.destroy();
  });

  it('signs in on one instance and finishes the second factor on the other: the pending session lives in Redis', async () => {
    const secret = await enrol(a.url, 'acme.ops');
    const client = new BrowserClient(agent);
    await signIn(client, a.url, 'acme.ops');
    // Nothing is reachable on either instance until the code is in.
    assert.equal((await client.request(b.url, '/dashboard')).location, '/2fa');

    const token = await verifyToken(client, b.url);
    const verified = await client.request(b.url, '/2fa/verify', { form: { _csrf: token, code: nextCode(secret) } });
    assert.equal(verified.status, 303, 'the code is accepted on the other instance');

    for (const instance of [a, b]) {
      const dashboard = await client.follow(instance.url, '/dashboard');
      assert.equal(dashboard.status, 200);
      assert.match(dashboard.text, /Welcome, <strong>Abe Acme/);
    }
    assert.ok(b.events.some((event) => event.type === 'verified' && event.userId === 'u6'));
  });

  it('counts wrong codes on both instances against one limit: the 10th locks, on both', async () => {
    const secret = await enrol(b.url, 'acme.admin');
    const [onA, onB] = [new BrowserClient(agent), new BrowserClient(agent)];
    await signIn(onA, a.url, 'acme.admin');
    await signIn(onB, b.url, 'acme.admin');
    const tokens = [await verifyToken(onA, a.url), await verifyToken(onB, b.url)];
    const sessions = [
      { client: onA, url: a.url, token: tokens[0]! },
      { client: onB, url: b.url, token: tokens[1]! },
    ];

    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const { client, url, token } = sessions[i % 2]!;
      statuses.push((await client.request(url, '/2fa/verify', { form: { _csrf: token, code: wrongCode(secret) } })).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);

    for (const { client, url, token } of sessions) {
      const locked = await client.request(url, '/2fa/verify', { form: { _csrf: token, code: nextCode(secret) } });
      assert.equal(locked.status, 429, `a right code is refused while locked (${url})`);
    }
    const failures = [...a.events, ...b.events].filter((event) => (event.type === 'failed' || event.type === 'locked') && event.userId === 'u5');
    assert.equal(failures.length, 10);
  });

  it('evaluates exactly 10 of 30 parallel wrong codes split over both instances', async () => {
    const secret = await enrol(a.url, 'globex.ops');
    const [onA, onB] = [new BrowserClient(agent), new BrowserClient(agent)];
    await signIn(onA, a.url, 'globex.ops');
    await signIn(onB, b.url, 'globex.ops');
    const tokens = [await verifyToken(onA, a.url), await verifyToken(onB, b.url)];
    const code = wrongCode(secret);

    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? onA.request(a.url, '/2fa/verify', { form: { _csrf: tokens[0]!, code } })
          : onB.request(b.url, '/2fa/verify', { form: { _csrf: tokens[1]!, code } }),
      ),
    );
    const statuses = burst.map((res) => res.status);
    assert.equal(statuses.filter((status) => status === 401).length, 9, `statuses ${statuses.join(' ')}`);
    assert.equal(statuses.filter((status) => status === 429).length, 21);
    const evaluated = [...a.events, ...b.events].filter((event) => (event.type === 'failed' || event.type === 'locked') && event.userId === 'u10');
    assert.equal(evaluated.length, 10, 'nine failures and the one that locked');
  });

  it('gives every refusal after the lock the lock’s own remaining time, in the page and in Retry-After', async () => {
    const secret = await enrol(b.url, 'southpaw.admin');
    const [onA, onB] = [new BrowserClient(agent), new BrowserClient(agent)];
    await signIn(onA, a.url, 'southpaw.admin');
    await signIn(onB, b.url, 'southpaw.admin');
    const tokens = [await verifyToken(onA, a.url), await verifyToken(onB, b.url)];
    const code = wrongCode(secret);

    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? onA.request(a.url, '/2fa/verify', { form: { _csrf: tokens[0]!, code } })
          : onB.request(b.url, '/2fa/verify', { form: { _csrf: tokens[1]!, code } }),
      ),
    );
    const refused = burst.filter((res) => res.status === 429);
    assert.equal(refused.length, 21, `statuses ${burst.map((res) => res.status).join(' ')}`);
    // Afterwards too: the locked page on either instance.
    refused.push(await onA.request(a.url, '/2fa/verify'), await onB.request(b.url, '/2fa/verify'));
    const told = refused.map((res) => ({ seconds: Number(res.headers['retry-after']), minutes: Number(/locked for about (\d+) minute/.exec(res.text)?.[1]) }));
    for (const { seconds, minutes } of told) {
      assert.ok(seconds >= 1 && seconds <= LOCKOUT_SECONDS, `Retry-After ${seconds} (all: ${told.map((t) => t.seconds).join(' ')})`);
      assert.equal(minutes, Math.ceil(seconds / 60), `the page says ${minutes} minutes for ${seconds} s`);
    }
    const lockMs = Number(await redis.pTTL('sf:fail:{u7}'));
    assert.ok(lockMs > 0 && lockMs <= LOCKOUT_SECONDS * 1000, `the lock in Redis lasts what was said (${lockMs} ms)`);
  });

  it('mends a lock whose write was lost with an instance: the next refusal says, and makes it, the lockout', async () => {
    const secret = await enrol(a.url, 'globex.admin');
    const client = new BrowserClient(agent);
    await signIn(client, b.url, 'globex.admin');
    const token = await verifyToken(client, b.url);
    // What an instance that died between the counting and the lock leaves: over the limit, with
    // the 24 h memory of failures as its TTL.
    await redis.set('sf:fail:{u9}', '11', { EX: 86_400 });

    const refused = await client.request(a.url, '/2fa/verify', { form: { _csrf: token, code: wrongCode(secret) } });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], String(LOCKOUT_SECONDS));
    const lockMs = Number(await redis.pTTL('sf:fail:{u9}'));
    assert.ok(lockMs > (LOCKOUT_SECONDS - 5) * 1000 && lockMs <= LOCKOUT_SECONDS * 1000, `the lock is the lockout now (${lockMs} ms)`);
  });

  it('sends a code form sent again on the other instance, after the sign-in finished, on to the portal instead of "form expired"', async () => {
    const secret = await enrol(a.url, 'bot.ops');
    const client = new BrowserClient(agent);
    await signIn(client, a.url, 'bot.ops');
    const form = { _csrf: await verifyToken(client, a.url), code: nextCode(secret) };
    const first = await client.request(a.url, '/2fa/verify', { form });
    assert.equal(first.status, 303, 'signed in (the session id is new, the form’s token died with the old one)');
    const again = await client.request(b.url, '/2fa/verify', { form });
    assert.equal(again.status, 303, `the same form again: ${again.status} ${again.text.slice(0, 200)}`);
    assert.equal(again.location, first.location);
    assert.equal((await client.request(b.url, '/dashboard')).status, 200);
    assert.equal([...a.events, ...b.events].filter((event) => event.type === 'verified' && event.userId === 'u2').length, 1, 'finished once');
  });

  it('sees a reset made through one instance\'s store at once on the other: the next code is refused and enrolment starts again', async () => {
    const secret = await enrol(a.url, 'northwind.admin');
    const client = new BrowserClient(agent);
    await signIn(client, b.url, 'northwind.admin');
    const token = await verifyToken(client, b.url);

    // What an admin reset does to the person's state, through a store as instance A holds it.
    await new RedisStore({ client: redis }).deleteUser('u3');

    const afterReset = await client.request(b.url, '/2fa/verify', { form: { _csrf: token, code: nextCode(secret) } });
    assert.equal(afterReset.status, 303);
    assert.equal(afterReset.location, '/2fa/enrol', 'the old authenticator no longer signs in');
    assert.equal((await client.request(b.url, '/dashboard')).location, '/2fa');

    const fresh = new BrowserClient(agent);
    const landing = await fresh.follow(a.url, '/login', { form: await loginForm(fresh, a.url, { username: 'northwind.admin', password: PASSWORD }) });
    assert.equal(landing.status, 200);
    assert.match(landing.text, /name="method"/, 'the method choice of a new enrolment');
  });

  describe('an admin on one instance', () => {
    const admin = new BrowserClient(agent);

    before(async () => {
      // bot.admin may reset everyone and manage the policy; signed in with both factors on A.
      await enrol(a.url, 'bot.admin', admin);
      assert.equal((await admin.request(a.url, '/admin/2fa')).status, 200, 'the admin pages');
    });

    it('resets a person\'s 2FA on one instance: the other ends their sessions and enrols them again at once', async () => {
      const secret = await enrol(a.url, 'northwind.ops');
      // Signed in with both factors on B, and a second sign-in waiting for its code there.
      const verified = new BrowserClient(agent);
      await signIn(verified, b.url, 'northwind.ops');
      const done = await verified.request(b.url, '/2fa/verify', { form: { _csrf: await verifyToken(verified, b.url), code: nextCode(secret) } });
      assert.equal(done.status, 303);
      assert.equal((await verified.request(b.url, '/dashboard')).status, 200);
      const waiting = new BrowserClient(agent);
      await signIn(waiting, b.url, 'northwind.ops');
      const token = await verifyToken(waiting, b.url);

      const confirm = await admin.request(a.url, '/admin/2fa/users/u4/reset');
      assert.equal(confirm.status, 200);
      assert.match(confirm.text, /Ned North/, 'the confirmation names the person');
      const reset = await admin.request(a.url, '/admin/2fa/users/u4/reset', { form: { _csrf: csrfTokenIn(confirm.text), reason: 'Lost their phone' } });
      assert.equal(reset.status, 303);

      // On B, with no waiting: the signed-in session is gone, the waiting one cannot finish
      // with the old authenticator, and the next sign-in starts a new enrolment.
      const dashboard = await verified.request(b.url, '/dashboard');
      assert.equal(dashboard.status, 303);
      assert.match(dashboard.location ?? '', /^\/login/);
      const late = await waiting.follow(b.url, '/2fa/verify', { form: { _csrf: token, code: codeAt(secret, Date.now() + 60_000) } });
      assert.doesNotMatch(late.text, /Welcome, <strong>/);
      assert.notEqual((await waiting.request(b.url, '/dashboard')).status, 200);
      const fresh = new BrowserClient(agent);
      const landing = await fresh.follow(b.url, '/login', { form: await loginForm(fresh, b.url, { username: 'northwind.ops', password: PASSWORD }) });
      assert.match(landing.text, /name="method"/, 'the method choice of a new enrolment');
      assert.ok(a.events.some((event) => event.type === 'reset' && event.userId === 'u4'));
    });

    it(`switches the policy on one instance: the other follows within the policy cache TTL (${POLICY_CACHE_SECONDS} s)`, async () => {
      // B reads (and caches) "required" first: a password-only sign-in is held for a code.
      const before = await passwordOnly(b.url, 'southpaw.ops');
      assert.equal(before.location, '/2fa/enrol');

      const page = await admin.request(a.url, '/admin/2fa/policy');
      assert.equal(page.status, 200);
      const switched = await admin.request(a.url, '/admin/2fa/policy', { form: { _csrf: csrfTokenIn(page.text), mode: 'off' } });
      assert.equal(switched.status, 200);
      const at = Date.now();

      // A, which made the change, applies it at once.
      const onA = await passwordOnly(a.url, 'southpaw.ops');
      assert.equal(onA.status, 303);
      assert.notEqual(onA.location, '/2fa/enrol');

      let seenAfterMs: number | undefined;
      while (Date.now() - at < POLICY_CACHE_SECONDS * 1000 + 2_000) {
        const onB = await passwordOnly(b.url, 'southpaw.ops');
        if (onB.status === 303 && onB.location !== '/2fa/enrol') {
          seenAfterMs = Date.now() - at;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(seenAfterMs !== undefined, 'B never applied the switch');
      // The TTL, plus the moment between the switch's answer and `at` and one poll.
      assert.ok(seenAfterMs <= POLICY_CACHE_SECONDS * 1000 + 500, `B applied it after ${seenAfterMs} ms`);
    });
  });
});
