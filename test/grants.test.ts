import assert from 'node:assert/strict';
import express from 'express';
import session from 'express-session';
import { describe, it } from 'mocha';
import supertest from 'supertest';
import { findUser, searchUsers } from '../examples/portal/users.js';
import { MemoryStore, secondFactor, seedRolePreset } from '../src/index.js';
import type { GrantKind } from '../src/flow/session.js';
import { codeAt, csrfFrom, enrolTotp, postLogin, signIn, signOut, startPortal, TestClock, type TestPortal } from './helpers/portal.js';
import { countingStore } from './helpers/counting-store.js';

type Agent = ReturnType<TestPortal['agent']>;

/** Optional for everyone but bot admins (so a partner admin may skip). */
const optional = { mode: 'optional' as const, roleModes: { 'bot-admin': 'required' as const } };

/** bot.admin, enrolled with an authenticator app in this session (a proved grant). */
async function provedAdmin(portal: TestPortal): Promise<Agent> {
  const admin = portal.agent();
  await signIn(admin, 'bot.admin');
  await enrolTotp(admin, portal.clock);
  return admin;
}

async function setMode(admin: Agent, mode: string) {
  const page = await admin.get('/admin/2fa/policy').expect(200);
  const res = await admin.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(page.text), mode });
  assert.equal(res.status, 200, res.text.slice(0, 200));
}

/** A password-only sign-in while the switch is off: finished at once. */
async function signInWhileOff(portal: TestPortal, username: string): Promise<Agent> {
  const agent = portal.agent();
  const login = await postLogin(agent, { username, password: 'demo-password' });
  assert.equal(login.headers.location, '/', 'no second factor asked while off');
  await agent.get('/dashboard').expect(200);
  return agent;
}

async function skip(portal: TestPortal, username: string): Promise<Agent> {
  const agent = portal.agent();
  await signIn(agent, username);
  const choose = await agent.get('/2fa/enrol').expect(200);
  assert.match(choose.text, /Skip for now/);
  await agent.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) }).expect(303);
  await agent.get('/dashboard').expect(200);
  return agent;
}

/** The session is pending again: the guard, the admin router (page and API) all send it to /2fa. */
async function sentToSecondFactor(agent: Agent) {
  await agent.get('/dashboard').expect(303).expect('location', '/2fa');
  await agent.get('/admin/2fa').expect(303).expect('location', '/2fa');
  const api = await agent.get('/admin/2fa/api/users').set('Accept', 'application/json').expect(401);
  assert.equal(api.body.error, 'second_factor_required');
}

describe('sessions carry what they were granted under', () => {
  it('sends a session opened while the switch was off to the second factor once it is on again', async () => {
    const portal = startPortal();
    const admin = await provedAdmin(portal);
    await setMode(admin, 'off');
    const person = await signInWhileOff(portal, 'northwind.admin');

    await setMode(admin, 'required');

    await person.get('/dashboard?tab=1').expect(303).expect('location', '/2fa');
    // Off then on voids enrolments: the person enrols, and goes back where they were going.
    await person.get('/2fa').expect(303).expect('location', '/2fa/enrol');
    const { done } = await enrolTotp(person, portal.clock);
    assert.equal(done.headers.location, '/dashboard?tab=1');
    await person.get('/admin/2fa').expect(200);
    assert.ok(portal.events.some((e) => e.type === 'grant_withdrawn' && e.userId === 'u3' && e.reason === 'off'));
  });

  it('keeps a session opened while off out of the admin router, then sends it to the second factor', async () => {
    const portal = startPortal();
    const admin = await provedAdmin(portal);
    await setMode(admin, 'off');
    const person = await signInWhileOff(portal, 'northwind.admin');
    await person.get('/admin/2fa').expect(403);
    const api = await person.get('/admin/2fa/api/users').expect(403);
    assert.equal(api.body.error, 'forbidden');
    const refused = await person.post('/admin/2fa/api/users/u4/unlock').set('x-csrf-token', 'x').expect(403);
    assert.equal(refused.body.error, 'forbidden');

    await setMode(admin, 'required');
    await sentToSecondFactor(person);
  });

  it('sends a session that skipped to the second factor when the switch becomes required', async () => {
    const portal = startPortal({ secondFactor: { policy: optional } });
    const admin = await provedAdmin(portal);
    const skipper = await skip(portal, 'northwind.admin');
    // Optional mode asks for no factor, but resetting other people's needs one's own.
    await skipper.get('/admin/2fa').expect(403);

    await setMode(admin, 'required');

    await sentToSecondFactor(skipper);
    const choose = await skipper.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(choose.text, /Skip for now/);
    assert.ok(portal.events.some((e) => e.type === 'grant_withdrawn' && e.userId === 'u3' && e.reason === 'skipped'));
  });

  it('sends a session that skipped to the second factor when the person’s role becomes required', async () => {
    const promoted = new Set<string>();
    const portal = startPortal({
      secondFactor: {
        policy: { mode: 'optional', roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' } },
        roles: { roleOf: (user) => (promoted.has(user.id) ? 'partner-admin' : user.role), tenantOf: (user) => user.tenant, rules: seedRolePreset },
      },
    });
    const skipper = await skip(portal, 'globex.ops');

    promoted.add('u10');

    await skipper.get('/dashboard').expect(303).expect('location', '/2fa');
    const choose = await skipper.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(choose.text, /Skip for now/);
  });

  it('keeps a skip of the current generation, and voids one made before the switch went off and on', async () => {
    const portal = startPortal({ secondFactor: { policy: optional } });
    const admin = await provedAdmin(portal);
    const skipper = await skip(portal, 'globex.ops');
    await setMode(admin, 'optional');
    await skipper.get('/dashboard').expect(200);
    await setMode(admin, 'off');
    await skipper.get('/dashboard').expect(200);

    await setMode(admin, 'optional');

    await skipper.get('/dashboard').expect(303).expect('location', '/2fa');
    const choose = await skipper.get('/2fa/enrol').expect(200);
    await skipper.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) }).expect(303).expect('location', '/dashboard');
    await skipper.get('/dashboard').expect(200);
  });

  it('keeps a session that proved a factor, through off and on again', async () => {
    const portal = startPortal();
    const admin = await provedAdmin(portal);
    await setMode(admin, 'off');
    await admin.get('/admin/2fa').expect(200);
    await setMode(admin, 'required');
    await admin.get('/dashboard').expect(200);
    await admin.get('/admin/2fa').expect(200);
    await admin.get('/admin/2fa/api/users').expect(200);
  });

  it('counts a remembered device as a proved factor', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'northwind.admin');
    const { secret } = await enrolTotp(agent, portal.clock);
    await signOut(agent);
    portal.clock.advance(30);
    await signIn(agent, 'northwind.admin');
    const page = await agent.get('/2fa/verify').expect(200);
    await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t), remember: '1' }).expect(303);
    await signOut(agent);

    const login = await postLogin(agent, { username: 'northwind.admin', password: 'demo-password' });
    assert.equal(login.headers.location, '/', 'the remembered device let the person in');
    await agent.get('/admin/2fa').expect(200);
  });

  it('refuses in the admin router itself, with no guard in front, a grant the policy no longer allows', async () => {
    const clock = new TestClock();
    const twoFactor = secondFactor({
      issuer: 'Bare host',
      encryptionKey: Buffer.alloc(32, 9).toString('base64'),
      store: new MemoryStore(),
      now: clock.now,
      logger: { info() {}, warn() {}, error() {} },
      users: { find: findUser, search: (query, { offset, limit }) => searchUsers(query, offset, limit) },
      roles: { roleOf: (user) => user.role, tenantOf: (user) => user.tenant },
      canManagePolicy: (user) => user.role === 'bot-admin',
    });
    const app = express();
    app.use(session({ secret: 'bare-host-secret', resave: false, saveUninitialized: false }));
    app.use((req, _res, next) => {
      const user = findUser(String((req.session as unknown as { as?: string }).as));
      if (user) req.user = user;
      next();
    });
    app.post('/as/u1/:how', (req, res) => {
      (req.session as unknown as { as?: string }).as = 'u1';
      req.session.secondFactor = { state: 'done', userId: 'u1', since: clock.t, grant: { how: req.params.how as GrantKind, generation: 0 } };
      res.sendStatus(204);
    });
    app.use('/admin/2fa', twoFactor.adminRouter);
    const agent = supertest.agent(app);

    await agent.post('/as/u1/proved').expect(204);
    await agent.get('/admin/2fa').expect(200);
    await agent.get('/admin/2fa/policy').expect(200);
    // Finished with the switch off, while it is required (the default): owed again.
    await agent.post('/as/u1/off').expect(204);
    await agent.get('/admin/2fa').expect(303).expect('location', '/2fa');
    await agent.get('/admin/2fa/api/users').expect(401);
    await agent.post('/as/u1/off').expect(204);
    await agent.get('/admin/2fa/policy').expect(401);
    await agent.get('/admin/2fa').expect(303).expect('location', '/2fa');
  });

  it('opens only the policy page to a session that finished with the switch off, so 2FA can be turned back on', async () => {
    const portal = startPortal();
    const first = await provedAdmin(portal);
    await setMode(first, 'off');
    const admin = await signInWhileOff(portal, 'bot.admin');
    await admin.get('/admin/2fa').expect(403);

    await setMode(admin, 'required');

    // Its own change reaches it: the next request asks for the second factor.
    await admin.get('/admin/2fa/policy').expect(303).expect('location', '/2fa');
    await admin.get('/dashboard').expect(303).expect('location', '/2fa');
  });

  it('refuses the policy page to a manager who skipped while the switch is on', async () => {
    const portal = startPortal({ secondFactor: { policy: { mode: 'optional' } } });
    const manager = await skip(portal, 'bot.admin');
    await manager.get('/admin/2fa/policy').expect(403);
    const page = await manager.get('/dashboard').expect(200);
    const refused = await manager.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(page.text), mode: 'off' });
    assert.equal(refused.status, 403);
    assert.ok(portal.events.some((e) => e.type === 'policy_change_refused' && e.userId === 'u1'));
  });

  it('reaches a session on another instance within cacheSeconds, answering from the value it had meanwhile', async () => {
    const shared = new MemoryStore();
    const a = startPortal({ secondFactor: { store: shared, policy: { cacheSeconds: 0 } } });
    const b = startPortal({ secondFactor: { store: shared, policy: { cacheSeconds: 0 } } });
    const admin = await provedAdmin(a);
    await setMode(admin, 'off');
    const person = await signInWhileOff(b, 'acme.ops');

    await setMode(admin, 'required');

    // The guard never waits for the store: this request is judged by B's last value, and
    // starts the refresh that the next one sees.
    await person.get('/dashboard').expect(200);
    await person.get('/dashboard').expect(303).expect('location', '/2fa');
  });
});

describe('the guard stays storeless', () => {
  it('lets a proved session through with no store call, even with a stale policy cache', async () => {
    const { store, calls } = countingStore(new MemoryStore());
    const portal = startPortal({ secondFactor: { store, policy: { cacheSeconds: 0 } } });
    const agent = await provedAdmin(portal);
    calls.length = 0;
    for (let i = 0; i < 20; i += 1) await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    assert.deepEqual(calls, []);
  });

  it('lets a session finished with the switch off through with no store call while the cache is fresh', async () => {
    const { store, calls } = countingStore(new MemoryStore());
    const portal = startPortal({ secondFactor: { store, policy: { mode: 'off', cacheSeconds: 60 } } });
    const agent = await signInWhileOff(portal, 'acme.ops');
    calls.length = 0;
    for (let i = 0; i < 20; i += 1) await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    assert.deepEqual(calls, []);
  });

  it('keeps the last value when a background refresh fails, and logs that once', async () => {
    const { store, control } = countingStore(new MemoryStore());
    const portal = startPortal({ secondFactor: { store, policy: { mode: 'off', cacheSeconds: 0 } } });
    const agent = await signInWhileOff(portal, 'acme.ops');
    control.failGets = true;
    for (let i = 0; i < 5; i += 1) await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    const warnings = portal.logs.filter((line) => line.includes('could not refresh the 2FA switch'));
    assert.equal(warnings.length, 1, portal.logs.join('\n'));
    assert.match(warnings[0]!, /ECONNREFUSED/);
  });
});
