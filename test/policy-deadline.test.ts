import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { MemoryStore, type SecondFactorOptions, type TwoFactorStore } from '../src/index.js';
import { csrfFrom, enrolTotp, postLogin, startPortal, type TestPortal } from './helpers/portal.js';
import { countingStore } from './helpers/counting-store.js';

type Agent = ReturnType<TestPortal['agent']>;

/** Optional for everyone but bot and partner admins, who enrol and manage. The test clock starts on 5 January 2026, 09:00 UTC. */
const optional = (extra: Partial<NonNullable<SecondFactorOptions['policy']>> = {}): Partial<SecondFactorOptions> => ({
  policy: { mode: 'optional', roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' }, ...extra },
});

/**
 * The password step, then wherever it leads (the login may answer 303 /2fa or go straight to
 * /2fa/enrol: followed either way). Returns the method choice page.
 */
async function toChoice(agent: Agent, username: string) {
  const login = await postLogin(agent, { username, password: 'demo-password' });
  assert.equal(login.status, 303, `the password step of ${username}`);
  return agent.get('/2fa/enrol').expect(200);
}

/** Skips on the choice page; returns the page that offered it. */
async function skipNow(agent: Agent) {
  const choose = await agent.get('/2fa/enrol').expect(200);
  assert.match(choose.text, /Skip for now/);
  await agent.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(choose.text) }).expect(303);
  await agent.get('/dashboard').expect(200);
  return choose;
}

/** Someone allowed on a policy page, signed in with an authenticator app. */
async function manager(portal: TestPortal, username: string): Promise<Agent> {
  const agent = portal.agent();
  await toChoice(agent, username);
  await enrolTotp(agent, portal.clock);
  return agent;
}

/** Posts a policy form; with `confirm`, follows a preview with its "Save" form. */
async function postPolicy(agent: Agent, path: string, fields: Record<string, string>, options: { expectPreview?: boolean } = {}) {
  const page = await agent.get(path).expect(200);
  // As the page's form does: review=1 asks for the preview of a stricter change.
  const answer = await agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), review: '1', ...fields });
  if (answer.status !== 200) return answer;
  const preview = /Check this change before you save it/.test(answer.text);
  if (options.expectPreview !== undefined) assert.equal(preview, options.expectPreview, `preview shown for ${JSON.stringify(fields)}`);
  if (!preview) return answer;
  return agent.post(path).type('form').send({ _csrf: csrfFrom(answer.text), ...fields, confirm: '1' });
}

const portalDeadline = (date: string) => ({ mode: 'optional', deadlineKind: 'date', deadlineDate: date });

describe('policy deadlines', () => {
  it('offers the skip with the last day and the days left, in the portal zone and in Spanish', async () => {
    const portal = startPortal({ secondFactor: optional({ timeZone: 'Pacific/Auckland' }) });
    const admin = await manager(portal, 'bot.admin');
    // 09:00 UTC on 5 January is 22:00 in Auckland: still the 5th there.
    assert.equal((await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-01-15'))).status, 200);
    const person = portal.agent();
    const choose = await toChoice(person, 'acme.ops');
    assert.match(choose.text, /You can skip until 15 January \(10 days left\)\./);
    const spanish = portal.agent();
    await postLogin(spanish, { username: 'globex.ops', password: 'demo-password' });
    const es = await spanish.get('/2fa/enrol').set('Accept-Language', 'es').expect(200);
    assert.match(es.text, /Puede omitirla hasta el 15 de enero \(quedan 10 días\)\./);
  });

  it('a shortened deadline reaches people who skipped: their open session and their next sign-in', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const admin = await manager(portal, 'bot.admin');
    await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-01-31'), { expectPreview: true });
    const person = portal.agent();
    await toChoice(person, 'acme.ops');
    const offered = await skipNow(person);
    assert.match(offered.text, /You can skip until 31 January \(26 days left\)/);

    // Shortened to a day already past: stricter, so previewed, then saved.
    const saved = await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-01-04'), { expectPreview: true });
    assert.equal(saved.status, 200);
    assert.ok(portal.events.some((e) => e.type === 'policy_changed' && e.deadline === 'date:2026-01-04'));

    // The open session is sent back by the guard, and the skip is not offered any more.
    await person.get('/dashboard').expect(303).expect('location', '/2fa');
    const again = await person.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(again.text, /Skip for now/);
    await person.post('/2fa/skip').type('form').send({ _csrf: csrfFrom(again.text) }).expect(403);
    const next = portal.agent();
    const choose = await toChoice(next, 'acme.ops');
    assert.doesNotMatch(choose.text, /Skip for now/, 'a new sign-in of someone who skipped must enrol');
    await next.get('/dashboard').expect(303);
  });

  it('a lengthened deadline lets them skip again', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const admin = await manager(portal, 'bot.admin');
    await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-01-10'));
    const person = portal.agent();
    await toChoice(person, 'globex.ops');
    await skipNow(person);
    portal.clock.advance(6 * 24 * 3600);
    await person.get('/dashboard').expect(303).expect('location', '/2fa');
    const late = portal.agent();
    assert.doesNotMatch((await toChoice(late, 'globex.ops')).text, /Skip for now/);

    // Later is looser: saved at once, no preview.
    await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-02-28'), { expectPreview: false });
    // Their earlier skip counts again: straight in; someone who never skipped is offered it.
    const back = portal.agent();
    await postLogin(back, { username: 'globex.ops', password: 'demo-password' });
    await back.get('/dashboard').expect(200);
    assert.ok(portal.events.some((e) => e.type === 'skip_honoured' && e.userId === 'u10'));
    const fresh = portal.agent();
    assert.match((await toChoice(fresh, 'acme.ops')).text, /You can skip until 28 February \(48 days left\)/);
    await skipNow(fresh);
  });

  it('N days count from the first sign-in under the policy, recorded once per person', async () => {
    const inner = new MemoryStore();
    const writes: string[] = [];
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'setIfAbsent' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (key: string, ...rest: unknown[]) => {
          if (key.startsWith('policy:first-sign-in:')) writes.push(key);
          return (value as (...a: unknown[]) => unknown).apply(target, [key, ...rest]);
        };
      },
    }) as TwoFactorStore;
    const portal = startPortal({ secondFactor: { ...optional(), store } });
    const admin = await manager(portal, 'bot.admin');
    await postPolicy(admin, '/admin/2fa/policy', { mode: 'optional', deadlineKind: 'days', deadlineDays: '14' });
    const first = portal.agent();
    assert.match((await toChoice(first, 'acme.ops')).text, /You can skip until 19 January \(14 days left\)/);
    await skipNow(first);
    portal.clock.advance(10 * 24 * 3600);
    const later = portal.agent();
    await postLogin(later, { username: 'acme.ops', password: 'demo-password' });
    await later.get('/dashboard').expect(200);
    assert.deepEqual(writes, ['policy:first-sign-in:{u6}'], 'one write for the person, at their first sign-in');
    portal.clock.advance(5 * 24 * 3600);
    await first.get('/dashboard').expect(303).expect('location', '/2fa');
    assert.doesNotMatch((await toChoice(portal.agent(), 'acme.ops')).text, /Skip for now/);
  });

  it('checks a skipped session against the deadline and its firms with no store call on the guard’s path', async () => {
    const { store, calls } = countingStore(new MemoryStore());
    const portal = startPortal({ secondFactor: { ...optional({ cacheSeconds: 60 }), store } });
    const partner = await manager(portal, 'northwind.admin');
    await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'optional', deadlineKind: 'days', deadlineDays: '3' });
    const client = portal.agent();
    await toChoice(client, 'acme.ops');
    await skipNow(client);
    calls.length = 0;
    for (let i = 0; i < 10; i += 1) await client.get('/api/me').set('Accept', 'application/json').expect(200);
    assert.deepEqual(calls, [], 'no store call while the deadline holds');
    portal.clock.advance(3 * 24 * 3600);
    await client.get('/api/me').set('Accept', 'application/json').expect(401);
    assert.deepEqual(calls, [], 'none either when it has passed');
  });

  it('refuses a date that does not exist, or days out of range, with a 400 that says why, and changes nothing', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const admin = await manager(portal, 'bot.admin');
    const bad = await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-02-30'));
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Enter the last day as a real date, YYYY-MM-DD\. Nothing was changed\./);
    const days = await postPolicy(admin, '/admin/2fa/policy', { mode: 'optional', deadlineKind: 'days', deadlineDays: '9999' });
    assert.equal(days.status, 400);
    assert.match(days.text, /from 1 to 365/);
    assert.equal(await portal.store.get('policy:mode'), null, 'nothing stored');
    assert.ok(!portal.events.some((e) => e.type === 'policy_changed'));
  });

  it('rejects an unknown time zone at start-up, naming the option', () => {
    assert.throws(() => startPortal({ secondFactor: optional({ timeZone: 'Mars/Olympus' }) }), /policy\.timeZone/);
  });
});

describe('per-firm policy', () => {
  it('a partner admin requires 2FA for their firm and its clients, after a preview; other firms keep the portal’s', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const partner = await manager(portal, 'northwind.admin');
    const page = await partner.get('/admin/2fa/policy/firm').expect(200);
    assert.match(page.text, /Your firm: Northwind Partners/);
    const preview = await partner.post('/admin/2fa/policy/firm').type('form').send({ _csrf: csrfFrom(page.text), review: '1', mode: 'required' }).expect(200);
    assert.match(preview.text, /Check this change before you save it/);
    // The dry run counts the firm's people the partner admin sees: all but themselves not enrolled.
    assert.match(preview.text, /data-dry-run-stopped="3"/);
    assert.equal(await portal.store.get('policy:firm:northwind'), null, 'a preview saves nothing');
    const saved = await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'required' }, { expectPreview: true });
    assert.equal(saved.status, 200);
    assert.match(saved.text, /Saved/);
    assert.ok(portal.events.some((e) => e.type === 'policy_changed' && e.firm === 'northwind' && e.outcome === 'inherit->required'));

    const client = portal.agent();
    assert.doesNotMatch((await toChoice(client, 'acme.ops')).text, /Skip for now/, 'a client of the firm must enrol');
    const other = portal.agent();
    assert.match((await toChoice(other, 'globex.ops')).text, /Skip for now/, 'another firm’s client may still skip');
  });

  it('sends a client who skipped back once their firm tightens', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const client = portal.agent();
    await toChoice(client, 'acme.ops');
    await skipNow(client);
    const partner = await manager(portal, 'northwind.admin');
    await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'optional', deadlineKind: 'date', deadlineDate: '2026-01-01' }, { expectPreview: true });
    await client.get('/dashboard').expect(303).expect('location', '/2fa');
  });

  it('refuses a firm setting looser than the portal with a 400 that explains, and stores nothing', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const admin = await manager(portal, 'bot.admin');
    await postPolicy(admin, '/admin/2fa/policy', portalDeadline('2026-01-20'));
    const partner = await manager(portal, 'northwind.admin');
    const looser = await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'optional', deadlineKind: 'none' });
    assert.equal(looser.status, 400);
    assert.match(looser.text, /stricter than the portal’s, never looser\. The portal asks for: Optional People may skip until the end of 2026-01-20/);
    const later = await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'optional', deadlineKind: 'date', deadlineDate: '2026-02-20' });
    assert.equal(later.status, 400);
    assert.equal(await portal.store.get('policy:firm:northwind'), null);
    assert.ok(portal.events.some((e) => e.type === 'policy_change_refused' && e.firm === 'northwind'));
    // Earlier than the portal's is stricter: allowed.
    const earlier = await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'optional', deadlineKind: 'date', deadlineDate: '2026-01-12' }, { expectPreview: true });
    assert.equal(earlier.status, 200);
    assert.match((await toChoice(portal.agent(), 'acme.ops')).text, /You can skip until 12 January \(7 days left\)/);
  });

  it('keeps the portal form from firm admins and the firm form from people without a firm, with a CSRF token required', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const partner = await manager(portal, 'northwind.admin');
    const firmPage = await partner.get('/admin/2fa/policy/firm').expect(200);
    await partner.get('/admin/2fa/policy').expect(403);
    await partner.post('/admin/2fa/policy').type('form').send({ _csrf: csrfFrom(firmPage.text), mode: 'off' }).expect(403);
    await partner.post('/admin/2fa/policy/firm').type('form').send({ mode: 'required' }).expect(403);
    const admin = await manager(portal, 'bot.admin');
    await admin.get('/admin/2fa/policy/firm').expect(403);
    const ops = portal.agent();
    await toChoice(ops, 'northwind.ops');
    await skipNow(ops);
    await ops.get('/admin/2fa/policy/firm').expect(403);
    assert.equal(await portal.store.get('policy:firm:northwind'), null);
  });

  it('shows the effective mode of a person and why; unknown and another firm’s person answer the same', async () => {
    const portal = startPortal({ secondFactor: optional() });
    const partner = await manager(portal, 'northwind.admin');
    const page = await partner.get('/admin/2fa/policy/firm').expect(200);
    assert.match(page.text, /<option value="u6"/, 'the picker lists the firm’s client');
    assert.doesNotMatch(page.text, /<option value="u10"/, 'and not another firm’s people');
    const before = await partner.get('/admin/2fa/policy/firm?person=u6').expect(200);
    assert.match(before.text, /Abe Acme: optional/);
    assert.match(before.text, /Because of the portal’s setting\./);
    await postPolicy(partner, '/admin/2fa/policy/firm', { mode: 'required' });
    const after = await partner.get('/admin/2fa/policy/firm?person=u6').expect(200);
    assert.match(after.text, /Abe Acme: required/);
    assert.match(after.text, /Because of the policy of the firm northwind\./);
    const self = await partner.get('/admin/2fa/policy/firm?person=u3').expect(200);
    assert.match(self.text, /Because of the rule for the role partner-admin\.|Because of the policy of the firm northwind\./);
    const strip = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, '').replace(/<select[\s\S]*?<\/select>/, '');
    const unknown = await partner.get('/admin/2fa/policy/firm?person=nobody').expect(200);
    const hidden = await partner.get('/admin/2fa/policy/firm?person=u10').expect(200);
    assert.match(unknown.text, /No one you can manage has that id\./);
    assert.equal(strip(hidden.text), strip(unknown.text), 'another firm’s person and no one answer the same');
  });
});
