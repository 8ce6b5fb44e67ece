import { RedisStore as SessionRedisStore } from 'connect-redis';
import express, { type Express } from 'express';
import session from 'express-session';
import { generateSync } from 'otplib';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { RedisClientType } from 'redis';
import supertest from 'supertest';
import { RedisStore, secondFactor } from '../src/index.js';
import { BENCH_PASSWORD, benchUser, SESSION_SECRET, STORE_PREFIX, type BenchUser } from './app.js';

type Client = RedisClientType<any, any, any, any, any>;

const ADMIN = 'admin1';
const TARGET = 'person1';
const SESSION_PREFIX = 'sess:';
/** Sessions of the person being reset: the work a reset must do, whatever the others. */
const TARGET_SESSIONS = 3;
const WRITE_BATCH = 10_000;

/**
 * Row 6: one admin reset, timed, with `others` sessions of other people in Redis. The app runs
 * in this process (connect-redis sessions under `sess:`, as its default prefix): the admin
 * proves a factor; the person, whose role makes 2FA optional, has skipped it, so each of their
 * sign-ins finishes at the password.
 */
function createResetApp(redis: Client): Express {
  const app = express();
  app.use(session({ name: 'reset.sid', secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: new SessionRedisStore({ client: redis, prefix: SESSION_PREFIX }), cookie: { maxAge: 8 * 60 * 60 * 1000 } }));
  const auth = new passport.Passport();
  auth.use(new LocalStrategy((username, password, done) => done(null, password === BENCH_PASSWORD ? ((benchUser(username) as unknown as Express.User | undefined) ?? false) : false)));
  auth.serializeUser((user, done) => done(null, (user as unknown as BenchUser).id));
  auth.deserializeUser((id: string, done) => done(null, (benchUser(id) as unknown as Express.User | undefined) ?? false));
  app.use(auth.initialize());
  app.use(auth.session());
  const roleOf = (user: Express.User) => ((user as unknown as BenchUser).id === ADMIN ? 'bot-admin' : 'client-ops');
  const twoFactor = secondFactor({
    issuer: 'Bench Portal',
    store: new RedisStore({ client: redis, prefix: STORE_PREFIX }),
    encryptionKey: 'c'.repeat(64),
    policy: { mode: 'required', roleModes: { 'client-ops': 'optional' } },
    users: { find: (id) => (benchUser(id) as unknown as Express.User | undefined) ?? null, search: () => ({ users: [] }) },
    roles: { roleOf, tenantOf: () => '' },
    allowConsoleSenderInProduction: true,
    logger: { info: () => {}, warn: () => {}, error: (message) => console.error(message) },
  });
  app.post('/login', express.urlencoded({ extended: false }), auth.authenticate('local'), twoFactor.afterLogin);
  app.use('/2fa', twoFactor.router);
  app.use('/admin/2fa', twoFactor.adminRouter);
  app.use(twoFactor.guard);
  app.get('/dashboard', (req, res) => void res.status(req.user ? 200 : 401).end());
  return app;
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function login(agent: supertest.Agent, id: string): Promise<void> {
  await agent.post('/login').type('form').send({ username: id, password: BENCH_PASSWORD }).expect(303);
}

/** The admin signs in and enrols an authenticator app: the admin pages need a proved factor. */
async function signedInAdmin(app: Express): Promise<supertest.Agent> {
  const agent = supertest.agent(app);
  await login(agent, ADMIN);
  const choose = await agent.get('/2fa/enrol').expect(200);
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfOf(choose.text), method: 'totp' }).expect(303);
  const page = await agent.get('/2fa/enrol/totp').expect(200);
  const secret = /id="totp-key">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
  const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfOf(page.text), code: generateSync({ secret }) }).expect(200);
  await agent.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfOf(shown.text) }).expect(303);
  return agent;
}

/** Other people's sessions, written as connect-redis writes them (a JSON string with a TTL), pipelined. */
async function writeOtherSessions(redis: Client, from: number, to: number): Promise<void> {
  const expires = new Date(Date.now() + 8 * 3600 * 1000).toISOString();
  for (let start = from; start < to; start += WRITE_BATCH) {
    const writes: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(to, start + WRITE_BATCH); i += 1) {
      const body = { cookie: { originalMaxAge: 28_800_000, expires, httpOnly: true, path: '/' }, passport: { user: `other${i}` }, secondFactor: { state: 'done', userId: `other${i}`, since: 1_767_600_000_000, grant: { how: 'off', generation: 0 } } };
      writes.push(redis.set(`${SESSION_PREFIX}other-session-${String(i).padStart(9, '0')}`, JSON.stringify(body), { EX: 28_800 }));
    }
    await Promise.all(writes);
  }
}

/** One reset of a person signed in on 3 sessions; its latency in ms, checked to have ended them. */
async function timedReset(app: Express, admin: supertest.Agent, redis: Client): Promise<number> {
  // A skip of the current generation: honoured at each sign-in, and something to reset.
  await redis.set(`${STORE_PREFIX}user:{${TARGET}}`, JSON.stringify({ generation: 0, skippedAt: Date.now() }));
  const sessions = Array.from({ length: TARGET_SESSIONS }, () => supertest.agent(app));
  for (const agent of sessions) {
    await login(agent, TARGET);
    await agent.get('/dashboard').expect(200);
  }
  const confirm = await admin.get(`/admin/2fa/users/${TARGET}/reset`).expect(200);
  const started = process.hrtime.bigint();
  await admin.post(`/admin/2fa/users/${TARGET}/reset`).type('form').send({ _csrf: csrfOf(confirm.text), reason: 'Lost their phone' }).expect(303);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  for (const agent of sessions) {
    if ((await agent.get('/dashboard')).status === 200) throw new Error('bench row 6: a reset left a session of the person signed in');
  }
  return ms;
}

export interface ResetLatency {
  readonly others: number;
  /** Median over `repeats` resets, ms. */
  readonly ms: number;
}

/** Median reset latency at each count of other sessions (ascending), on a Redis of its own. */
export async function resetLatencies(redis: Client, counts: readonly number[], repeats: number): Promise<ResetLatency[]> {
  await redis.flushAll();
  const app = createResetApp(redis);
  const admin = await signedInAdmin(app);
  // Untimed: the first reset pays for JIT compilation and script loading, which would make the
  // smaller count look slower.
  await timedReset(app, admin, redis);
  const results: ResetLatency[] = [];
  let written = 0;
  for (const others of counts) {
    await writeOtherSessions(redis, written, others);
    written = others;
    const times: number[] = [];
    for (let i = 0; i < repeats; i += 1) times.push(await timedReset(app, admin, redis));
    times.sort((a, b) => a - b);
    results.push({ others, ms: times[Math.floor(times.length / 2)]! });
  }
  return results;
}
