import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClientType } from 'redis';
import { RedisStore } from '../src/index.js';
import { createSecretBox, decodeEncryptionKey, newFactorId } from '../src/secrets.js';
import { BrowserClient, csrfTokenIn, keepAliveAgent } from '../test/helpers/http-client.js';
import { BENCH_PASSWORD, STORE_PREFIX } from './app.js';
import { signIns } from './flow.js';
import { startRoundTripCounter, type RoundTripCounter } from './round-trips.js';
import { startBenchServer, type BenchServer } from './servers.js';
import { enrolUsers, type EnrolledUser, type EnrolmentTemplate } from './users.js';
import { commandStats, isBenchCommand } from './verified.js';

type Client = RedisClientType<any, any, any, any, any>;

/** What one sign-in cost, averaged over the sample. */
export interface SignInCost {
  readonly requests: number;
  readonly roundTrips: number;
  readonly commands: number;
}

export type CountedApp = 'baseline' | 'floor' | 'before' | 'bundle';

export interface CountedSignIns {
  readonly password: SignInCost;
  /** The floor app (bench/app.ts mountFloor): the authenticator sign-in's four requests, none of its work. */
  readonly floor: SignInCost;
  readonly totp: Partial<Record<'before' | 'bundle', SignInCost>>;
  readonly sms: Partial<Record<'before' | 'bundle', SignInCost>>;
}

interface Counting {
  readonly redis: Client;
  readonly server: BenchServer;
  readonly relays: Record<CountedApp, RoundTripCounter>;
  readonly urls: Record<CountedApp, string>;
}

/**
 * Sign-ins one at a time, each app in turn, counted: HTTP requests (redirects followed as a
 * browser does), round trips to Redis (each app's client goes through a relay of its own that
 * counts its bursts) and Redis commands (INFO commandstats; the other apps are idle). Two
 * warm-up sign-ins first, so that Redis has each package's scripts (their first use costs a
 * trip more, once per Redis start). The apps run in a bench server of their own, started here.
 */
export async function countedSignIns(options: {
  redis: Client;
  redisUrl: string;
  encryptionKey: string;
  template: EnrolmentTemplate;
  samples: number;
  beforeEntry?: string;
  ids: (prefix: string, n: number) => string[];
}): Promise<CountedSignIns> {
  const port = Number(new URL(options.redisUrl).port);
  const apps: CountedApp[] = ['baseline', 'floor', ...(options.beforeEntry ? (['before'] as const) : []), 'bundle'];
  const relays = Object.fromEntries(await Promise.all(apps.map(async (app) => [app, await startRoundTripCounter(port)] as const))) as Record<CountedApp, RoundTripCounter>;
  const server = await startBenchServer({
    apps,
    redisUrl: options.redisUrl,
    redisUrls: apps.map((app) => `redis://127.0.0.1:${relays[app].port}`),
    encryptionKey: options.encryptionKey,
    ...(options.beforeEntry ? { beforeEntry: options.beforeEntry } : {}),
  });
  const urls = Object.fromEntries(apps.map((app, i) => [app, server.urls[i]!])) as Record<CountedApp, string>;
  const ctx: Counting = { redis: options.redis, server, relays, urls };
  try {
    const n = options.samples;
    const enrolled = (count: number) => enrolUsers(options.redis, options.encryptionKey, options.template, options.ids('c', count), false);
    const password = await measure(ctx, 'baseline', n, (count) => options.ids('c', count).map((id) => ({ id, secret: '' })), (users) => totpSignIns(ctx, 'baseline', users));
    // The floor asks for a code and checks none: enrolled people only so that the client types one.
    const floor = await measure(ctx, 'floor', n, enrolled, (users) => totpSignIns(ctx, 'floor', users));
    const totp: CountedSignIns['totp'] = {};
    const sms: CountedSignIns['sms'] = {};
    for (const app of apps.filter((each): each is 'before' | 'bundle' => each === 'before' || each === 'bundle')) {
      totp[app] = await measure(ctx, app, n, enrolled, (users) => totpSignIns(ctx, app, users));
      sms[app] = await measure(ctx, app, n, (count) => smsUsers(options, options.ids('s', count)), (users) => smsSignIns(ctx, app, users));
    }
    return { password, floor, totp, sms };
  } finally {
    await server.stop();
    await Promise.all(Object.values(relays).map((relay) => relay.close()));
  }
}

/**
 * Warm-up, then `n` sign-ins between two readings of each counter. The people are made before
 * the first reading: enrolling one is a write to the same Redis, which INFO commandstats would
 * otherwise count as the sign-in's.
 */
async function measure<U>(
  ctx: Counting,
  app: CountedApp,
  n: number,
  people: (count: number) => U[] | Promise<U[]>,
  signInsOf: (users: U[]) => Promise<number>,
): Promise<SignInCost> {
  await signInsOf(await people(2));
  const users = await people(n);
  await sleep(300);
  const relay = ctx.relays[app];
  const before = await commandStats(ctx.redis);
  relay.reset();
  const requests = await signInsOf(users);
  await sleep(300);
  const after = await commandStats(ctx.redis);
  let commands = 0;
  for (const [command, calls] of after) if (!isBenchCommand(command)) commands += calls - (before.get(command) ?? 0);
  return { requests: requests / n, roundTrips: relay.roundTrips / n, commands: commands / n };
}

/** Password (and, with the package, the current code) sign-ins one at a time; the HTTP requests they took. */
async function totpSignIns(ctx: Counting, app: CountedApp, users: readonly EnrolledUser[]): Promise<number> {
  const result = await signIns(ctx.urls[app], users, { withSecondFactor: app !== 'baseline', concurrency: 1, warmupSeconds: 0, seconds: 3600, limit: users.length });
  return result.requestsPerSignIn * result.signIns;
}

/** A bench user enrolled with text messages, each with a number of their own (the hourly caps are per number). */
interface SmsUser {
  readonly id: string;
  readonly phone: string;
}

async function smsUsers(options: { redis: Client; encryptionKey: string; template: EnrolmentTemplate }, ids: readonly string[]): Promise<SmsUser[]> {
  const box = createSecretBox(decodeEncryptionKey(options.encryptionKey)!);
  const store = new RedisStore({ client: options.redis, prefix: STORE_PREFIX });
  const users = ids.map((id, i) => ({ id, phone: `+1202${String(5_000_000 + ((Date.now() + i) % 5_000_000)).padStart(7, '0')}` }));
  await Promise.all(users.map(({ id, phone }) => store.saveUser(id, { generation: options.template.record.generation, factorId: newFactorId(), enrolledAt: Date.now(), method: 'sms', phone: box.seal(phone, id), phoneLast4: phone.slice(-4) })));
  return users;
}

/** Text-message sign-ins one at a time: password, the code the app texted, the dashboard. */
async function smsSignIns(ctx: Counting, app: CountedApp, users: readonly SmsUser[]): Promise<number> {
  const agent = keepAliveAgent(1);
  let requests = 0;
  for (const user of users) {
    const client = new BrowserClient(agent);
    const page = await client.follow(ctx.urls[app], '/login', { form: { username: user.id, password: BENCH_PASSWORD } });
    if (page.status !== 200 || !/name="code"/.test(page.text)) throw new Error(`text-message sign-in of ${user.id}: no code page (${page.status})`);
    const done = await client.follow(ctx.urls[app], '/2fa/verify', { form: { _csrf: csrfTokenIn(page.text), code: await ctx.server.lastCode(user.phone) } });
    if (done.status !== 200 || !/<h1>Dashboard<\/h1>/.test(done.text)) throw new Error(`text-message sign-in of ${user.id} ended on ${done.status}`);
    requests += page.requests + done.requests;
  }
  agent.destroy();
  return requests;
}
