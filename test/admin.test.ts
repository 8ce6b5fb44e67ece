import assert from 'node:assert/strict';
import express from 'express';
import session from 'express-session';
import { describe, it } from 'mocha';
import supertest from 'supertest';
import { demoUsers, findUser, searchUsers, type PortalUser } from '../examples/portal/users.js';
import { MemoryStore, secondFactor, TwoFactorError, type SecondFactorOptions, type TwoFactorEvent, type UserDirectory } from 'passport-second-factor';
import { codeAt, csrfFrom, enrolTotp, portalToken, signIn, signOut, startPortal, submitCode, TestClock, type TestPortal } from './helpers/portal.js';
import { redisForSuite } from './helpers/redis-suite.js';

const quiet = { info() {}, warn() {}, error() {} };
const key = Buffer.alloc(32, 9).toString('base64');
const adminEventTypes = new Set(['reset', 'reset_refused', 'unlocked', 'unlock_refused']);

/** Password and a freshly enrolled authenticator app: a fully signed-in browser. */
async function signedIn(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const { secret } = await enrolTotp(agent, portal.clock);
  return { agent, secret };
}

/** The token the JSON API wants in `x-csrf-token`. */
async function apiToken(agent: supertest.Agent): Promise<string> {
  const res = await agent.get('/admin/2fa/api/csrf').expect(200);
  assert.equal(typeof res.body.csrfToken, 'string');
  return res.body.csrfToken as string;
}

/** Ids listed on the HTML page, in order. */
function listedIds(html: string): string[] {
  return [...html.matchAll(/<tr data-user-id="([^"]+)">/g)].map((m) => m[1]!);
}

const adminEvents = (portal: { events: TwoFactorEvent[] }) => portal.events.filter((e) => adminEventTypes.has(e.type));

describe('admin reset: resetting another person', () => {
  it('lets a bot admin reset a partner ops user, whose next sign-in asks for enrolment', async () => {
    const portal = startPortal();
    const ned = await signedIn(portal, 'northwind.ops');
    await signOut(ned.agent);
    const { agent: admin } = await signedIn(portal, 'bot.admin');

    const dashboard = await admin.get('/dashboard').expect(200);
    assert.match(dashboard.text, /<a href="\/admin\/2fa">Admin: reset 2FA<\/a>/);
    const list = await admin.get('/admin/2fa').expect(200);
    assert.match(list.text, /<label for="admin-q">Search by name or email<\/label>/);
    assert.match(list.text, /<a href="\/">Back to Acme Portal<\/a>/, 'a way back to the app');
    assert.match((await admin.get('/admin/2fa/policy').expect(200)).text, /<a href="\/">Back to Acme Portal<\/a>/, 'from the policy page too');
    assert.match(list.text, /<th scope="row">Ned North<br><span class="sf-hint">ned@northwind\.example<\/span><\/th>\s*<td>partner-ops<\/td>\s*<td>Northwind Partners<\/td>\s*<td>Enrolled \(authenticator app\)<\/td>/);
    assert.match(list.text, /href="\/admin\/2fa\/users\/u4\/reset">Reset 2FA/);

    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(200);
    assert.match(confirm.text, /<h1>Reset two-step verification for Ned North \(ned@northwind\.example\)\?<\/h1>/);
    assert.match(confirm.text, /<form method="post" action="\/admin\/2fa\/users\/u4\/reset">/);
    assert.match(confirm.text, /<a href="\/admin\/2fa">Cancel<\/a>/);
    assert.equal((await portal.store.getUser('u4'))?.method, 'totp', 'a GET changes nothing');
    assert.equal(adminEvents(portal).length, 0, 'a GET is not an attempt');

    const done = await admin.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);
    assert.equal(done.headers.location, '/admin/2fa');
    const after = await admin.get('/admin/2fa').expect(200);
    assert.match(after.text, /role="status"><p>Two-step verification was reset for Ned North, and they were signed out everywhere\./);
    assert.match(after.text, /Bea Admin reset two-step verification for Ned North\./, 'the latest events are on the page');
    assert.match(after.text, /<th scope="row">Ned North[\s\S]*?<td>Not enrolled<\/td>/);
    assert.doesNotMatch((await admin.get('/admin/2fa')).text, /was reset for Ned North/, 'the notice is shown once');
    assert.equal(await portal.store.getUser('u4'), null);

    const [event] = adminEvents(portal);
    assert.deepEqual({ ...event, at: event!.at.getTime() }, { type: 'reset', userId: 'u4', actorId: 'u1', actorName: 'Bea Admin', outcome: 'allowed', note: 'Lost their phone', at: portal.clock.t });

    const next = portal.agent();
    await signIn(next, 'northwind.ops');
    await next.get('/2fa').expect(303).expect('location', '/2fa/enrol');
    await next.get('/2fa/verify').expect(303).expect('location', '/2fa/enrol');
    await enrolTotp(next, portal.clock);
    await next.get('/dashboard').expect(200);
  });

  it('asks a person who had skipped to enrol again after a reset (the skip is cleared)', async () => {
    const portal = startPortal({ secondFactor: { policy: { mode: 'optional' } } });
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    // The skip as the "Skip for now" button records it, written directly.
    await portal.store.saveUser('u6', { generation: 0, skippedAt: portal.clock.t });
    const skipper = portal.agent();
    const _csrf = await portalToken(skipper);
    const before = await skipper.post('/login').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' }).expect(303);
    assert.equal(before.headers.location, '/', 'the skip is honoured before the reset');
    assert.match((await admin.get('/admin/2fa')).text, /<th scope="row">Abe Acme[\s\S]*?<td>Skipped<\/td>/);

    const confirm = await admin.get('/admin/2fa/users/u6/reset').expect(200);
    await admin.post('/admin/2fa/users/u6/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);

    assert.equal(await portal.store.getUser('u6'), null);
    const again = portal.agent();
    await signIn(again, 'acme.ops');
    await again.get('/2fa').expect(303).expect('location', '/2fa/enrol');
    await again.get('/dashboard').expect(303).expect('location', '/2fa');
  });

  it('clears the last accepted TOTP step and the lock with the factor', async () => {
    const portal = startPortal({ secondFactor: { maxFailedAttempts: 3 } });
    const gia = await signedIn(portal, 'globex.ops');
    const other = portal.agent();
    await signIn(other, 'globex.ops');
    for (let i = 0; i < 3; i += 1) await submitCode(other, '000000');
    await other.get('/2fa/verify').expect(429);
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    const token = await apiToken(admin);
    await admin.post('/admin/2fa/api/users/u10/reset').set('x-csrf-token', token).send({ reason: 'Lost their phone' }).expect(200);

    // Same 30-second step as the enrolment before: a new secret's first code must work.
    const fresh = portal.agent();
    await signIn(fresh, 'globex.ops');
    const { secret } = await enrolTotp(fresh, portal.clock);
    assert.notEqual(secret, gia.secret);
    await fresh.get('/dashboard').expect(200);
  });

  it('ignores extra body fields: only the id in the path is used', async () => {
    const portal = startPortal();
    await signedIn(portal, 'northwind.ops');
    await signedIn(portal, 'acme.ops');
    await signedIn(portal, 'acme.admin');
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(200);
    await admin
      .post('/admin/2fa/users/u4/reset')
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone', id: 'u6', userId: 'u6', target: 'u6', role: 'client-ops', actorId: 'u3' })
      .expect(303);
    assert.equal(await portal.store.getUser('u4'), null);
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp', 'the body did not choose the target');

    const token = await apiToken(admin);
    const json = await admin.post('/admin/2fa/api/users/u5/reset').set('x-csrf-token', token).send({ reason: 'Lost their phone', id: 'u6', userId: 'u6', role: 'bot-admin' }).expect(200);
    assert.deepEqual(json.body, { status: 'reset', userId: 'u5', sessionsEnded: true });
    assert.equal(await portal.store.getUser('u5'), null);
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
    assert.deepEqual(adminEvents(portal).map((e) => [e.type, e.userId, e.actorId]), [['reset', 'u4', 'u1'], ['reset', 'u5', 'u1']]);
  });
});

describe('admin reset: refusals', () => {
  it('refuses a reset of oneself with the answer an unknown person gets', async () => {
    const portal = startPortal();
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    const list = await admin.get('/admin/2fa').expect(200);
    assert.match(list.text, /<th scope="row">Bea Admin \(you\)/, 'the admin is listed');
    assert.doesNotMatch(list.text, /\/users\/u1\/reset/, 'but without a reset action');
    const token = csrfFrom(list.text);

    const self = await admin.post('/admin/2fa/users/u1/reset').type('form').send({ _csrf: token });
    const unknown = await admin.post('/admin/2fa/users/nobody/reset').type('form').send({ _csrf: token });
    assert.equal(self.status, 404);
    assert.equal(self.text, unknown.text);
    await admin.get('/admin/2fa/users/u1/reset').expect(404);
    const json = await admin.post('/admin/2fa/api/users/u1/reset').set('x-csrf-token', token).expect(404);
    assert.deepEqual(json.body, { error: 'not_found' });
    assert.equal((await portal.store.getUser('u1'))?.method, 'totp');
    assert.deepEqual(
      adminEvents(portal).map((e) => [e.type, e.userId, e.actorId, e.outcome, e.reason]),
      [
        ['reset_refused', 'u1', 'u1', 'refused', 'self'],
        ['reset_refused', 'nobody', 'u1', 'refused', 'not_found'],
        ['reset_refused', 'u1', 'u1', 'refused', 'self'],
      ],
    );
  });

  it('offers no reset for a person who never enrolled and never skipped, and a reset sent anyway is a 409 that changes nothing', async () => {
    const portal = startPortal();
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    await signIn(portal.agent(), 'northwind.ops'); // a password step only: nothing saved
    const list = await admin.get('/admin/2fa').expect(200);
    const row = /<tr data-user-id="u4">[\s\S]*?<\/tr>/.exec(list.text)?.[0] ?? '';
    assert.match(row, /<td>Not enrolled<\/td>/);
    assert.doesNotMatch(row, /Reset 2FA|\/reset"/, 'no reset offered');
    const users = (await admin.get('/admin/2fa/api/users').expect(200)).body.users as Array<{ id: string; canReset: boolean }>;
    assert.equal(users.find((u) => u.id === 'u4')?.canReset, false);

    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(409);
    assert.match(confirm.text, /Ned North has not set up two-step verification and has not skipped it, so there is nothing to reset\./);
    assert.match(confirm.text, /<a class="sf-button" href="\/admin\/2fa">Back to the list<\/a>/);
    assert.doesNotMatch(confirm.text, /action="\/admin\/2fa\/users\/u4\/reset"/, 'no confirmation form');
    const eventsBefore = portal.events.length;
    const posted = await admin.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: csrfFrom(list.text) }).expect(409);
    assert.match(posted.text, /nothing to reset/);
    const api = await admin.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', await apiToken(admin)).expect(409);
    assert.deepEqual(api.body, { error: 'nothing_to_reset', userId: 'u4' });
    assert.equal(await portal.store.getUser('u4'), null, 'nothing written');
    assert.deepEqual(
      portal.events.slice(eventsBefore).map((e) => [e.type, e.userId, e.outcome, e.reason]),
      [
        ['reset_refused', 'u4', 'refused', 'nothing_to_reset'],
        ['reset_refused', 'u4', 'refused', 'nothing_to_reset'],
      ],
    );

    // Once the person skipped, there is something to reset.
    await portal.store.saveUser('u4', { generation: 0, skippedAt: portal.clock.t });
    assert.match(/<tr data-user-id="u4">[\s\S]*?<\/tr>/.exec((await admin.get('/admin/2fa')).text)?.[0] ?? '', /<td>Skipped<\/td>[\s\S]*Reset 2FA/);
    await admin.get('/admin/2fa/users/u4/reset').expect(200);
  });

  it('answers 403 to a signed-in person who is not an admin', async () => {
    const portal = startPortal();
    await signedIn(portal, 'acme.ops');
    const { agent } = await signedIn(portal, 'northwind.ops');
    assert.doesNotMatch((await agent.get('/dashboard')).text, /Admin: reset 2FA/);
    const page = await agent.get('/admin/2fa').set('Accept', 'text/html');
    assert.equal(page.status, 403);
    assert.match(page.text, /You can’t do that/);
    assert.doesNotMatch(page.text, /Abe Acme/);
    await agent.get('/admin/2fa/users/u6/reset').expect(403);
    const api = await agent.get('/admin/2fa/api/users').expect(403);
    assert.deepEqual(api.body, { error: 'forbidden' });
    await agent.get('/admin/2fa/api/csrf').expect(403);
    const post = await agent.post('/admin/2fa/api/users/u6/reset').expect(403);
    assert.deepEqual(post.body, { error: 'forbidden' });
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
    assert.deepEqual(adminEvents(portal).map((e) => [e.type, e.userId, e.actorId, e.reason]), [['reset_refused', 'u6', 'u4', 'not_admin']]);
  });

  it('refuses a reset without its CSRF token, and nothing changes', async () => {
    const portal = startPortal();
    await signedIn(portal, 'northwind.ops');
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    await admin.get('/admin/2fa/users/u4/reset').expect(200);

    const missing = await admin.post('/admin/2fa/users/u4/reset').type('form').send({});
    assert.equal(missing.status, 403);
    assert.match(missing.text, /This form has expired/);
    await admin.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: 'x'.repeat(256) }).expect(403);
    const api = await admin.post('/admin/2fa/api/users/u4/reset').expect(403);
    assert.deepEqual(api.body, { error: 'csrf' });
    await admin.post('/admin/2fa/api/users/u4/unlock').set('x-csrf-token', 'wrong').expect(403);

    assert.equal((await portal.store.getUser('u4'))?.method, 'totp');
    assert.deepEqual(
      adminEvents(portal).map((e) => [e.type, e.userId, e.actorId, e.reason]),
      [
        ['reset_refused', 'u4', 'u1', 'csrf'],
        ['reset_refused', 'u4', 'u1', 'csrf'],
        ['reset_refused', 'u4', 'u1', 'csrf'],
        ['unlock_refused', 'u4', 'u1', 'csrf'],
      ],
    );
  });

  it('gives an unknown person and one out of reach the same answer', async () => {
    const portal = startPortal();
    const { agent: nora } = await signedIn(portal, 'northwind.admin');
    const token = await apiToken(nora);
    // u8 is Sue South of Southpaw: she exists, but not for a Northwind partner admin.
    const pairs = [
      [nora.get('/admin/2fa/users/u8/reset'), nora.get('/admin/2fa/users/u404/reset')],
      [nora.post('/admin/2fa/users/u8/reset').type('form').send({ _csrf: token }), nora.post('/admin/2fa/users/u404/reset').type('form').send({ _csrf: token })],
      [nora.post('/admin/2fa/users/u8/unlock').type('form').send({ _csrf: token }), nora.post('/admin/2fa/users/u404/unlock').type('form').send({ _csrf: token })],
      [nora.post('/admin/2fa/api/users/u8/reset').set('x-csrf-token', token), nora.post('/admin/2fa/api/users/u404/reset').set('x-csrf-token', token)],
    ] as const;
    for (const [forbidden, unknown] of pairs) {
      const [a, b] = [await forbidden, await unknown];
      assert.equal(a.status, 404);
      assert.equal(b.status, 404);
      assert.equal(a.text, b.text);
      assert.equal(a.headers['content-type'], b.headers['content-type']);
    }
    assert.deepEqual(
      adminEvents(portal).map((e) => [e.type, e.userId, e.reason]),
      [
        ['reset_refused', 'u8', 'forbidden'],
        ['reset_refused', 'u404', 'not_found'],
        ['unlock_refused', 'u8', 'forbidden'],
        ['unlock_refused', 'u404', 'not_found'],
        ['reset_refused', 'u8', 'forbidden'],
        ['reset_refused', 'u404', 'not_found'],
      ],
    );
  });

  it('keeps another firm out of a partner admin’s list, search, API and actions', async () => {
    const portal = startPortal();
    await signedIn(portal, 'globex.ops');
    const { agent: nora } = await signedIn(portal, 'northwind.admin');
    const page = await nora.get('/admin/2fa').expect(200);
    assert.deepEqual(listedIds(page.text), ['u3', 'u4', 'u5', 'u6']);
    assert.doesNotMatch(page.text, /Southpaw|Globex|Bot HQ/);
    const search = await nora.get('/admin/2fa').query({ q: 'globex' }).expect(200);
    assert.deepEqual(listedIds(search.text), []);
    assert.match(search.text, /No one you can manage matches/);
    assert.deepEqual(listedIds((await nora.get('/admin/2fa').query({ q: 'acme.example' })).text), ['u5', 'u6']);

    const api = await nora.get('/admin/2fa/api/users').expect(200);
    assert.deepEqual(api.body.users.map((u: { id: string }) => u.id), ['u3', 'u4', 'u5', 'u6']);
    assert.equal(api.body.users.find((u: { id: string }) => u.id === 'u3').canReset, false, 'herself: shown, not resettable');
    const token = await apiToken(nora);
    await nora.post('/admin/2fa/api/users/u10/reset').set('x-csrf-token', token).expect(404);
    await nora.post('/admin/2fa/users/u10/reset').type('form').send({ _csrf: token }).expect(404);
    assert.equal((await portal.store.getUser('u10'))?.method, 'totp');
  });

  it('refuses an admin whose own second factor is not done, whatever the mount order', async () => {
    // A host that mounts the admin router with no guard in front of it at all.
    const clock = new TestClock();
    const events: TwoFactorEvent[] = [];
    const store = new MemoryStore();
    const twoFactor = secondFactor({
      issuer: 'Bare host',
      encryptionKey: key,
      store,
      now: clock.now,
      logger: quiet,
      onEvent: (event) => {
        events.push(event);
      },
      users: { find: findUser, search: (query, { offset, limit }) => searchUsers(query, offset, limit) },
      roles: { roleOf: (user) => user.role, tenantOf: (user) => user.tenant },
    });
    const app = express();
    app.use(session({ secret: 'bare-host-secret', resave: false, saveUninitialized: false }));
    app.use((req, _res, next) => {
      const id = (req.session as unknown as { as?: string }).as;
      const user = id ? findUser(id) : undefined;
      if (user) req.user = user;
      next();
    });
    app.post('/as/:id/:state', (req, res) => {
      (req.session as unknown as { as?: string }).as = req.params.id;
      const done = req.params.state === 'done';
      // A finished sign-in as a code at sign-in leaves it: proved, in generation 0.
      req.session.secondFactor = { state: done ? 'done' : 'pending', userId: req.params.id, since: clock.t, ...(done ? { grant: { how: 'proved' as const, generation: 0 } } : {}) };
      req.session.csrfToken = 'known-token';
      res.sendStatus(204);
    });
    app.use('/admin/2fa', twoFactor.adminRouter);
    await store.saveUser('u4', { generation: 0, method: 'totp', factorId: 'f', secret: 'sealed' });

    const agent = supertest.agent(app);
    await agent.get('/admin/2fa').expect(303).expect('location', '/login?returnTo=%2Fadmin%2F2fa');
    await agent.post('/as/u1/pending').expect(204);
    await agent.get('/admin/2fa').set('Accept', 'text/html').expect(303).expect('location', '/2fa');
    const api = await agent.get('/admin/2fa/api/users').expect(401);
    assert.equal(api.body.error, 'second_factor_required');
    await agent.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: 'known-token' }).expect(303).expect('location', '/2fa');
    await agent.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', 'known-token').expect(401);
    assert.equal((await store.getUser('u4'))?.method, 'totp', 'nothing changed');
    assert.deepEqual(events.map((e) => [e.type, e.userId, e.actorId, e.reason]), [
      ['reset_refused', 'u4', 'u1', 'second_factor_required'],
      ['reset_refused', 'u4', 'u1', 'second_factor_required'],
    ]);

    // The same session once its second factor is done: the set-up above was not the refusal.
    await agent.post('/as/u1/done').expect(204);
    await agent.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', 'known-token').send({ reason: 'Lost their phone' }).expect(200);
    assert.equal(await store.getUser('u4'), null);
  });
});

describe('admin reset: unlock', () => {
  it('clears a lock without resetting the factor', async () => {
    const portal = startPortal({ secondFactor: { maxFailedAttempts: 3 } });
    const { secret } = await signedIn(portal, 'globex.ops');
    const locked = portal.agent();
    await signIn(locked, 'globex.ops');
    for (let i = 0; i < 3; i += 1) await submitCode(locked, '000000');
    await locked.get('/2fa/verify').expect(429);

    const { agent: admin } = await signedIn(portal, 'southpaw.admin');
    const list = await admin.get('/admin/2fa').expect(200);
    assert.match(list.text, /<th scope="row">Gia Globex[\s\S]*?Enrolled \(authenticator app\)<br><strong>Locked \(about 15 min left\)<\/strong>/);
    assert.match(list.text, /<form method="post" action="\/admin\/2fa\/users\/u10\/unlock"/);
    const api = await admin.get('/admin/2fa/api/users').expect(200);
    assert.deepEqual(api.body.users.find((u: { id: string }) => u.id === 'u10').status, { method: 'totp', skipped: false, locked: true, lockedSeconds: 900, needsReview: false });

    await admin.post('/admin/2fa/users/u10/unlock').type('form').send({ _csrf: csrfFrom(list.text) }).expect(303).expect('location', '/admin/2fa');
    const after = await admin.get('/admin/2fa').expect(200);
    assert.match(after.text, /The lock on Gia Globex’s two-step verification was cleared\./);
    assert.match(after.text, /Sam South unlocked two-step verification for Gia Globex\./);
    assert.doesNotMatch(after.text, /\/users\/u10\/unlock/);
    assert.equal((await portal.store.getUser('u10'))?.method, 'totp', 'the factor stays');

    portal.clock.advance(30);
    assert.equal((await submitCode(locked, codeAt(secret, portal.clock.t))).status, 303);
    const [event] = adminEvents(portal);
    assert.deepEqual([event?.type, event?.userId, event?.actorId, event?.outcome], ['unlocked', 'u10', 'u7', 'allowed']);
  });

  it('unlocks through the JSON API under the same checks', async () => {
    const portal = startPortal({ secondFactor: { maxFailedAttempts: 3 } });
    await signedIn(portal, 'acme.ops');
    const locked = portal.agent();
    await signIn(locked, 'acme.ops');
    for (let i = 0; i < 3; i += 1) await submitCode(locked, '000000');
    const { agent: sam } = await signedIn(portal, 'southpaw.admin');
    await sam.post('/admin/2fa/api/users/u6/unlock').set('x-csrf-token', await apiToken(sam)).expect(404);
    await locked.get('/2fa/verify').expect(429);
    const { agent: nora } = await signedIn(portal, 'northwind.admin');
    const res = await nora.post('/admin/2fa/api/users/u6/unlock').set('x-csrf-token', await apiToken(nora)).expect(200);
    assert.deepEqual(res.body, { status: 'unlocked', userId: 'u6' });
    await locked.get('/2fa/verify').expect(200);
    assert.deepEqual(adminEvents(portal).map((e) => [e.type, e.actorId, e.outcome]), [['unlock_refused', 'u7', 'refused'], ['unlocked', 'u3', 'allowed']]);
  });
});

describe('admin reset: ending the person’s sessions', () => {
  it('ends the target’s other sessions on reset', async () => {
    const portal = startPortal();
    const ned = await signedIn(portal, 'northwind.ops');
    const nedElsewhere = portal.agent();
    await signIn(nedElsewhere, 'northwind.ops');
    portal.clock.advance(30);
    assert.equal((await submitCode(nedElsewhere, codeAt(ned.secret, portal.clock.t))).status, 303);
    const bystander = await signedIn(portal, 'acme.ops');
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    await ned.agent.get('/dashboard').expect(200);

    await admin.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', await apiToken(admin)).send({ reason: 'Lost their phone' }).expect(200);
    await ned.agent.get('/dashboard').expect(303).expect('location', '/login?returnTo=%2Fdashboard');
    await nedElsewhere.get('/api/me').set('Accept', 'application/json').expect(401);
    await bystander.agent.get('/dashboard').expect(200);
    await admin.get('/admin/2fa').expect(200);
  });

  it('leaves them alone with endSessionsOnReset: false', async () => {
    const portal = startPortal({ secondFactor: { endSessionsOnReset: false } });
    const ned = await signedIn(portal, 'northwind.ops');
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(200);
    assert.doesNotMatch(confirm.text, /signed out everywhere/);
    const res = await admin.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', await apiToken(admin)).send({ reason: 'Lost their phone' }).expect(200);
    assert.equal(res.body.sessionsEnded, false);
    assert.equal(await portal.store.getUser('u4'), null);
    await ned.agent.get('/dashboard').expect(200);
  });

  it('calls the host’s endSessions instead of scanning the session store', async () => {
    const ended: string[] = [];
    const portal = startPortal({ secondFactor: { endSessions: (userId) => void ended.push(userId) } });
    const ned = await signedIn(portal, 'northwind.ops');
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    await admin.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', await apiToken(admin)).send({ reason: 'Lost their phone' }).expect(200);
    assert.deepEqual(ended, ['u4']);
    // The hook replaced the package's own scan: this hook ended nothing.
    await ned.agent.get('/dashboard').expect(200);
  });

  describe('with sessions in Redis (connect-redis)', () => {
    const redis = redisForSuite();

    it('ends the target’s sessions in Redis and keeps everyone else’s', async () => {
      const portal = startPortal({ redis: redis.client });
      const ned = await signedIn(portal, 'northwind.ops');
      const bystander = await signedIn(portal, 'acme.ops');
      const { agent: admin } = await signedIn(portal, 'bot.admin');
      const before = (await redis.client.keys('portal-sess:*')).length;
      await admin.post('/admin/2fa/api/users/u4/reset').set('x-csrf-token', await apiToken(admin)).send({ reason: 'Lost their phone' }).expect(200);
      await ned.agent.get('/dashboard').expect(303).expect('location', /^\/login/);
      await bystander.agent.get('/dashboard').expect(200);
      assert.equal((await redis.client.keys('portal-sess:*')).length, before - 1);
      assert.equal(await redis.client.get('sf:user:{u4}'), null);
      // The admin page's list of latest actions lives in the store, shared by every instance.
      const otherInstance = startPortal({ redis: redis.client });
      const { agent: nora } = await signedIn(otherInstance, 'northwind.admin');
      assert.match((await nora.get('/admin/2fa')).text, /Bea Admin reset two-step verification for Ned North\./);
    });
  });
});

describe('admin reset: the list', () => {
  /** 45 more people at Acme, so that the lists need pages. */
  const extra: PortalUser[] = Array.from({ length: 45 }, (_, i) => ({
    id: `x${i + 1}`,
    username: `extra${i + 1}`,
    name: `Extra Person ${String(i + 1).padStart(2, '0')}`,
    email: `extra${i + 1}@acme.example`,
    role: 'client-ops',
    tenant: 'northwind/acme',
    firm: 'Acme Co (Northwind)',
  }));
  const everyone = [...demoUsers, ...extra];
  /** A directory that does not give a total, to page by "one more than asked". */
  const directory: UserDirectory = {
    find: (id) => everyone.find((user) => user.id === id),
    search: (query, { offset, limit }) => ({
      users: everyone.filter((user) => user.name.toLowerCase().includes(query.toLowerCase()) || user.email.includes(query.toLowerCase())).slice(offset, offset + limit),
    }),
  };

  it('pages through 20 people at a time with Previous and Next, keeping the search', async () => {
    const portal = startPortal({ secondFactor: { users: directory } });
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    const first = await admin.get('/admin/2fa').expect(200);
    assert.equal(listedIds(first.text).length, 20);
    assert.match(first.text, /<nav class="sf-pages" aria-label="Pages">/);
    assert.doesNotMatch(first.text, /rel="prev"/);
    assert.match(first.text, /<a href="\/admin\/2fa\?page=2" rel="next">Next<\/a>/);
    const second = await admin.get('/admin/2fa?page=2').expect(200);
    assert.equal(listedIds(second.text)[0], 'x11');
    assert.match(second.text, /<a href="\/admin\/2fa" rel="prev">Previous<\/a>/);
    const third = await admin.get('/admin/2fa?page=3').expect(200);
    assert.deepEqual(listedIds(third.text), ['x31', 'x32', 'x33', 'x34', 'x35', 'x36', 'x37', 'x38', 'x39', 'x40', 'x41', 'x42', 'x43', 'x44', 'x45']);
    assert.doesNotMatch(third.text, /rel="next"/);

    const searched = await admin.get('/admin/2fa').query({ q: 'extra person' }).expect(200);
    assert.match(searched.text, /<a href="\/admin\/2fa\?q=extra\+person&amp;page=2" rel="next">/);
    const api = await admin.get('/admin/2fa/api/users').query({ q: 'Extra Person', page: 3 }).expect(200);
    assert.equal(api.body.users.length, 5);
    assert.equal(api.body.hasNext, false);
    for (const odd of ['0', '-1', 'abc', '1e3']) await admin.get('/admin/2fa').query({ page: odd }).expect(200);
  });

  it('lists for a partner admin only their firm, even from a directory that returns everyone', async () => {
    const portal = startPortal({ secondFactor: { users: directory } });
    const { agent: sam } = await signedIn(portal, 'southpaw.admin');
    const page = await sam.get('/admin/2fa').expect(200);
    assert.deepEqual(listedIds(page.text), ['u7', 'u8', 'u9', 'u10']);
    // The directory's later pages hold only Acme people: nothing of them shows, the paging goes on.
    const later = await sam.get('/admin/2fa?page=2').expect(200);
    assert.deepEqual(listedIds(later.text), []);
    assert.match(later.text, /rel="prev"/);
  });

  it('answers 404 everywhere when users and roles are not configured', async () => {
    const portal = startPortal({ secondFactor: { users: undefined, roles: undefined } });
    const { agent: admin } = await signedIn(portal, 'bot.admin');
    await admin.get('/admin/2fa').expect(404);
    const api = await admin.get('/admin/2fa/api/users').set('Accept', 'application/json').expect(404);
    assert.deepEqual(api.body, { error: 'not_found' });
  });
});

describe('admin reset: who may reset whom, through the JSON API', () => {
  const roles = ['bot-admin', 'bot-ops', 'partner-admin', 'partner-ops', 'client-admin', 'client-ops'] as const;
  type Role = (typeof roles)[number];
  const placements = ['', 'northwind', 'northwind/acme', 'southpaw', 'southpaw/globex'] as const;
  type Placement = (typeof placements)[number];

  /** One demo person per role signs in; all of them sit in Northwind or at the root. */
  const actorOf: Record<Role, string> = {
    'bot-admin': 'bot.admin',
    'bot-ops': 'bot.ops',
    'partner-admin': 'northwind.admin',
    'partner-ops': 'northwind.ops',
    'client-admin': 'acme.admin',
    'client-ops': 'acme.ops',
  };

  /** A target of every role in every placement: the same firm, its client, the other firm and its client. */
  const targets: PortalUser[] = roles.flatMap((role) =>
    placements.map((tenant) => ({
      id: `t-${role}@${tenant || 'root'}`,
      username: `t-${role}-${tenant}`,
      name: `Target ${role} ${tenant || 'root'}`,
      email: `${role}@${tenant.replace('/', '.') || 'root'}.example`,
      role,
      tenant,
      firm: tenant || 'Bot HQ',
    })),
  );
  const everyone = [...demoUsers, ...targets];
  const directory: UserDirectory = {
    find: (id) => everyone.find((user) => user.id === id),
    search: (_query, { offset, limit }) => ({ users: everyone.slice(offset, offset + limit), total: everyone.length }),
  };

  /*
   * Written from the prose, not from the code: Bot Admin resets all six roles in all
   * firms; Partner Admin resets Partner Admin, Partner Ops, Client Admin and Client Ops in
   * their own firm (Northwind) and its client (Acme); nobody else resets anyone.
   */
  const expected = (actor: Role, target: Role, at: Placement): 200 | 403 | 404 => {
    if (actor === 'bot-admin') return 200;
    if (actor !== 'partner-admin') return 403;
    const ownFirm = at === 'northwind' || at === 'northwind/acme';
    return ownFirm && target !== 'bot-admin' && target !== 'bot-ops' ? 200 : 404;
  };

  it('has 6 × 6 role pairs in 5 placements with 38 allowed', () => {
    const cases = roles.flatMap((a) => roles.flatMap((t) => placements.map((p) => expected(a, t, p))));
    assert.equal(cases.length, 180);
    assert.equal(cases.filter((status) => status === 200).length, 30 + 4 * 2);
  });

  for (const actorRole of roles) {
    it(`lets ${actorRole} reset exactly whom the matrix and tenant scope allow`, async () => {
      const portal = startPortal({ secondFactor: { users: directory } });
      // Enrolled, so that a reset has something to clear (one of someone never enrolled is a 409).
      await Promise.all(targets.map((target) => portal.store.saveUser(target.id, { generation: 0, method: 'totp', factorId: 'f', secret: 'sealed' })));
      const { agent } = await signedIn(portal, actorOf[actorRole]);
      const admin = actorRole === 'bot-admin' || actorRole === 'partner-admin';
      const token = admin ? await apiToken(agent) : 'none';

      const got: string[] = [];
      const want: string[] = [];
      for (const target of targets) {
        const res = await agent.post(`/admin/2fa/api/users/${encodeURIComponent(target.id)}/reset`).set('x-csrf-token', token).send({ reason: 'Lost their phone' });
        got.push(`${target.id}: ${res.status}`);
        want.push(`${target.id}: ${expected(actorRole, target.role, target.tenant as Placement)}`);
      }
      assert.deepEqual(got, want);

      // The list shows exactly the targets that may be reset (besides demo people).
      const listed: string[] = [];
      if (admin) {
        for (let page = 1; ; page += 1) {
          const res = await agent.get('/admin/2fa/api/users').query({ page }).expect(200);
          listed.push(...res.body.users.map((u: { id: string }) => u.id).filter((id: string) => id.startsWith('t-')));
          if (!res.body.hasNext) break;
        }
      } else {
        await agent.get('/admin/2fa/api/users').expect(403);
      }
      assert.deepEqual(listed, targets.filter((t) => expected(actorRole, t.role, t.tenant as Placement) === 200).map((t) => t.id));
      const allowed = adminEvents(portal).filter((e) => e.outcome === 'allowed');
      assert.equal(allowed.length, want.filter((line) => line.endsWith(' 200')).length);
      assert.equal(adminEvents(portal).length, targets.length, 'one event per attempt');
    });
  }
});

describe('admin reset: options', () => {
  const base = { issuer: 'Acme', encryptionKey: key, logger: quiet };
  const users: UserDirectory = { find: () => undefined, search: () => ({ users: [] }) };
  const roles = { roleOf: () => undefined, tenantOf: () => undefined };

  function startupError(options: Partial<SecondFactorOptions> & Record<string, unknown>): string {
    try {
      secondFactor({ ...base, ...options } as SecondFactorOptions);
    } catch (error) {
      assert.ok(error instanceof TwoFactorError);
      assert.equal(error.code, 'invalid_option');
      return error.message;
    }
    assert.fail('secondFactor() accepted bad options');
  }

  it('names bad role rules at start-up', () => {
    assert.match(
      startupError({ users, roles: { ...roles, rules: { resets: { lead: ['staf'], staff: [] } } } }),
      /^secondFactor\(\): option roles\.rules\.resets\["lead"\]\[0\] "staf" is not a role of roles\.rules\.resets \(did you mean "staff"\?\)/,
    );
  });

  it('names a misspelt or missing directory function', () => {
    assert.match(startupError({ users: { ...users, fnd: () => undefined } as unknown as UserDirectory, roles }), /unknown option "users\.fnd"; did you mean "users\.find"\?/);
    assert.match(startupError({ users: { search: users.search } as unknown as UserDirectory, roles }), /option "users\.find" must be a function/);
    assert.match(startupError({ users, roles: { roleOf: () => undefined } as unknown as typeof roles }), /option "roles\.tenantOf" must be a function/);
    assert.match(startupError({ users: 'ldap' as unknown as UserDirectory, roles }), /option "users" must be an object/);
  });

  it('needs roles with users', () => {
    assert.match(startupError({ users }), /option "roles" is required when "users" is given/);
    assert.doesNotThrow(() => secondFactor({ ...base, roles }), 'roles alone serve the policy');
  });
});
