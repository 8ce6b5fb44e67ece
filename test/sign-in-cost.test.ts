import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import type session from 'express-session';
import { generateSecret } from 'otplib';
import { createClient, type RedisClientType } from 'redis';
import type { TwoFactorStore } from 'passport-second-factor';
import { BENCH_PASSWORD, STORE_PREFIX, createBenchApp } from '../bench/app.js';
import { startRoundTripCounter, type RoundTripCounter } from '../bench/round-trips.js';
import { currentCode, enrolTemplateUser, enrolUsers } from '../bench/users.js';
import { createSecretBox, decodeEncryptionKey, randomId } from '../src/secrets.js';
import { capturingSender, type CapturingSender } from './helpers/capturing-sender.js';
import { BrowserClient, csrfTokenIn, keepAliveAgent, type HttpResponse } from './helpers/http-client.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

/**
 * What each step of a sign-in costs, counted: the package's store calls (limiter calls
 * included), the session store's reads and writes, and round trips to Redis (through a relay
 * that counts the client's bursts). The host is the bench's trivial one (express-session +
 * connect-redis + passport-local). A change that adds a call or a trip fails here, not only in
 * the bench. No timings: counts only.
 */

type Counts = Record<string, number>;

/** Every method call on `target` counted under `label.method`; limiters it creates are counted too. */
function counting<T extends object>(target: T, label: string, counts: Counts): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return function (this: unknown, ...args: unknown[]) {
        const name = `${label}.${property}`;
        counts[name] = (counts[name] ?? 0) + 1;
        // Called on the target: RedisStore keeps its client in private fields.
        const result = (value as (...a: unknown[]) => unknown).apply(label === 'session' ? this : object, args);
        if (property === 'createLimiter') return counting(result as object, `limiter:${(args[0] as { keyPrefix: string }).keyPrefix}`, counts);
        return result;
      };
    },
  });
}

/** Only the calls of interest: the session store's reads and writes, and everything of ours. */
function costOf(counts: Counts): Counts {
  const kept: Counts = {};
  for (const [name, n] of Object.entries(counts)) {
    if (name.startsWith('session.') && !/^session\.(get|set|destroy|touch)$/.test(name)) continue;
    kept[name] = n;
  }
  return kept;
}

interface Host {
  readonly url: string;
  readonly counts: Counts;
  readonly trips: RoundTripCounter;
  readonly texts: CapturingSender;
  close(): Promise<void>;
}

const ENCRYPTION_KEY = 'b'.repeat(64);

/** A store as a custom one may be: without the optional one-step read of the password step. */
function withoutOneStepRead(store: TwoFactorStore): TwoFactorStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'getUserWithCount') return undefined;
      const value = Reflect.get(target, property, target);
      // Bound: RedisStore's methods use its private fields, which a proxy as `this` lacks.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function startHost(redis: RedisServer, withSecondFactor: boolean, options: { oneStepRead?: boolean } = {}): Promise<Host> {
  const trips = await startRoundTripCounter(redis.port);
  const client = createClient({ socket: { port: trips.port, host: '127.0.0.1' }, disableOfflineQueue: true }) as RedisClientType<any, any, any, any, any>;
  await client.connect();
  const counts: Counts = {};
  const texts = capturingSender();
  const app = createBenchApp({
    redis: client,
    withSecondFactor,
    encryptionKey: ENCRYPTION_KEY,
    passwordCheck: () => 'plain',
    store: (store) => counting(options.oneStepRead === false ? withoutOneStepRead(store) : store, 'store', counts) as TwoFactorStore,
    sessionStore: (store) => counting(store, 'session', counts) as unknown as session.Store,
    // A policy cache longer than the test: its refresh is one read per cacheSeconds per
    // instance, not a cost of a sign-in.
    secondFactor: { policy: { cacheSeconds: 300 }, sms: texts },
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, counts, trips, texts,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.quit();
      await trips.close();
    },
  };
}

interface Step {
  readonly response: HttpResponse;
  readonly calls: Counts;
  readonly roundTrips: number;
}

/** One HTTP request, and what it cost (after the connection's in-flight work settled). */
async function step(host: Host, run: () => Promise<HttpResponse>): Promise<Step> {
  for (const key of Object.keys(host.counts)) delete host.counts[key];
  host.trips.reset();
  const response = await run();
  // express-session's write at the end of a response may land just after it: wait for it.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { response, calls: costOf(host.counts), roundTrips: host.trips.roundTrips };
}

const sessionReads = { 'session.get': 1 };

/**
 * A sign-in before the counted one: Redis then holds the package's scripts, as it does after
 * the first sign-in since it started (the first use of a script costs one more trip, once).
 */
async function warmUp(host: Host, userId: string, code: () => Promise<string>): Promise<void> {
  const client = new BrowserClient(keepAliveAgent(1));
  const page = await client.follow(host.url, '/login', { form: { username: userId, password: BENCH_PASSWORD } });
  const done = await client.follow(host.url, '/2fa/verify', { form: { _csrf: csrfTokenIn(page.text), code: await code() } });
  assert.match(done.text, /<h1>Dashboard<\/h1>/, `warm-up sign-in of ${userId}`);
}

describe('what a sign-in costs, step by step (counted, with Redis)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let direct: RedisClientType<any, any, any, any, any>;
  let host: Host;
  let bare: Host;
  const agent = keepAliveAgent(4);

  before(async () => {
    redis = await startRedis();
    direct = createClient({ socket: { port: redis.port, host: '127.0.0.1' } }) as RedisClientType<any, any, any, any, any>;
    await direct.connect();
    host = await startHost(redis, true);
    bare = await startHost(redis, false);
  });

  after(async () => {
    await host?.close();
    await bare?.close();
    await direct?.quit();
    agent.destroy();
    await redis?.stop();
  });

  it('password only, without the package: two requests, five round trips (the baseline)', async () => {
    const client = new BrowserClient(agent);
    const login = await step(bare, () => client.request(bare.url, '/login', { form: { username: 'bare1', password: BENCH_PASSWORD } }));
    assert.equal(login.response.location, '/dashboard');
    // passport's req.login regenerates (destroy) and saves; express-session saves the new session again.
    assert.deepEqual(login.calls, { 'session.destroy': 1, 'session.set': 2 });
    assert.equal(login.roundTrips, 3);
    const page = await step(bare, () => client.request(bare.url, '/dashboard'));
    assert.equal(page.response.status, 200);
    assert.deepEqual(page.calls, { ...sessionReads, 'session.touch': 1 });
    assert.equal(page.roundTrips, 2);
  });

  it('password and an authenticator code: four requests, fourteen round trips, one session write per request but the password step', async () => {
    const template = await enrolTemplateUser(host.url, direct, 'tmpl1');
    const [warm, person] = await enrolUsers(direct, ENCRYPTION_KEY, template, ['warm1', 'cost1'], false);
    await warmUp(host, warm!.id, async () => currentCode(warm!));
    const client = new BrowserClient(agent);

    const login = await step(host, () => client.request(host.url, '/login', { form: { username: person!.id, password: BENCH_PASSWORD } }));
    assert.equal(login.response.location, '/2fa/verify', 'straight to the code page');
    // The record and the lock in one store call; the pending state rides on the session write
    // express-session makes anyway.
    assert.deepEqual(login.calls, { 'session.destroy': 1, 'session.set': 2, 'store.getUserWithCount': 1 });
    assert.equal(login.roundTrips, 4);

    const page = await step(host, () => client.request(host.url, '/2fa/verify'));
    assert.match(page.response.text, /name="code"/);
    // From the session alone: no record, no lock read, and no session write (its form token was made at the password step).
    assert.deepEqual(page.calls, { ...sessionReads, 'session.touch': 1 });
    assert.equal(page.roundTrips, 2);

    const code = await step(host, () => client.request(host.url, '/2fa/verify', { form: { _csrf: csrfTokenIn(page.response.text), code: currentCode(person!) } }));
    assert.equal(code.response.location, '/dashboard');
    // The reservation with the record; the claim with the failures' reset; the new session id
    // (destroy) written once; the person's session index (its entry with the device's name: one call).
    assert.deepEqual(code.calls, { ...sessionReads, 'limiter:fail.consume': 1, 'store.getUser': 1, 'store.setIfGreater': 1, 'session.destroy': 1, 'store.addMember': 1, 'session.set': 1 });
    assert.equal(code.roundTrips, 6);

    const landed = await step(host, () => client.request(host.url, '/dashboard'));
    assert.equal(landed.response.status, 200);
    assert.deepEqual(landed.calls, { ...sessionReads, 'session.touch': 1 });
    assert.equal(landed.roundTrips, 2);
    assert.equal(login.roundTrips + page.roundTrips + code.roundTrips + landed.roundTrips, 14);
  });

  it('password and a text-message code: four requests, sixteen round trips', async () => {
    const box = createSecretBox(decodeEncryptionKey(ENCRYPTION_KEY)!);
    for (const id of ['warm2', 'cost2']) {
      await direct.set(`${STORE_PREFIX}user:{${id}}`, JSON.stringify({ generation: 0, factorId: randomId(), enrolledAt: Date.now(), method: 'sms', phone: box.seal('+12025550143', id), phoneLast4: '0143', recoveryCodes: [generateSecret()] }));
    }
    await warmUp(host, 'warm2', async () => host.texts.lastCode());
    const client = new BrowserClient(agent);

    const login = await step(host, () => client.request(host.url, '/login', { form: { username: 'cost2', password: BENCH_PASSWORD } }));
    assert.equal(login.response.location, '/2fa/verify');
    // The send: its cooldown and both hourly caps in one round trip, the code after the provider took it.
    assert.deepEqual(login.calls, {
      'session.destroy': 1, 'session.set': 2, 'store.getUserWithCount': 1,
      'store.setIfAbsent': 1, 'limiter:sms-account.consume': 1, 'limiter:sms-number.consume': 1, 'store.set': 1,
    });
    assert.equal(login.roundTrips, 6);
    const sent = host.texts.sent.at(-1);
    assert.equal(sent?.to, '+12025550143');

    const page = await step(host, () => client.request(host.url, '/2fa/verify'));
    assert.match(page.response.text, /xxx-xxx-0143/, 'the masked number, from the session');
    assert.deepEqual(page.calls, { ...sessionReads, 'session.touch': 1 });
    assert.equal(page.roundTrips, 2);

    const code = /\b(\d{6})\b/.exec(sent!.body)![1]!;
    const verified = await step(host, () => client.request(host.url, '/2fa/verify', { form: { _csrf: csrfTokenIn(page.response.text), code } }));
    assert.equal(verified.response.location, '/dashboard');
    // The reservation, the record, the live code and its try in one round trip; the take with the reset.
    assert.deepEqual(verified.calls, {
      ...sessionReads, 'limiter:fail.consume': 1, 'store.getUser': 1, 'store.get': 1, 'limiter:sms-tries.consume': 1,
      'store.takeIfEqual': 1, 'session.destroy': 1, 'store.addMember': 1, 'session.set': 1,
    });
    assert.equal(verified.roundTrips, 6);

    const landed = await step(host, () => client.request(host.url, '/dashboard'));
    assert.equal(landed.response.status, 200);
    assert.equal(login.roundTrips + page.roundTrips + verified.roundTrips + landed.roundTrips, 16);
  });

  it('reads the record and a lock at the password step in one call, or, from a store without that read, in two of one round trip', async () => {
    const template = await enrolTemplateUser(host.url, direct, 'tmpl3');
    const [warm, locked, lockedToo] = await enrolUsers(direct, ENCRYPTION_KEY, template, ['warm3', 'lock3', 'lock4'], false);
    const custom = await startHost(redis, true, { oneStepRead: false });
    try {
      await warmUp(custom, warm!.id, async () => currentCode(warm!));
      for (const [on, person, calls] of [
        [host, locked!, { 'store.getUserWithCount': 1 }],
        [custom, lockedToo!, { 'store.getUser': 1, 'limiter:fail.get': 1 }],
      ] as const) {
        // Over the limit of 10 failed codes, with the lockout's TTL: locked for about 5 minutes.
        await direct.set(`${STORE_PREFIX}fail:{${person.id}}`, '11', { PX: 290_000 });
        const client = new BrowserClient(agent);
        const login = await step(on, () => client.request(on.url, '/login', { form: { username: person.id, password: BENCH_PASSWORD } }));
        assert.equal(login.response.location, '/2fa/verify');
        assert.deepEqual(login.calls, { 'session.destroy': 1, 'session.set': 2, ...calls });
        assert.equal(login.roundTrips, 4);
        const page = await client.request(on.url, '/2fa/verify');
        assert.equal(page.status, 429);
        assert.match(page.text, /locked for about 5 minutes/);
      }
    } finally {
      await custom.close();
    }
  });
});
