import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'mocha';
import type supertest from 'supertest';
import { secondFactor, TwoFactorError, type SecondFactorOptions, type TwoFactorEvent } from 'passport-second-factor';
import { codeAt, csrfFrom, enrolTotp, portalToken, startPortal, totpKeyFrom, type TestPortal } from './helpers/portal.js';
import { redisForSuite } from './helpers/redis-suite.js';

const quiet = { info() {}, warn() {}, error() {} };
const LINK = /^\/2fa\/not-me\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

interface Notified {
  readonly userId: string;
  readonly event: TwoFactorEvent;
}

/** A Redis-backed portal whose `notify` calls are kept. */
function notMePortal(redis: ReturnType<typeof redisForSuite>, options: Partial<SecondFactorOptions> = {}) {
  const notified: Notified[] = [];
  const portal = startPortal({ redis: redis.client, secondFactor: { notify: (user, event) => void notified.push({ userId: user.id, event }), ...options } });
  return { portal, notified };
}

/** The password step, redirects followed wherever they lead (the first 2FA page, or a refusal). */
async function passwordStep(agent: supertest.Agent, username: string) {
  const _csrf = await portalToken(agent);
  return agent.post('/login').type('form').send({ _csrf, username, password: 'demo-password' }).redirects(5);
}

/** notify runs after the link's store write: wait until it was called for `type`. */
async function notification(notified: Notified[], userId: string, type: string): Promise<TwoFactorEvent> {
  for (let i = 0; i < 100; i += 1) {
    const found = notified.filter((n) => n.userId === userId && n.event.type === type).at(-1);
    if (found) return found.event;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no "${type}" notification for ${userId}; got ${notified.map((n) => `${n.userId} ${n.event.type}`).join(', ')}`);
}

/** `username` enrolled with an authenticator app and signed in: the agent, the secret and the mail's link. */
async function enrolled(portal: TestPortal, notified: Notified[], username: string, userId: string) {
  const agent = portal.agent();
  await passwordStep(agent, username);
  const { secret } = await enrolTotp(agent, portal.clock);
  const { notMePath } = await notification(notified, userId, 'enrolled');
  assert.ok(notMePath, 'the enrolment notification carries a link');
  return { agent, secret, link: notMePath };
}

/** A second session of an enrolled person: password, then the next code. */
async function secondSession(portal: TestPortal, username: string, secret: string, remember = false) {
  const agent = portal.agent();
  await passwordStep(agent, username);
  const page = await agent.get('/2fa/verify').expect(200);
  portal.clock.advance(30);
  const form = { _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t), ...(remember ? { remember: '1' } : {}) };
  await agent.post('/2fa/verify').type('form').send(form).expect(303);
  await agent.get('/dashboard').expect(200);
  return agent;
}

/** The link's page and its form's token, for a signed-out browser. */
async function openLink(portal: TestPortal, link: string) {
  const agent = portal.agent();
  const page = await agent.get(link).expect(200);
  return { agent, page, csrf: csrfFrom(page.text) };
}

const signedIn = async (agent: supertest.Agent) => (await agent.get('/dashboard')).status === 200;

describe('"This wasn\'t me": the link in a notification secures the account', () => {
  const redis = redisForSuite();
  beforeEach(async () => {
    await redis.client.flushAll();
  });

  it('puts a single-use link in the enrolment notification only (never in onEvent), and opening it changes nothing', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    assert.match(abe.link, LINK);
    const audited = portal.events.find((e) => e.type === 'enrolled');
    assert.ok(audited && !('notMePath' in audited), 'the audit event holds no link');

    const before = await portal.store.getUser('u6');
    const { page } = await openLink(portal, abe.link);
    assert.match(page.text, /<h1>Was this you\?<\/h1>/);
    assert.match(page.text, /Two-step verification was set up on your account on 2026-01-05 09:00 UTC\./);
    assert.match(page.text, new RegExp(`<form method="post" action="${abe.link}"`));
    assert.match(page.text, /<button type="submit" class="sf-button">This wasn’t me — secure my account<\/button>/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.deepEqual(await portal.store.getUser('u6'), before, 'a GET changes nothing');
    assert.ok(await signedIn(abe.agent), 'and ends no session');
    assert.ok(!portal.events.some((e) => e.type === 'not_me'));
  });

  it('on confirmation ends every session, removes the factor and remembered devices, locks the second factor and emits not_me', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const other = await secondSession(portal, 'acme.ops', abe.secret, true);
    assert.equal((await portal.store.members('devices:{u6}')).length, 1, 'a remembered device, before');
    const generation = (await portal.store.getUser('u6'))!.generation;

    const { agent, csrf } = await openLink(portal, abe.link);
    const done = await agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(200);
    assert.match(done.text, /<h1>Your account is secured<\/h1>/);
    assert.match(done.text, /Your account is secured: an administrator will review it\./);

    assert.equal(await signedIn(abe.agent), false, 'the enrolling session is signed out');
    assert.equal(await signedIn(other), false, 'and so is the other one');
    const record = await portal.store.getUser('u6');
    assert.equal(record?.generation, generation);
    assert.equal(typeof record?.reviewRequiredAt, 'number');
    assert.deepEqual(Object.keys(record!).sort(), ['generation', 'reviewRequiredAt'], 'no method, secret or recovery codes left');
    assert.deepEqual(await portal.store.members('devices:{u6}'), [], 'remembered devices forgotten');
    assert.deepEqual(await portal.store.members('sessions:{u6}'), [], 'the session index is empty');

    const event = portal.events.find((e) => e.type === 'not_me');
    assert.equal(event?.userId, 'u6');
    assert.equal(event?.reason, 'enrolled');
    assert.ok(await notification(notified, 'u6', 'not_me'), 'the person is told too');
  });

  it('signs out the browser that confirms too, when it is the person\'s own', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const page = await abe.agent.get(abe.link).expect(200);
    await abe.agent.post(abe.link).type('form').send({ _csrf: csrfFrom(page.text) }).expect(200);
    assert.equal(await signedIn(abe.agent), false);
    assert.equal(typeof (await portal.store.getUser('u6'))?.reviewRequiredAt, 'number');
  });

  it('refuses the second factor after the password until an admin reviews (423), a remembered device included', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const remembered = await secondSession(portal, 'acme.ops', abe.secret, true);
    const { agent, csrf } = await openLink(portal, abe.link);
    await agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(200);

    const again = portal.agent();
    const refused = await passwordStep(again, 'acme.ops');
    assert.equal(refused.status, 423);
    assert.match(refused.text, /Two-step verification is locked until an administrator reviews your account\./);
    assert.equal(await signedIn(again), false);
    // The browser that had its device remembered is refused the same way.
    assert.equal((await passwordStep(remembered, 'acme.ops')).status, 423);
    assert.equal(await signedIn(remembered), false);
    // The token first: supertest's agent attaches its cookies when the request is created.
    const _csrf = await portalToken(again);
    const json = await again.post('/login').set('accept', 'application/json').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' });
    assert.equal(json.status, 423);
    assert.equal(json.body.error, 'review_required');
  });

  it('refuses an enrolment that was under way when the person confirmed, and keeps the lock', async () => {
    const { portal, notified } = notMePortal(redis);
    await enrolled(portal, notified, 'acme.ops', 'u6');
    const admin = await enrolled(portal, notified, 'bot.admin', 'u1');
    const confirm = await admin.agent.get('/admin/2fa/users/u6/reset').expect(200);
    await admin.agent.post('/admin/2fa/users/u6/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost phone, called the desk' }).expect(303);
    const { notMePath } = await notification(notified, 'u6', 'reset');

    // Someone with the password starts the forced enrolment; the real person reads the mail.
    const intruder = portal.agent();
    await passwordStep(intruder, 'acme.ops');
    const choose = await intruder.get('/2fa/enrol').expect(200);
    await intruder.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const qr = await intruder.get('/2fa/enrol/totp').expect(200);
    const { agent, csrf } = await openLink(portal, notMePath!);
    await agent.post(notMePath!).type('form').send({ _csrf: csrf }).expect(200);

    const answer = await intruder.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(qr.text), code: codeAt(totpKeyFrom(qr.text), portal.clock.t) });
    assert.equal(answer.status, 423);
    assert.match(answer.text, /locked until an administrator reviews your account/);
    const record = await portal.store.getUser('u6');
    assert.equal(record?.method, undefined);
    assert.equal(typeof record?.reviewRequiredAt, 'number');
    assert.equal(await signedIn(intruder), false);
  });

  it('shows "Needs review" in the admin list and API, and an admin reset lifts the lock', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    await openLink(portal, abe.link).then(({ agent, csrf }) => agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(200));

    const admin = await enrolled(portal, notified, 'bot.admin', 'u1');
    const list = await admin.agent.get('/admin/2fa').expect(200);
    assert.match(list.text, /Abe Acme[\s\S]*?<td>Needs review<\/td>/);
    const api = await admin.agent.get('/admin/2fa/api/users').set('accept', 'application/json').expect(200);
    const row = (api.body.users as Array<{ id: string; status: { needsReview: boolean; method: unknown }; canReset: boolean }>).find((u) => u.id === 'u6');
    assert.deepEqual([row?.status.needsReview, row?.status.method, row?.canReset], [true, null, true]);

    const confirm = await admin.agent.get('/admin/2fa/users/u6/reset').expect(200);
    await admin.agent.post('/admin/2fa/users/u6/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Reviewed the not-me report with Abe' }).expect(303);
    assert.equal(await portal.store.getUser('u6'), null, 'the reset deletes the lock with the record');

    const abeAgain = portal.agent();
    const next = await passwordStep(abeAgain, 'acme.ops');
    assert.equal(next.status, 200);
    assert.match(next.text, /Set up two-step verification/, 'the next sign-in enrols again');
    await enrolTotp(abeAgain, portal.clock);
    assert.ok(await signedIn(abeAgain));
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
  });

  it('answers a used link with 410 and changes nothing', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const { agent, csrf } = await openLink(portal, abe.link);
    await agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(200);
    const locked = await portal.store.getUser('u6');

    const shown = await agent.get(abe.link).expect(410);
    assert.match(shown.text, /This link was already used or has expired\. Nothing was changed\./);
    const replay = await agent.post(abe.link).type('form').send({ _csrf: csrfFrom(shown.text) }).expect(410);
    assert.match(replay.text, /<h1>This link can’t be used<\/h1>/);
    assert.deepEqual(await portal.store.getUser('u6'), locked);
    assert.equal(portal.events.filter((e) => e.type === 'not_me').length, 1);
  });

  it('answers an expired link with 410 and changes nothing', async () => {
    const { portal, notified } = notMePortal(redis, { notMeLinkTtlSeconds: 3600 });
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const { agent, csrf } = await openLink(portal, abe.link);
    portal.clock.advance(3600);
    await agent.get(abe.link).expect(410);
    await agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(410);
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
    assert.ok(await signedIn(abe.agent));
    assert.ok(!portal.events.some((e) => e.type === 'not_me'));
  });

  it('answers a tampered, malformed, oversized or spliced link with 400 and changes nothing', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const ada = await enrolled(portal, notified, 'acme.admin', 'u5');
    const [abeBody, abeMac] = abe.link.slice('/2fa/not-me/'.length).split('.') as [string, string];
    const [adaBody, adaMac] = ada.link.slice('/2fa/not-me/'.length).split('.') as [string, string];
    const flipped = `${abeMac.slice(0, -1)}${abeMac.endsWith('A') ? 'B' : 'A'}`;
    const otherUser = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(abeBody, 'base64url').toString()), u: 'u5' })).toString('base64url');
    const bad = [
      `${abeBody}.${flipped}`,
      `${otherUser}.${abeMac}`,
      `${abeBody}.${adaMac}`,
      `${adaBody}.${abeMac}`,
      'not-a-token',
      `${abeBody}.${abeMac}.extra`,
      `${'A'.repeat(5000)}.${abeMac}`,
      encodeURIComponent('<script>alert(1)</script>'),
    ];
    const { agent, csrf } = await openLink(portal, abe.link);
    const [abeBefore, adaBefore] = [await portal.store.getUser('u6'), await portal.store.getUser('u5')];
    for (const token of bad) {
      const shown = await agent.get(`/2fa/not-me/${token}`);
      assert.equal(shown.status, 400, `GET ${token.slice(0, 40)}`);
      assert.match(shown.text, /This link is not valid/);
      assert.doesNotMatch(shown.text, /<script>alert/);
      assert.equal((await agent.post(`/2fa/not-me/${token}`).type('form').send({ _csrf: csrf })).status, 400, `POST ${token.slice(0, 40)}`);
    }
    assert.deepEqual(await portal.store.getUser('u6'), abeBefore);
    assert.deepEqual(await portal.store.getUser('u5'), adaBefore);
    assert.ok((await signedIn(abe.agent)) && (await signedIn(ada.agent)));
    assert.ok(!portal.events.some((e) => e.type === 'not_me'));
    // Both links still work afterwards: nothing above spent them.
    await agent.get(abe.link).expect(200);
    await agent.get(ada.link).expect(200);
  });

  it("secures the link's person only, never the signed-in one who opens it", async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const ada = await enrolled(portal, notified, 'acme.admin', 'u5');
    const page = await ada.agent.get(abe.link).expect(200);
    await ada.agent.post(abe.link).type('form').send({ _csrf: csrfFrom(page.text) }).expect(200);
    assert.ok(await signedIn(ada.agent), 'the person who clicked stays signed in');
    assert.equal((await portal.store.getUser('u5'))?.method, 'totp');
    assert.equal(typeof (await portal.store.getUser('u6'))?.reviewRequiredAt, 'number');
  });

  it('acts once for a burst of parallel confirmations of one link', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const { agent, csrf } = await openLink(portal, abe.link);
    const answers = await Promise.all(Array.from({ length: 12 }, () => agent.post(abe.link).type('form').send({ _csrf: csrf })));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, ...Array(11).fill(410)], `statuses: ${statuses.join(', ')}`);
    assert.equal(portal.events.filter((e) => e.type === 'not_me').length, 1);
  });

  it('refuses a confirmation without the form token (403) and changes nothing', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const { agent } = await openLink(portal, abe.link);
    await agent.post(abe.link).type('form').send({}).expect(403);
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
    await agent.get(abe.link).expect(200);
  });

  it('puts a link in method_changed and reset notifications too, and none in others', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    // A new authenticator app from the settings page (just signed in: no code asked first).
    const settings = await abe.agent.get('/2fa/settings').expect(200);
    await abe.agent.post('/2fa/settings/method').type('form').send({ _csrf: csrfFrom(settings.text), method: 'totp' }).expect(303);
    const enrol = await abe.agent.get('/2fa/settings/method/totp').expect(200);
    portal.clock.advance(30);
    await abe.agent.post('/2fa/settings/method/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: codeAt(totpKeyFrom(enrol.text), portal.clock.t) }).expect(200);
    const changed = await notification(notified, 'u6', 'method_changed');
    assert.match(changed.notMePath ?? '', LINK);
    assert.match((await portal.agent().get(changed.notMePath!).expect(200)).text, /The second step of your sign-in was changed on/);

    const admin = await enrolled(portal, notified, 'bot.admin', 'u1');
    const confirm = await admin.agent.get('/admin/2fa/users/u6/reset').expect(200);
    await admin.agent.post('/admin/2fa/users/u6/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost phone, called the desk' }).expect(303);
    const reset = await notification(notified, 'u6', 'reset');
    assert.match(reset.notMePath ?? '', LINK);
    assert.equal(new Set([abe.link, changed.notMePath, reset.notMePath]).size, 3, 'a new link for each notification');
    const page = await portal.agent().get(reset.notMePath!).expect(200);
    assert.match(page.text, /An administrator reset your two-step verification on/);
    for (const { event } of notified.filter((n) => !['enrolled', 'method_changed', 'reset'].includes(n.event.type))) {
      assert.equal(event.notMePath, undefined, event.type);
    }
  });

  it('gives the link back when the store fails while securing, so that trying again works', async () => {
    const { portal, notified } = notMePortal(redis);
    const abe = await enrolled(portal, notified, 'acme.ops', 'u6');
    const save = portal.store.saveUser.bind(portal.store);
    let failures = 1;
    portal.store.saveUser = (userId, record) => (record.reviewRequiredAt !== undefined && failures-- > 0 ? Promise.reject(new Error('store down')) : save(userId, record));
    const { agent, csrf } = await openLink(portal, abe.link);
    const failed = await agent.post(abe.link).type('form').send({ _csrf: csrf });
    assert.equal(failed.status, 503);
    assert.doesNotMatch(failed.text, /store down|Error:/, 'no internals on the page');
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp', 'nothing was done');
    assert.ok(!portal.events.some((e) => e.type === 'not_me'));
    await agent.post(abe.link).type('form').send({ _csrf: csrf }).expect(200);
    assert.equal(typeof (await portal.store.getUser('u6'))?.reviewRequiredAt, 'number');
  });

  it('notifies without the link, and logs, when the link cannot be stored', async () => {
    const { portal, notified } = notMePortal(redis);
    const set = portal.store.set.bind(portal.store);
    portal.store.set = (key, value, ttl) => (key.startsWith('not-me:') ? Promise.reject(new Error('store down')) : set(key, value, ttl));
    const agent = portal.agent();
    await passwordStep(agent, 'acme.ops');
    await enrolTotp(agent, portal.clock);
    const event = await notification(notified, 'u6', 'enrolled');
    assert.equal(event.notMePath, undefined);
    assert.ok(await signedIn(agent), 'the sign-in went on');
    assert.ok(portal.logs.some((line) => /^error second factor: the "This wasn't me" link for "enrolled" could not be stored; notifying without it: store down$/.test(line)), portal.logs.join(' | '));
  });

  it('checks notMeLinkTtlSeconds at start-up, naming it', () => {
    for (const value of [10, 31 * 86_400, 1.5, '7d']) {
      let error: unknown;
      try {
        secondFactor({ issuer: 'Acme', logger: quiet, notMeLinkTtlSeconds: value } as unknown as SecondFactorOptions);
      } catch (thrown) {
        error = thrown;
      }
      assert.ok(error instanceof TwoFactorError, `refused ${String(value)}`);
      assert.match(error.message, /option "notMeLinkTtlSeconds"/);
    }
  });
});
