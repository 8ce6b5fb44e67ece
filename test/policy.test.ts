import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { MemoryStore, type TwoFactorStore } from '../src/index.js';
import { codeAt, continueAfterCodes, csrfFrom, enrolTotp, portalToken, postLogin, signIn, startPortal, submitCode, type TestPortal } from './helpers/portal.js';
import { countingStore } from './helpers/counting-store.js';

const optional = { policy: { mode: 'optional' as const, roleModes: { 'bot-admin': 'required' as const } } };

async function skip(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const choose = await agent.get('/2fa/enrol').expect(200);
  assert.match(choose.text, /Skip for now/);
  const done = await agent.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) });
  assert.equal(done.status, 303);
  return agent;
}

async function setMode(portal: TestPortal, admin: ReturnType<TestPortal['agent']>, mode: string) {
  const page = await admin.get('/admin/2fa/policy').expect(200);
  const res = await admin.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(page.text), mode });
  assert.equal(res.status, 200, res.text.slice(0, 200));
}


describe('enforcement policy', () => {
  it('required: the person must enrol and cannot skip', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const choose = await agent.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(choose.text, /Skip for now/);
    const refused = await agent.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) });
    assert.equal(refused.status, 403);
    assert.equal(await portal.store.getUser('u6'), null, 'nothing remembered');
    await agent.get('/dashboard').expect(303).expect('location', '/2fa');
  });

  it('optional: "Skip for now" signs the person in, and later sign-ins go straight through', async () => {
    const portal = startPortal({ secondFactor: optional });
    const first = await skip(portal, 'acme.ops');
    await first.get('/dashboard').expect(200).expect(/Enable 2FA/);
    assert.ok(portal.events.some((e) => e.type === 'skipped' && e.userId === 'u6'));

    const later = portal.agent();
    const login = await postLogin(later, { username: 'acme.ops', password: 'demo-password', returnTo: '/api/me' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/api/me');
    await later.get('/api/me').set('Accept', 'application/json').expect(200);
  });

  it('refuses skip for an enrolled person and for a role that must enrol', async () => {
    const portal = startPortal({ secondFactor: optional });
    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    const choose = await admin.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(choose.text, /Skip for now/, 'bot admins must enrol');
    assert.equal((await admin.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) })).status, 403);

    const enrolled = portal.agent();
    await signIn(enrolled, 'acme.admin');
    await enrolTotp(enrolled, portal.clock);
    portal.clock.advance(30);
    const again = portal.agent();
    await signIn(again, 'acme.admin');
    const verify = await again.get('/2fa/verify').expect(200);
    const refused = await again.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(verify.text) });
    assert.equal(refused.status, 403);
    assert.equal((await portal.store.getUser('u5'))?.method, 'totp', 'enrolment unchanged');
    await again.get('/dashboard').expect(303);
  });

  it('"Enable 2FA" after a skip signs the person out, and the next sign-in enrols without a skip', async () => {
    const portal = startPortal({ secondFactor: optional });
    const agent = await skip(portal, 'globex.ops');
    const page = await agent.get('/2fa/enable').expect(200);
    assert.match(page.text, /you will be signed out/);
    assert.match(page.text, /No thanks/);
    const confirmed = await agent.post('/2fa/enable').type('form').send({ _csrf: csrfFrom(page.text) }).expect(200);
    assert.match(confirmed.text, /You are signed out/);
    await agent.get('/dashboard').expect(303).expect('location', /^\/login/);
    assert.ok(portal.events.some((e) => e.type === 'enable_requested' && e.userId === 'u10'));

    const next = portal.agent();
    await signIn(next, 'globex.ops');
    await next.get('/2fa').expect(303).expect('location', '/2fa/enrol');
    const choose = await next.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(choose.text, /Skip for now/);
    await enrolTotp(next, portal.clock);
    await next.get('/dashboard').expect(200);
  });

  it('refuses the enable page without a finished sign-in, and its form without a CSRF token', async () => {
    const portal = startPortal({ secondFactor: optional });
    await portal.agent().get('/2fa/enable').expect(401);
    const agent = await skip(portal, 'globex.ops');
    await agent.post('/2fa/enable').type('form').send({}).expect(403);
    await agent.get('/dashboard').expect(200);
  });

  it('off: no second factor is asked; off then on again makes everyone enrol again', async () => {
    const portal = startPortal({ secondFactor: optional });
    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, portal.clock);
    const member = portal.agent();
    await signIn(member, 'northwind.ops');
    const { secret } = await enrolTotp(member, portal.clock);
    await skip(portal, 'acme.ops');

    await setMode(portal, admin, 'off');
    const off = portal.agent();
    const login = await postLogin(off, { username: 'northwind.ops', password: 'demo-password' });
    assert.equal(login.headers.location, '/', 'straight in while off');
    await off.get('/dashboard').expect(200);

    await setMode(portal, admin, 'optional');
    portal.clock.advance(30);
    const on = portal.agent();
    await signIn(on, 'northwind.ops');
    await on.get('/2fa').expect(303).expect('location', '/2fa/enrol');
    await on.get('/2fa/verify').expect(303).expect('location', '/2fa/enrol');
    const page = await on.get('/2fa/enrol').expect(200);
    const oldCode = await on.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t) });
    assert.equal(oldCode.status, 303);
    assert.equal(oldCode.headers.location, '/2fa/enrol', 'the old enrolment opens nothing');
    await on.get('/dashboard').expect(303).expect('location', '/2fa');
    const skipper = portal.agent();
    await signIn(skipper, 'acme.ops');
    await skipper.get('/2fa/enrol').expect(200).expect(/Skip for now/);
    const changes = portal.events.filter((e) => e.type === 'policy_changed').map((e) => [e.actorId, e.outcome]);
    assert.deepEqual(changes, [['u1', 'required->off'], ['u1', 'off->optional']].map(([a, o]) => [a, o?.replace('required', 'optional')]));
  });

  it('lets only people canManagePolicy allows change the switch, with a CSRF token', async () => {
    const portal = startPortal({ secondFactor: optional });
    const partner = portal.agent();
    await signIn(partner, 'northwind.admin');
    await enrolTotp(partner, portal.clock);
    await partner.get('/admin/2fa/policy').expect(403);
    const dashboard = await partner.get('/2fa/enable');
    assert.equal((await partner.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(dashboard.text), mode: 'off' })).status, 403);
    assert.ok(portal.events.some((e) => e.type === 'policy_change_refused' && e.actorId === 'u3'));

    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    portal.clock.advance(30);
    await enrolTotp(admin, portal.clock);
    await admin.post('/admin/2fa/policy').type('form').send({ mode: 'off' }).expect(403);
    const page = await admin.get('/admin/2fa/policy').expect(200);
    await admin.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(page.text), mode: 'sometimes' }).expect(400);
    const pending = portal.agent();
    await signIn(pending, 'bot.admin');
    await pending.get('/admin/2fa/policy').expect(303).expect('location', '/2fa');
    const fresh = portal.agent();
    await postLogin(fresh, { username: 'acme.ops', password: 'demo-password' });
    await skip(portal, 'acme.ops');
    assert.ok(!portal.events.some((e) => e.type === 'policy_changed'));
  });

  it('signs the person out after a first enrolment when the policy asks for it', async () => {
    const portal = startPortal({ secondFactor: { policy: { reauthenticateAfterEnrolment: true } } });
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' });
    const page = await agent.get('/2fa/enrol/totp');
    const secret = /id="totp-key">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
    const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t) });
    const { done } = await continueAfterCodes(agent, shown);
    assert.equal(done.status, 200);
    assert.match(done.text, /Please sign in again/);
    await agent.get('/dashboard').expect(303).expect('location', /^\/login/);
    portal.clock.advance(30);
    await signIn(agent, 'acme.ops');
    assert.equal((await submitCode(agent, codeAt(secret, portal.clock.t))).status, 303);
  });

  it('reaches another instance within the cache time, and the changing instance at once', async () => {
    const shared = new MemoryStore();
    const a = startPortal({ secondFactor: { store: shared, policy: { mode: 'optional', cacheSeconds: 0.3 } } });
    const b = startPortal({ secondFactor: { store: shared, policy: { mode: 'optional', cacheSeconds: 0.3 } } });
    const admin = a.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, a.clock);
    // Instance B reads (and caches) the switch.
    const before = b.agent();
    await signIn(before, 'acme.ops');
    await before.get('/2fa/enrol').expect(/Skip for now/);

    await setMode(a, admin, 'required');
    const onA = a.agent();
    await signIn(onA, 'acme.ops');
    await onA.get('/2fa/enrol').expect(200).expect((res) => assert.doesNotMatch(res.text, /Skip for now/));
    await new Promise((resolve) => setTimeout(resolve, 350));
    const onB = b.agent();
    await signIn(onB, 'acme.ops');
    await onB.get('/2fa/enrol').expect(200).expect((res) => assert.doesNotMatch(res.text, /Skip for now/));
  });

  it('lets a finished sign-in through the guard without any store call', async () => {
    const { store, calls } = countingStore(new MemoryStore());
    const portal = startPortal({ secondFactor: { store } });
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    await enrolTotp(agent, portal.clock);
    calls.length = 0;
    for (let i = 0; i < 20; i += 1) await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    assert.deepEqual(calls, []);
  });
});

describe('one source of truth for the policy switch', () => {
  /** The start-up line about the mode, once the background read has resolved. */
  async function modeLine(portal: TestPortal): Promise<string> {
    for (let i = 0; i < 100; i += 1) {
      const line = portal.logs.find((l) => l.includes('2FA mode'));
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`no 2FA mode line in: ${portal.logs.join(' | ')}`);
  }

  /** An instance whose admin (bot.admin, enrolled) turned the switch off on the page. */
  async function switchedOffOnThePage(store: TwoFactorStore): Promise<{ secret: string }> {
    const portal = startPortal({ secondFactor: { store } });
    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    const { secret } = await enrolTotp(admin, portal.clock);
    await setMode(portal, admin, 'off');
    return { secret };
  }

  it('logs at start-up the mode from the option when nothing is stored', async () => {
    assert.equal(await modeLine(startPortal()), 'info second factor: 2FA mode: required (from the policy.mode option)');
  });

  it('logs the stored switch with who set it and when, and warns when it overrides the policy.mode option', async () => {
    const store = new MemoryStore();
    await switchedOffOnThePage(store);

    const restarted = startPortal({ secondFactor: { store, policy: { mode: 'required' } } });

    assert.equal(
      await modeLine(restarted),
      'warn second factor: 2FA mode: off (set by bea@bot.example (user u1) on 2026-01-05T09:00Z on the policy page); the policy.mode option ("required") is only the default until the page sets one: set policy.lockMode: true to make it win',
    );
    const agent = restarted.agent();
    const _csrf = await portalToken(agent);
    await agent.post('/login').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' }).expect(303).expect('location', '/');
  });

  it('shows on the policy page who changed the switch and when', async () => {
    const portal = startPortal();
    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, portal.clock);
    await setMode(portal, admin, 'optional');
    const page = await admin.get('/admin/2fa/policy').expect(200);
    assert.match(page.text, /Last changed by bea@bot\.example on 2026-01-05 09:00 UTC\./);
  });

  it('policy.lockMode: the option wins over the stored switch, the page shows it locked and refuses changes', async () => {
    const store = new MemoryStore();
    const { secret } = await switchedOffOnThePage(store);

    const locked = startPortal({ secondFactor: { store, policy: { mode: 'required', lockMode: true } } });

    assert.match(await modeLine(locked), /^info second factor: 2FA mode: required \(from the policy\.mode option, locked by policy\.lockMode; overrides the policy page's "off" \(set by bea@bot\.example/);
    const person = locked.agent();
    await signIn(person, 'acme.ops');
    const admin = locked.agent();
    await signIn(admin, 'bot.admin');
    locked.clock.advance(30);
    // Enrolled on the first instance (same store and key): a later code of the same app.
    assert.equal((await submitCode(admin, codeAt(secret, locked.clock.t))).status, 303);
    const page = await admin.get('/admin/2fa/policy').expect(200);
    assert.match(page.text, /Set by the operator in configuration: it can’t be changed on this page\./);
    assert.doesNotMatch(page.text, /name="mode"/);
    const refused = await admin.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(page.text), mode: 'off' });
    assert.equal(refused.status, 409);
    assert.match(refused.text, /made by the operator in configuration/);
    const json = await admin.post('/admin/2fa/policy').set('Accept', 'application/json').type('form').send({ _csrf: csrfFrom(page.text), mode: 'off' });
    assert.deepEqual(json.body, { error: 'policy_locked' });
    assert.ok(locked.events.some((e) => e.type === 'policy_change_refused' && e.reason === 'locked'));
  });

  it('warns at start-up when the stored switch cannot be read', async () => {
    const inner = new MemoryStore();
    const broken = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'get') return () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
        // Methods run on the store itself: MemoryStore keeps its state in private fields.
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const portal = startPortal({ secondFactor: { store: broken } });
    assert.equal(await modeLine(portal), 'warn second factor: 2FA mode not known yet: could not read the stored switch at start-up (ECONNREFUSED 127.0.0.1:6379); sign-ins answer 503 until the store answers');
  });
});

