import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import { MemoryStore, type SecondFactorOptions, type TwoFactorStore } from 'passport-second-factor';
import { capturingSender, type CapturingSender } from './helpers/capturing-sender.js';
import { codeAt, continueAfterCodes, csrfFrom, enrolTotp, portalToken, signIn, signOut, startPortal, totpKeyFrom, type TestPortal } from './helpers/portal.js';

const DAY = 24 * 60 * 60;
const remembering = { mode: 'required' as const, rememberDeviceDays: 30 };

/** Wraps a store and records every call made through it. */
function recordingStore(inner: TwoFactorStore = new MemoryStore()): { store: TwoFactorStore; calls: Array<{ method: string; args: unknown[] }> } {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

function start(secondFactor: Partial<SecondFactorOptions> = {}): { portal: TestPortal; sms: CapturingSender } {
  const sms = capturingSender();
  return { portal: startPortal({ secondFactor: { sms, policy: remembering, ...secondFactor } }), sms };
}

function deviceCookie(res: supertest.Response): string | undefined {
  return (res.headers['set-cookie'] as unknown as string[] | undefined)?.find((line) => line.startsWith('sf_device='));
}

function tokenOf(line: string | undefined): string {
  const token = /^sf_device=([^;]*)/.exec(line ?? '')?.[1];
  if (!token) throw new Error(`no device token in ${line}`);
  return token;
}

const cleared = (line: string | undefined) => line !== undefined && /^sf_device=;/.test(line) && /Expires=Thu, 01 Jan 1970/.test(line);

/** Enrols an authenticator app and signs out; returns the secret. */
async function enrolled(portal: TestPortal, username: string): Promise<string> {
  const agent = portal.agent();
  await signIn(agent, username);
  const { secret } = await enrolTotp(agent, portal.clock);
  await signOut(agent);
  portal.clock.advance(30);
  return secret;
}

/** A pending sign-in in `agent`, verified with "Remember this device" ticked. */
async function verifyRemembering(agent: supertest.Agent, username: string, code: string, headers: Record<string, string> = {}) {
  await signIn(agent, username);
  const page = await agent.get('/2fa/verify').expect(200);
  const res = await agent.post('/2fa/verify').set(headers).type('form').send({ _csrf: csrfFrom(page.text), code, remember: '1' });
  assert.equal(res.status, 303, res.text.slice(0, 300));
  return res;
}

/** The password step; where it sends the browser. */
async function login(agent: supertest.Agent, username: string) {
  const _csrf = await portalToken(agent);
  return agent.post('/login').type('form').send({ _csrf, username, password: 'demo-password' }).expect(303);
}

describe('remember this device', () => {
  it('is off by default: no checkbox, and a ticked box sent anyway remembers nothing', async () => {
    const { portal } = start({ policy: { mode: 'required' } });
    const secret = await enrolled(portal, 'acme.ops');
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const page = await agent.get('/2fa/verify');
    assert.doesNotMatch(page.text, /Remember this device|name="remember"/);
    const res = await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t), remember: '1' });
    assert.equal(res.status, 303);
    assert.equal(deviceCookie(res), undefined);
  });

  it('sets an HttpOnly, SameSite=Lax cookie for the days (Secure over HTTPS), whose token the store knows only hashed', async () => {
    const { store, calls } = recordingStore();
    const { portal } = start({ store });
    const secret = await enrolled(portal, 'acme.ops');
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const page = await agent.get('/2fa/verify');
    assert.match(page.text, /<input type="checkbox" id="remember" name="remember" value="1"/);
    assert.match(page.text, /<label for="remember">Remember this device for 30 days<\/label>/);

    const res = await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t), remember: '1' });
    const line = deviceCookie(res);
    assert.ok(line, 'a device cookie');
    assert.match(line, /; Max-Age=2592000;/);
    assert.match(line, /; Path=\//);
    assert.match(line, /; HttpOnly/);
    assert.match(line, /; SameSite=Lax/);
    assert.doesNotMatch(line, /; Secure/, 'not Secure over plain HTTP');
    const token = tokenOf(line);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    const written = calls.filter((c) => c.method === 'set' || c.method === 'saveUser').map((c) => JSON.stringify(c.args));
    assert.ok(written.some((args) => args.includes('"device:{u6}:')), 'a device entry under the person');
    assert.ok(written.every((args) => !args.includes(token)), 'the token itself is never stored');

    portal.clock.advance(30);
    const https = portal.agent();
    const secure = await verifyRemembering(https, 'acme.ops', codeAt(secret, portal.clock.t), { 'X-Forwarded-Proto': 'https' });
    assert.match(deviceCookie(secure) ?? '', /; Secure/, 'Secure behind an HTTPS proxy the app trusts');
  });

  it('skips the code at the next sign-in on that browser, sends no text message, and keeps the guard off the store', async () => {
    const { store, calls } = recordingStore();
    const { portal, sms } = start({ store });
    const agent = portal.agent();
    await signIn(agent, 'northwind.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' });
    const form = await agent.get('/2fa/enrol/sms');
    await agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '(415) 555-9443' });
    const confirm = await agent.get('/2fa/enrol/sms/confirm');
    await continueAfterCodes(agent, await agent.post('/2fa/enrol/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() }));
    await signOut(agent);
    portal.clock.advance(31);

    await signIn(agent, 'northwind.ops');
    const verify = await agent.get('/2fa/verify');
    assert.match(verify.text, /name="remember"/, 'the checkbox on the text-message verify page too');
    const remembered = await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(verify.text), code: sms.lastCode(), remember: '1' });
    assert.ok(deviceCookie(remembered), 'a device cookie');
    await signOut(agent);
    portal.clock.advance(3600);

    const sent = sms.sent.length;
    const eventsBefore = portal.events.length;
    const _csrf = await portalToken(agent);
    const next = await agent.post('/login').type('form').send({ _csrf, username: 'northwind.ops', password: 'demo-password', returnTo: '/api/me' }).expect(303);
    assert.equal(next.headers.location, '/api/me', 'straight in, to the page asked for');
    assert.equal(sms.sent.length, sent, 'no text message');
    const types = portal.events.slice(eventsBefore).map((e) => e.type);
    assert.deepEqual(types, ['device_remembered']);
    calls.length = 0;
    for (let i = 0; i < 5; i += 1) await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    assert.deepEqual(calls, [], 'no store call on guarded requests');

    const settings = await agent.get('/2fa/settings').expect(200);
    assert.match(settings.text, /Confirm it’s you/, 'a remembered device is not a fresh second factor');
  });

  it('does not skip for another person: their sign-in on that browser asks for a code and clears the cookie', async () => {
    const { portal } = start();
    const adaSecret = await enrolled(portal, 'acme.ops');
    await enrolled(portal, 'acme.admin');
    const browser = portal.agent();
    await verifyRemembering(browser, 'acme.ops', codeAt(adaSecret, portal.clock.t));
    await signOut(browser);

    const other = await login(browser, 'acme.admin');
    assert.equal(other.headers.location, '/2fa/verify');
    assert.ok(cleared(deviceCookie(other)), 'the foreign cookie is cleared');
    await browser.get('/dashboard').expect(303).expect('location', '/2fa');
    assert.ok(!portal.events.some((e) => e.type === 'device_remembered'), 'no skip');
  });

  it('ignores a tampered token and clears the cookie', async () => {
    const { portal } = start();
    const secret = await enrolled(portal, 'acme.ops');
    const browser = portal.agent();
    const token = tokenOf(deviceCookie(await verifyRemembering(browser, 'acme.ops', codeAt(secret, portal.clock.t))));
    await signOut(browser);

    for (const forged of [`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, `${token}x`, 'null', '']) {
      const attacker = portal.agent();
      attacker.jar.setCookie(`sf_device=${forged}; Path=/`);
      const res = await login(attacker, 'acme.ops');
      assert.equal(res.headers.location, '/2fa/verify', `forged ${JSON.stringify(forged)}`);
      if (forged) assert.ok(cleared(deviceCookie(res)), 'the forged cookie is cleared');
    }
    const genuine = await login(browser, 'acme.ops');
    assert.equal(genuine.headers.location, '/', 'the genuine token still works');
  });

  it('ends after the days on the portal’s clock, whatever the store still holds', async () => {
    const { store, calls } = recordingStore();
    const { portal } = start({ store });
    const secret = await enrolled(portal, 'acme.ops');
    const browser = portal.agent();
    await verifyRemembering(browser, 'acme.ops', codeAt(secret, portal.clock.t));
    const entry = calls.find((c) => c.method === 'set' && String(c.args[0]).startsWith('device:'));
    assert.ok(entry, 'a device entry was written');
    await signOut(browser);

    portal.clock.advance(29 * DAY);
    assert.equal((await login(browser, 'acme.ops')).headers.location, '/', 'still remembered on day 29');
    await signOut(browser);

    portal.clock.advance(DAY);
    assert.notEqual(await store.get(String(entry.args[0])), null, 'the store (on the real clock) still holds the entry');
    const expired = await login(browser, 'acme.ops');
    assert.equal(expired.headers.location, '/2fa/verify', 'asked for a code after 30 days');
    assert.ok(cleared(deviceCookie(expired)), 'the expired cookie is cleared');
    assert.equal(await store.get(String(entry.args[0])), null, 'and the stale entry removed');
  });

  it('is void after a method change', async () => {
    const { portal } = start();
    const secret = await enrolled(portal, 'globex.ops');
    const browser = portal.agent();
    await verifyRemembering(browser, 'globex.ops', codeAt(secret, portal.clock.t));
    const page = await browser.get('/2fa/settings');
    await browser.post('/2fa/settings/method').type('form').send({ _csrf: csrfFrom(page.text), method: 'totp' }).expect(303);
    const enrol = await browser.get('/2fa/settings/method/totp').expect(200);
    portal.clock.advance(30);
    const shown = await browser.post('/2fa/settings/method/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: codeAt(totpKeyFrom(enrol.text), portal.clock.t) });
    assert.equal(shown.status, 200);
    await signOut(browser);

    const next = await login(browser, 'globex.ops');
    assert.equal(next.headers.location, '/2fa/verify', 'asked for a code from the new app');
    assert.ok(cleared(deviceCookie(next)), 'the void cookie is cleared');
  });

  it('is void after an admin reset, even once the person has enrolled again', async () => {
    const { portal } = start();
    const secret = await enrolled(portal, 'northwind.ops');
    const browser = portal.agent();
    const token = tokenOf(deviceCookie(await verifyRemembering(browser, 'northwind.ops', codeAt(secret, portal.clock.t))));
    await signOut(browser);

    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, portal.clock);
    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(200);
    await admin.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);

    const afterReset = portal.agent();
    afterReset.jar.setCookie(`sf_device=${token}; Path=/`);
    assert.equal((await login(afterReset, 'northwind.ops')).headers.location, '/2fa/enrol', 'enrolment is owed, the device changes nothing');
    await enrolTotp(afterReset, portal.clock);
    await signOut(afterReset);

    const later = portal.agent();
    later.jar.setCookie(`sf_device=${token}; Path=/`);
    const afterEnrolment = await login(later, 'northwind.ops');
    assert.equal(afterEnrolment.headers.location, '/2fa/verify', 'the old device does not skip the new enrolment');
    assert.ok(cleared(deviceCookie(afterEnrolment)), 'and its cookie is cleared');
  });
});
