import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import type { SecondFactorOptions } from 'passport-second-factor';
import { capturingSender, type CapturingSender } from './helpers/capturing-sender.js';
import { codeAt, continueAfterCodes, csrfFrom, enrolTotp, portalToken, recoveryCodesFrom, signIn, signOut, startPortal, submitCode, totpKeyFrom, type TestPortal } from './helpers/portal.js';

const optional = { mode: 'optional' as const, roleModes: { 'bot-admin': 'required' as const } };

function start(secondFactor: Partial<SecondFactorOptions> = {}): { portal: TestPortal; sms: CapturingSender } {
  const sms = capturingSender();
  return { portal: startPortal({ secondFactor: { sms, ...secondFactor } }), sms };
}

/** A browser signed in with password and a new authenticator app: fresh, on the settings page. */
async function withApp(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const { secret, recoveryCodes } = await enrolTotp(agent, portal.clock);
  return { agent, secret, recoveryCodes };
}

/** A browser signed in with password and text messages to `typed`. */
async function withPhone(portal: TestPortal, sms: CapturingSender, username: string, typed = '(415) 555-9443') {
  const agent = portal.agent();
  await signIn(agent, username);
  const choose = await agent.get('/2fa/enrol');
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
  const form = await agent.get('/2fa/enrol/sms');
  await agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: typed }).expect(303);
  const confirm = await agent.get('/2fa/enrol/sms/confirm');
  const { recoveryCodes, done } = await continueAfterCodes(agent, await agent.post('/2fa/enrol/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() }));
  assert.equal(done.status, 303);
  return { agent, recoveryCodes };
}

/** Posts a settings form, with the token of the settings page (and the codes form's own field). */
async function post(agent: supertest.Agent, path: string, fields: Record<string, string> = {}) {
  const page = await agent.get('/2fa/settings');
  const issue = /name="issue" value="([^"]+)"/.exec(page.text)?.[1];
  return agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), ...(issue ? { issue } : {}), ...fields });
}

async function recoveryWorks(portal: TestPortal, username: string, code: string): Promise<boolean> {
  const agent = portal.agent();
  await signIn(agent, username);
  const page = await agent.get('/2fa/recovery');
  const res = await agent.post('/2fa/recovery').type('form').send({ _csrf: csrfFrom(page.text), recoveryCode: code });
  return res.status === 200;
}

describe('the person’s settings page', () => {
  it('answers only a finished sign-in: others are asked to sign in, a password-only session to finish first', async () => {
    const { portal } = start();
    const stranger = portal.agent();
    const anonymous = await stranger.get('/2fa/settings');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.text, /Sign in again/);
    const pending = portal.agent();
    await signIn(pending, 'acme.ops');
    await pending.get('/2fa/settings').expect(303).expect('location', '/2fa');
    const page = await pending.get('/2fa/enrol');
    await pending.post('/2fa/settings/recovery-codes').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('location', '/2fa');
    assert.equal(await portal.store.getUser('u6'), null, 'nothing made for a password-only session');
  });

  it('shows the method, the masked phone and how many recovery codes are left', async () => {
    const { portal, sms } = start();
    const { agent } = await withPhone(portal, sms, 'northwind.ops');
    const page = await agent.get('/2fa/settings').expect(200);
    assert.match(page.text, /a code sent by text message to xxx-xxx-9443\./);
    assert.doesNotMatch(page.text, /4155559443|415\D{0,2}555\D?9443/, 'never the full number');
    assert.match(page.text, /You have 10 of 10 recovery codes left\./);
    assert.equal(page.headers['cache-control'], 'no-store');

    const app = await withApp(portal, 'acme.ops');
    const other = await app.agent.get('/2fa/settings').expect(200);
    assert.match(other.text, /a code from your authenticator app\./);
  });

  it('makes new recovery codes right after the second factor: shown once, the old ones stop working', async () => {
    const { portal } = start();
    const { agent, recoveryCodes: old } = await withApp(portal, 'acme.ops');
    const made = await post(agent, '/2fa/settings/recovery-codes');
    assert.equal(made.status, 200);
    const fresh = recoveryCodesFrom(made.text);
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((code) => !old.includes(code)), 'a new set');
    assert.match(made.text, /<a class="sf-button" href="\/2fa\/settings">I’ve saved my codes, back to settings<\/a>/);
    assert.ok(portal.events.some((e) => e.type === 'recovery_codes_regenerated' && e.userId === 'u6'), 'an event');
    const page = await agent.get('/2fa/settings');
    assert.match(page.text, /You have 10 of 10 recovery codes left\./);
    assert.deepEqual(recoveryCodesFrom(page.text), [], 'not shown again');
    await signOut(agent);

    assert.equal(await recoveryWorks(portal, 'acme.ops', old[0]!), false, 'an old code is refused');
    assert.equal(await recoveryWorks(portal, 'acme.ops', fresh[0]!), true, 'a new code works');
  });

  it('does not make another set when the new codes page is reloaded: it says they were shown once', async () => {
    const { portal } = start();
    const { agent } = await withApp(portal, 'acme.ops');
    const page = await agent.get('/2fa/settings');
    const form = { _csrf: csrfFrom(page.text), issue: /name="issue" value="([^"]+)"/.exec(page.text)![1]! };
    const made = await agent.post('/2fa/settings/recovery-codes').type('form').send(form).expect(200);
    const saved = recoveryCodesFrom(made.text);
    assert.equal(saved.length, 10);

    const reloaded = await agent.post('/2fa/settings/recovery-codes').type('form').send(form).expect(200);
    assert.deepEqual(recoveryCodesFrom(reloaded.text), [], 'no codes shown again');
    assert.match(reloaded.text, /shown once and can’t be shown again\. If you didn’t save them, make new ones on your two-step verification settings page/);
    assert.match(reloaded.text, /href="\/2fa\/settings">Go to settings<\/a>/);
    assert.equal(portal.events.filter((e) => e.type === 'recovery_codes_regenerated').length, 1, 'one set made');
    await signOut(agent);
    assert.equal(await recoveryWorks(portal, 'acme.ops', saved[0]!), true, 'the codes just saved still work');
  });

  it('asks for a current code once the second factor is older than freshSecondFactorSeconds, and changes nothing before', async () => {
    const { portal } = start({ freshSecondFactorSeconds: 120 });
    const { agent, secret, recoveryCodes } = await withApp(portal, 'acme.ops');
    assert.match((await agent.get('/2fa/settings')).text, /Make new recovery codes/, 'fresh right after the second factor');
    portal.clock.advance(121);

    const page = await agent.get('/2fa/settings').expect(200);
    assert.match(page.text, /Confirm it’s you/);
    assert.match(page.text, /You won’t be asked again for 2 minutes\./);
    assert.doesNotMatch(page.text, /Make new recovery codes|Switch to/);
    const before = JSON.stringify(await portal.store.getUser('u6'));
    const refused = await post(agent, '/2fa/settings/recovery-codes');
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.location, '/2fa/settings');
    assert.match((await agent.get('/2fa/settings')).text, /confirm it’s you with a current code first/);
    await post(agent, '/2fa/settings/method', { method: 'sms' }).then((res) => assert.equal(res.headers.location, '/2fa/settings'));
    await agent.get('/2fa/settings/method/sms').expect(303).expect('location', '/2fa/settings');
    assert.equal(JSON.stringify(await portal.store.getUser('u6')), before, 'nothing changed');

    const wrong = await post(agent, '/2fa/settings/confirm', { code: String((Number(codeAt(secret, portal.clock.t)) + 1) % 1_000_000).padStart(6, '0') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /That code didn’t work/);
    assert.ok(portal.events.some((e) => e.type === 'failed' && e.reason === 'settings'), 'a wrong code is a failed attempt');
    const right = await post(agent, '/2fa/settings/confirm', { code: codeAt(secret, portal.clock.t) });
    assert.equal(right.status, 303);
    const made = await post(agent, '/2fa/settings/recovery-codes');
    assert.equal(made.status, 200);
    assert.ok(recoveryCodesFrom(made.text).every((code) => !recoveryCodes.includes(code)), 'new codes after the confirmation');
  });

  it('confirms a text-message user with a code sent on request (a POST), never by showing the page', async () => {
    const { portal, sms } = start({ freshSecondFactorSeconds: 60 });
    const { agent } = await withPhone(portal, sms, 'northwind.ops');
    portal.clock.advance(61);
    const sentBefore = sms.sent.length;
    const page = await agent.get('/2fa/settings').expect(200);
    assert.match(page.text, /<form method="post" action="\/2fa\/settings\/confirm\/send">/);
    assert.equal(sms.sent.length, sentBefore, 'showing the page sends nothing');
    await post(agent, '/2fa/settings/confirm/send').then((res) => assert.equal(res.status, 303));
    assert.equal(sms.sent.length, sentBefore + 1);
    assert.equal(sms.sent.at(-1)!.to, '+14155559443');
    assert.match((await agent.get('/2fa/settings')).text, /Code sent to xxx-xxx-9443\./);
    const right = await post(agent, '/2fa/settings/confirm', { code: sms.lastCode() });
    assert.equal(right.status, 303);
    assert.match((await agent.get('/2fa/settings')).text, /Make new recovery codes/);
  });

  it('switches from the app to text messages; the app keeps working until the number is confirmed', async () => {
    const { portal, sms } = start();
    const { agent, secret, recoveryCodes } = await withApp(portal, 'acme.ops');
    const before = await portal.store.getUser('u6');
    await post(agent, '/2fa/settings/method', { method: 'sms' }).then((res) => assert.equal(res.headers.location, '/2fa/settings/method/sms'));
    const form = await agent.get('/2fa/settings/method/sms').expect(200);
    assert.match(form.text, /<form method="post" action="\/2fa\/settings\/method\/sms">/);
    assert.match(form.text, /<a href="\/2fa\/settings">Cancel and keep my current method<\/a>/);
    await agent.post('/2fa/settings/method/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '415-555-0142' }).expect(303).expect('location', '/2fa/settings/method/sms/confirm');
    assert.equal(sms.sent.at(-1)!.to, '+14155550142');

    // Meanwhile the account still has its app: another browser signs in with it.
    portal.clock.advance(30);
    const elsewhere = portal.agent();
    await signIn(elsewhere, 'acme.ops');
    assert.equal((await submitCode(elsewhere, codeAt(secret, portal.clock.t))).status, 303);
    assert.deepEqual(await portal.store.getUser('u6'), before, 'the record is untouched before the confirmation');

    const confirm = await agent.get('/2fa/settings/method/sms/confirm').expect(200);
    assert.match(confirm.text, /Code sent to xxx-xxx-0142\./);
    const wrong = await agent.post('/2fa/settings/method/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: String((Number(sms.lastCode()) + 1) % 1_000_000).padStart(6, '0') });
    assert.equal(wrong.status, 401);
    assert.equal((await portal.store.getUser('u6'))?.method, 'totp', 'a wrong code changes nothing');
    const shown = await agent.post('/2fa/settings/method/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() });
    assert.equal(shown.status, 200);
    const fresh = recoveryCodesFrom(shown.text);
    assert.equal(fresh.length, 10, 'new recovery codes for the new factor');

    const after = await portal.store.getUser('u6');
    assert.equal(after?.method, 'sms');
    assert.equal(after?.phoneLast4, '0142');
    assert.equal(after?.secret, undefined, 'the app secret is gone');
    assert.notEqual(after?.factorId, before?.factorId, 'a new enrolment id');
    const changed = portal.events.find((e) => e.type === 'method_changed');
    assert.deepEqual(changed && { userId: changed.userId, method: changed.method, reason: changed.reason }, { userId: 'u6', method: 'sms', reason: 'from_totp' });
    assert.match((await agent.get('/2fa/settings')).text, /text message to xxx-xxx-0142\./);
    await signOut(agent);

    assert.equal(await recoveryWorks(portal, 'acme.ops', recoveryCodes[0]!), false, 'the old factor’s codes are void');
    assert.equal(await recoveryWorks(portal, 'acme.ops', fresh[0]!), true);
    portal.clock.advance(31);
    const next = portal.agent();
    await signIn(next, 'acme.ops');
    assert.equal(sms.sent.at(-1)!.to, '+14155550142', 'the next sign-in texts the new number');
    assert.equal((await submitCode(next, codeAt(secret, portal.clock.t))).status, 401, 'the app no longer signs in');
  });

  it('changes the phone number of a text-message user', async () => {
    const { portal, sms } = start();
    const { agent } = await withPhone(portal, sms, 'northwind.ops');
    portal.clock.advance(31);
    await post(agent, '/2fa/settings/method', { method: 'sms' });
    const form = await agent.get('/2fa/settings/method/sms');
    await agent.post('/2fa/settings/method/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '(212) 555-0177' }).expect(303);
    const confirm = await agent.get('/2fa/settings/method/sms/confirm');
    const shown = await agent.post('/2fa/settings/method/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode('+12125550177') });
    assert.equal(shown.status, 200);
    assert.equal((await portal.store.getUser('u4'))?.phoneLast4, '0177');
    assert.ok(portal.events.some((e) => e.type === 'method_changed' && e.method === 'sms' && e.reason === 'from_sms'), 'a method_changed event');
  });

  it('switches to a new authenticator app, after which only the new app signs in', async () => {
    const { portal } = start();
    const { agent, secret: oldSecret } = await withApp(portal, 'globex.ops');
    await post(agent, '/2fa/settings/method', { method: 'totp' }).then((res) => assert.equal(res.headers.location, '/2fa/settings/method/totp'));
    const page = await agent.get('/2fa/settings/method/totp').expect(200);
    assert.match(page.text, /<form method="post" action="\/2fa\/settings\/method\/totp">/);
    const newSecret = totpKeyFrom(page.text);
    assert.notEqual(newSecret, oldSecret);
    portal.clock.advance(30);
    const shown = await agent.post('/2fa/settings/method/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(newSecret, portal.clock.t) });
    assert.equal(shown.status, 200, shown.text.slice(0, 300));
    assert.equal(recoveryCodesFrom(shown.text).length, 10);
    assert.ok(portal.events.some((e) => e.type === 'method_changed' && e.method === 'totp' && e.reason === 'from_totp'), 'a method_changed event');
    await signOut(agent);

    portal.clock.advance(30);
    const old = portal.agent();
    await signIn(old, 'globex.ops');
    assert.equal((await submitCode(old, codeAt(oldSecret, portal.clock.t))).status, 401);
    assert.equal((await submitCode(old, codeAt(newSecret, portal.clock.t))).status, 303);
  });

  it('turns 2FA off where the person’s role makes it optional: the record is cleared and later sign-ins go straight in', async () => {
    const { portal } = start({ policy: optional });
    const { agent } = await withApp(portal, 'acme.ops');
    const page = await agent.get('/2fa/settings');
    assert.match(page.text, /<form method="post" action="\/2fa\/settings\/disable">/);
    const off = await post(agent, '/2fa/settings/disable');
    assert.equal(off.status, 303);
    assert.match((await agent.get('/2fa/settings')).text, /Two-step verification is now off\./);
    const record = await portal.store.getUser('u6');
    assert.equal(record?.method, undefined);
    assert.equal(record?.recoveryCodes, undefined);
    assert.equal(record?.secret, undefined);
    assert.equal(typeof record?.skippedAt, 'number');
    assert.ok(portal.events.some((e) => e.type === 'disabled' && e.userId === 'u6' && e.method === 'totp'), 'a disabled event');
    await signOut(agent);

    const later = portal.agent();
    const _csrf = await portalToken(later);
    await later.post('/login').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' }).expect(303).expect('location', '/');
    await later.get('/dashboard').expect(200);
  });

  it('offers no turning off where the person’s role must use 2FA, and refuses the form', async () => {
    const { portal } = start({ policy: optional });
    const { agent } = await withApp(portal, 'bot.admin');
    const page = await agent.get('/2fa/settings');
    assert.doesNotMatch(page.text, /settings\/disable/);
    const refused = await post(agent, '/2fa/settings/disable');
    assert.equal(refused.status, 403);
    assert.equal((await portal.store.getUser('u1'))?.method, 'totp');

    const required = start();
    const other = await withApp(required.portal, 'acme.ops');
    assert.equal((await post(other.agent, '/2fa/settings/disable')).status, 403);
  });

  it('refuses every settings form without its CSRF token', async () => {
    const { portal } = start({ policy: optional });
    const { agent } = await withApp(portal, 'acme.ops');
    const before = JSON.stringify(await portal.store.getUser('u6'));
    for (const path of ['/2fa/settings/recovery-codes', '/2fa/settings/method', '/2fa/settings/disable', '/2fa/settings/confirm']) {
      const res = await agent.post(path).type('form').send({ method: 'sms', code: '123456' });
      assert.equal(res.status, 403, path);
    }
    assert.equal(JSON.stringify(await portal.store.getUser('u6')), before);
  });
});
