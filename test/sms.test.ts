import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { createClient, type RedisClientType } from 'redis';
import type supertest from 'supertest';
import { RedisStore, secondFactor } from '../src/index.js';
import { createSmsCodes, newSmsCode, type SmsCodes, type SmsQuotaError } from '../src/factors/sms/codes.js';
import { parseOptions } from '../src/options.js';
import { capturingSender, type CapturingSender } from './helpers/capturing-sender.js';
import { continueAfterCodes, csrfFrom, signIn, signOut, startPortal, TestClock, type TestPortal } from './helpers/portal.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const NUMBER = '+14155559443';
const TYPED = '(415) 555-9443';

function start(options: Parameters<typeof startPortal>[0] = {}): { portal: TestPortal; sms: CapturingSender } {
  const sms = capturingSender();
  const portal = startPortal({ ...options, secondFactor: { sms, ...options.secondFactor } });
  return { portal, sms };
}

/** From a pending sign-in: choose text messages and submit a number. */
async function submitPhone(agent: supertest.Agent, typed: string) {
  const choose = await agent.get('/2fa/enrol').expect(200);
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303).expect('location', '/2fa/enrol/sms');
  const form = await agent.get('/2fa/enrol/sms').expect(200);
  return agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: typed });
}

async function postCode(agent: supertest.Agent, page: '/2fa/verify' | '/2fa/enrol/sms/confirm', code: unknown) {
  const shown = await agent.get(page);
  return agent.post(page).type('form').send({ _csrf: csrfFrom(shown.text), code });
}

async function resend(agent: supertest.Agent, page = '/2fa/verify') {
  const shown = await agent.get(page);
  return agent.post('/2fa/resend').type('form').send({ _csrf: csrfFrom(shown.text) });
}

/** Enrols `username` with `typed` and signs out; `wait`: seconds that pass after it. */
async function enrolled(portal: TestPortal, sms: CapturingSender, username: string, { typed = TYPED, wait = 31 } = {}) {
  const agent = portal.agent();
  await signIn(agent, username);
  await submitPhone(agent, typed).then((res) => assert.equal(res.status, 303, res.text));
  const { done } = await continueAfterCodes(agent, await postCode(agent, '/2fa/enrol/sms/confirm', sms.lastCode()));
  assert.equal(done.status, 303, done.text);
  await signOut(agent);
  portal.clock.advance(wait);
}

/** The alert of a page, as a person reads it. */
function alertOf(html: string): string | undefined {
  return /role="alert"[^>]*>\s*<p>([^<]*)<\/p>/.exec(html)?.[1];
}

function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

describe('text-message factor', () => {
  describe('enrolment', () => {
    it('offers the authenticator app and text messages on the method choice', async () => {
      const { portal } = start();
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const choose = await agent.get('/2fa/enrol').expect(200);
      assert.match(choose.text, /Authenticator app \(recommended\)/);
      assert.match(choose.text, /<input type="radio" id="method-sms" name="method" value="sms"/);
      assert.match(choose.text, /<label for="method-sms">Text message \(US only\)<\/label>/);
    });

    it('asks for the number in a labelled telephone field', async () => {
      const { portal } = start();
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const choose = await agent.get('/2fa/enrol');
      await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
      const form = await agent.get('/2fa/enrol/sms').expect(200);
      assert.match(form.text, /<label for="phone">US mobile phone number<\/label>/);
      assert.match(form.text, /<input id="phone" name="phone" type="tel" autocomplete="tel-national"/);
      assert.match(form.text, /aria-describedby="phone-hint"/);
    });

    for (const typed of ['(415) 555-0123', '415-555-0123', '+1 415 555 0123']) {
      it(`accepts ${typed}, texts +14155550123, and saves the number only once the code comes back`, async () => {
        const { portal, sms } = start();
        const agent = portal.agent();
        await signIn(agent, 'northwind.ops');
        const sent = await submitPhone(agent, typed);
        assert.equal(sent.status, 303);
        assert.equal(sent.headers.location, '/2fa/enrol/sms/confirm');
        assert.deepEqual(sms.sent.map((m) => m.to), ['+14155550123']);
        assert.match(sms.sent[0]!.body, /^Your Acme Portal code is \d{6}$/);
        assert.equal((await portal.store.getUser('u4'))?.method, undefined, 'nothing saved before the code is confirmed');

        const page = await agent.get('/2fa/enrol/sms/confirm').expect(200);
        assert.match(page.text, /Code sent to xxx-xxx-0123\./);
        const wrong = await postCode(agent, '/2fa/enrol/sms/confirm', otherCode(sms.lastCode()));
        assert.equal(wrong.status, 401);
        assert.match(wrong.text, /That code didn’t work/);
        assert.equal((await portal.store.getUser('u4'))?.method, undefined, 'a wrong code saves nothing');

        const { done } = await continueAfterCodes(agent, await postCode(agent, '/2fa/enrol/sms/confirm', sms.lastCode()));
        assert.equal(done.status, 303);
        await agent.get('/dashboard').expect(200);
        const record = await portal.store.getUser('u4');
        assert.equal(record?.method, 'sms');
        assert.equal(record?.phoneLast4, '0123');
        assert.ok(record?.phone && !record.phone.includes('4155550123'), 'the number is sealed at rest');
        assert.ok(portal.events.some((e) => e.type === 'enrolled' && e.method === 'sms' && e.userId === 'u4'), 'an enrolled event');
      });
    }

    const refused: Array<[string, RegExp]> = [
      ['+44 20 7946 0958', /Only US phone numbers can get codes by text message/],
      ['+1 416 555 0123', /Only US phone numbers can get codes by text message/],
      ['415 555 012', /isn’t a valid US phone number/],
      ['call me maybe', /isn’t a valid US phone number/],
      ['+1 900 234 5678', /Premium-rate and shared-cost numbers/],
      ['+1 800 234 5678', /Toll-free numbers/],
      ['12345', /That is a short code, not a phone number/],
      ['', /Enter your US mobile phone number/],
    ];
    for (const [typed, message] of refused) {
      it(`refuses ${JSON.stringify(typed)} with a message naming the problem, and sends nothing`, async () => {
        const { portal, sms } = start();
        const agent = portal.agent();
        await signIn(agent, 'acme.admin');
        const res = await submitPhone(agent, typed);
        assert.equal(res.status, 400);
        assert.match(res.text, /role="alert"/);
        assert.match(res.text, message);
        assert.match(res.text, /aria-invalid="true"/);
        assert.equal(sms.sent.length, 0);
        await agent.get('/2fa/enrol/sms/confirm').expect(303).expect('location', '/2fa/enrol/sms');
        assert.equal(await portal.store.getUser('u5'), null);
      });
    }

    it('keeps the form and its number when the provider fails, counts nothing, and the retry sends', async () => {
      const { portal, sms } = start();
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      sms.failNext(1);
      const failed = await submitPhone(agent, TYPED);
      assert.equal(failed.status, 502);
      assert.match(failed.text, /We couldn’t send the text message/);
      assert.match(failed.text, /value="\(415\) 555-9443"/);
      assert.equal(sms.sent.length, 0);
      await agent.get('/2fa/enrol/sms/confirm').expect(303).expect('location', '/2fa/enrol/sms');

      const form = await agent.get('/2fa/enrol/sms');
      const retry = await agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: TYPED });
      assert.equal(retry.status, 303, 'no cooldown was consumed by the failed send');
      assert.deepEqual(sms.sent.map((m) => m.to), [NUMBER]);
      assert.ok(portal.events.some((e) => e.type === 'send_failed' && e.reason === 'sms_failed'), 'a send_failed event');
    });
  });

  describe('verification at sign-in', () => {
    it('sends the code with the login POST, shows the masked number, and sends nothing on reload', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const before = sms.sent.length;
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      assert.equal(sms.sent.length, before + 1, 'the login POST sent one code');
      assert.equal(sms.sent.at(-1)!.to, NUMBER);

      await agent.get('/2fa').expect(303).expect('location', '/2fa/verify');
      for (let i = 0; i < 3; i += 1) {
        const page = await agent.get('/2fa/verify').expect(200);
        assert.match(page.text, /Code sent to xxx-xxx-9443\./);
        assert.equal(page.text.match(/<input id="code" name="code"/g)?.length, 1, 'one code field');
        assert.doesNotMatch(page.text, /4155559443|555-9443/, 'never the full number');
      }
      assert.equal(sms.sent.length, before + 1, 'showing the page again sent nothing');

      const done = await postCode(agent, '/2fa/verify', sms.lastCode());
      assert.equal(done.status, 303);
      await agent.get('/dashboard').expect(200);
      assert.ok(portal.events.some((e) => e.type === 'verified' && e.method === 'sms'), 'a verified event');
    });

    it('stores the code only as a keyed hash', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      await signIn(portal.agent(), 'acme.ops');
      const code = sms.lastCode();
      const stored = await portal.store.get('sms-code:{u6}');
      assert.ok(stored, 'a code record exists');
      assert.ok(!stored.includes(code), 'the code is not stored');
      assert.ok(!stored.includes('9443'), 'nor the number');
    });

    it('refuses a wrong code and counts it as a failed attempt', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const wrong = await postCode(agent, '/2fa/verify', otherCode(sms.lastCode()));
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /That code didn’t work/);
      assert.equal(portal.events.filter((e) => e.type === 'failed' && e.method === 'sms').length, 1);
      await agent.get('/dashboard').expect(303);
    });

    it('accepts a code for 5 minutes and refuses it once they have passed', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const early = portal.agent();
      await signIn(early, 'acme.ops');
      portal.clock.advance(299);
      assert.equal((await postCode(early, '/2fa/verify', sms.lastCode())).status, 303);

      portal.clock.advance(31);
      const late = portal.agent();
      await signIn(late, 'acme.ops');
      portal.clock.advance(300);
      const expired = await postCode(late, '/2fa/verify', sms.lastCode());
      assert.equal(expired.status, 401);
      assert.match(expired.text, /That code has expired/);
    });

    it('refuses a code that was already used', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const first = portal.agent();
      await signIn(first, 'acme.ops');
      const used = sms.lastCode();
      assert.equal((await postCode(first, '/2fa/verify', used)).status, 303);
      await signOut(first);

      portal.clock.advance(31);
      const second = portal.agent();
      await signIn(second, 'acme.ops');
      assert.notEqual(sms.lastCode(), used);
      assert.equal((await postCode(second, '/2fa/verify', used)).status, 401);
      assert.equal((await postCode(second, '/2fa/verify', sms.lastCode())).status, 303);
    });

    it('texts a code at a sign-in right after the enrolment, inside the enrolment text’s cooldown', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops', { wait: 0 });
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      assert.deepEqual(sms.sent.map((m) => m.to), [NUMBER, NUMBER], 'the enrolment text, then the sign-in’s');
      const page = await agent.get('/2fa/verify').expect(200);
      assert.match(page.text, /Code sent to xxx-xxx-9443\./);
      assert.equal(alertOf(page.text), undefined, 'nothing to wait for');
      assert.match(page.text, /data-countdown="30"/, 'Resend waits for this sign-in’s own text');
      assert.equal((await postCode(agent, '/2fa/verify', sms.lastCode())).status, 303);
    });

    it('texts every sign-in its own code, which works only in the session that asked for it', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const first = portal.agent();
      await signIn(first, 'acme.ops');
      const other = portal.agent();
      await signIn(other, 'acme.ops');
      assert.equal(sms.sent.length, 3, 'enrolment and two sign-ins, seconds apart');
      const code = sms.lastCode();
      assert.equal((await postCode(first, '/2fa/verify', code)).status, 401, 'not in the other sign-in');
      assert.equal((await postCode(other, '/2fa/verify', code)).status, 303, 'it works where it was asked for');
    });

    it('texts nothing to a locked account at sign-in; once the lock lifts, Resend sends and the page shows the masked number', async () => {
      const { portal, sms } = start({ secondFactor: { maxFailedAttempts: 3, lockoutSeconds: 2 } });
      await enrolled(portal, sms, 'acme.ops');
      const guessing = portal.agent();
      await signIn(guessing, 'acme.ops');
      for (let i = 0; i < 3; i += 1) await postCode(guessing, '/2fa/verify', otherCode(sms.lastCode()));
      const sentBefore = sms.sent.length;

      const locked = portal.agent();
      await signIn(locked, 'acme.ops');
      assert.equal(sms.sent.length, sentBefore, 'no text for a locked account');
      await locked.get('/2fa/verify').expect(429);
      // The lock runs on the store's clock (real time), the page's note on the portal's.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      portal.clock.advance(3);
      const page = await locked.get('/2fa/verify').expect(200);
      assert.match(page.text, /xxx-xxx-9443/, 'the masked number, before any text of this sign-in');
      const resent = await resend(locked);
      assert.equal(resent.status, 303, `${resent.status} ${alertOf(resent.text)}`);
      assert.equal(sms.sent.length, sentBefore + 1, 'Resend sends once the lock has lifted');
      assert.equal((await postCode(locked, '/2fa/verify', sms.lastCode())).status, 303);
    });

    it('names the hourly cap of the account that blocked a sign-in’s text, and when it lifts', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops', { wait: 0 });
      for (let i = 0; i < 4; i += 1) await signIn(portal.agent(), 'acme.ops');
      assert.equal(sms.sent.length, 5, 'the enrolment and four sign-ins: the cap of 5 an hour');
      const blocked = portal.agent();
      await signIn(blocked, 'acme.ops');
      assert.equal(sms.sent.length, 5, 'the sixth text is not sent');
      const page = await blocked.get('/2fa/verify').expect(200);
      assert.equal(alertOf(page.text), 'Too many text messages were sent for this account in the last hour. You can ask for a new code in about 60 minutes.');
      assert.doesNotMatch(page.text, /data-countdown/, 'no cooldown was taken');
      portal.clock.advance(5 * 60);
      assert.match(alertOf((await blocked.get('/2fa/verify')).text) ?? '', /in about 55 minutes\.$/, 'the time left goes down');
      assert.ok(portal.events.some((e) => e.type === 'send_refused' && e.reason === 'sms_quota'), 'a send_refused event');
    });

    it('names the hourly cap of the number that blocked a sign-in’s text', async () => {
      const { portal, sms } = start({ secondFactor: { smsPerNumberPerHour: 2 } });
      await enrolled(portal, sms, 'acme.ops', { wait: 0 });
      await enrolled(portal, sms, 'globex.ops', { wait: 0 });
      const blocked = portal.agent();
      await signIn(blocked, 'acme.ops');
      assert.equal(sms.sent.length, 2);
      const page = await blocked.get('/2fa/verify').expect(200);
      assert.equal(alertOf(page.text), 'Too many text messages were sent to this phone number in the last hour. You can ask for a new code in about 60 minutes.');
      const resent = await resend(blocked);
      assert.equal(resent.status, 429);
      assert.ok(Number(resent.headers['retry-after']) > 3500, `Retry-After ${resent.headers['retry-after']}`);
      assert.equal(alertOf(resent.text), 'Too many text messages were sent to this phone number in the last hour. You can ask for a new code in about 60 minutes.');
    });

    it('sends no more than the hourly cap to a burst of parallel sign-ins of one account', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops', { wait: 0 });
      const agents = Array.from({ length: 12 }, () => portal.agent());
      await Promise.all(agents.map((agent) => signIn(agent, 'acme.ops')));
      assert.equal(sms.sent.length, 5, 'the enrolment and 4 of the 12 sign-ins');
      const pages = await Promise.all(agents.map(async (agent) => (await agent.get('/2fa/verify')).text));
      assert.equal(pages.filter((html) => /Code sent to xxx-xxx-9443\./.test(html)).length, 4);
      assert.equal(pages.filter((html) => /Too many text messages were sent for this account/.test(alertOf(html) ?? '')).length, 8);
      assert.equal(portal.events.filter((e) => e.type === 'send_refused' && e.reason === 'sms_quota').length, 8);
    });

    it('allows 5 tries per code: the sixth is refused even when right', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const code = sms.lastCode();
      for (let i = 0; i < 5; i += 1) {
        const res = await postCode(agent, '/2fa/verify', otherCode(code));
        assert.equal(res.status, 401);
        assert.match(res.text, /That code didn’t work/);
      }
      const sixth = await postCode(agent, '/2fa/verify', code);
      assert.equal(sixth.status, 401);
      assert.match(sixth.text, /That code was tried too many times/);

      portal.clock.advance(31);
      assert.equal((await resend(agent)).status, 303);
      assert.equal((await postCode(agent, '/2fa/verify', sms.lastCode())).status, 303, 'a new code works');
    });

    it('accepts exactly one of 20 parallel copies of one valid code', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'southpaw.ops');
      const agent = portal.agent();
      await signIn(agent, 'southpaw.ops');
      const page = await agent.get('/2fa/verify').expect(200);
      const token = csrfFrom(page.text);
      const code = sms.lastCode();
      const results = await Promise.all(Array.from({ length: 20 }, () => agent.post('/2fa/verify').type('form').send({ _csrf: token, code })));
      assert.equal(results.filter((r) => r.status === 303).length, 1);
      // The losers meet the used code (401), the lock their failures add up to (429), or, when
      // they arrive after the winner, a session that no longer exists (403): never a sign-in.
      assert.deepEqual(results.filter((r) => ![303, 401, 403, 429].includes(r.status)).map((r) => r.status), []);
      assert.equal(portal.events.filter((e) => e.type === 'verified').length, 1);
    });

    it('never resets the failed-attempt count by sending a new code: the tenth wrong code locks', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'globex.ops');
      const agent = portal.agent();
      await signIn(agent, 'globex.ops');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await postCode(agent, '/2fa/verify', otherCode(sms.lastCode()))).status);
      portal.clock.advance(31);
      assert.equal((await resend(agent)).status, 303);
      for (let i = 0; i < 5; i += 1) statuses.push((await postCode(agent, '/2fa/verify', otherCode(sms.lastCode()))).status);
      portal.clock.advance(31);
      assert.equal((await resend(agent)).status, 303);
      statuses.push((await postCode(agent, '/2fa/verify', otherCode(sms.lastCode()))).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
      const locked = await postCode(agent, '/2fa/verify', sms.lastCode());
      assert.equal(locked.status, 429, 'the right code is refused while locked');
      const sentBefore = sms.sent.length;
      portal.clock.advance(31);
      assert.equal((await resend(agent)).status, 429, 'no new code while locked');
      assert.equal(sms.sent.length, sentBefore);
    });

    it('shows the send failure of the login on the verify page, and "Resend" retries', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const before = sms.sent.length;
      sms.failNext(1);
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const page = await agent.get('/2fa/verify').expect(200);
      assert.match(page.text, /role="alert"[\s\S]*We couldn’t send the text message/);
      assert.match(page.text, /<form method="post" action="\/2fa\/resend"/);
      assert.doesNotMatch(page.text, /data-countdown/, 'no cooldown was consumed');

      const retried = await resend(agent);
      assert.equal(retried.status, 303);
      assert.equal(sms.sent.length, before + 1);
      assert.equal((await postCode(agent, '/2fa/verify', sms.lastCode())).status, 303);
    });
  });

  describe('sending a new code', () => {
    it('shows the cooldown on the Resend button for the script, tied to a status message', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const page = await agent.get('/2fa/verify').expect(200);
      assert.match(
        page.text,
        /<button type="submit" class="sf-button sf-secondary" aria-describedby="resend-status" data-countdown="30" data-label="Resend" data-countdown-label="\{label\} \(\{seconds\}s\)">Resend<\/button>/,
      );
      assert.match(page.text, /<p class="sf-hint" id="resend-status" role="status">You can ask for a new code in 30 seconds\.<\/p>/);
      assert.match(page.text, /<script src="\/2fa\/assets\/second-factor\.js" defer><\/script>/);
      portal.clock.advance(12);
      assert.match((await agent.get('/2fa/verify')).text, /data-countdown="18"/);
      portal.clock.advance(18);
      assert.doesNotMatch((await agent.get('/2fa/verify')).text, /data-countdown/);
    });

    it('refuses a resend inside the cooldown with 429, Retry-After and the seconds left, and sends nothing', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const before = sms.sent.length;
      portal.clock.advance(10);
      const refused = await resend(agent);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '20');
      assert.match(refused.text, /Please wait 20 seconds before asking for a new code/);
      assert.match(refused.text, /data-countdown="20"/);
      assert.equal(sms.sent.length, before);
      assert.ok(portal.events.some((e) => e.type === 'send_refused' && e.reason === 'resend_cooldown'), 'a send_refused event');
    });

    it('sends a new code after the cooldown, and the new code voids the old one', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const old = sms.lastCode();
      portal.clock.advance(30);
      const sent = await resend(agent);
      assert.equal(sent.status, 303);
      assert.equal(sent.headers.location, '/2fa/verify');
      const fresh = sms.lastCode();
      assert.equal(sms.sent.at(-1)!.to, NUMBER);
      assert.equal((await postCode(agent, '/2fa/verify', old)).status, 401);
      assert.equal((await postCode(agent, '/2fa/verify', fresh)).status, 303);
      assert.deepEqual(
        portal.events.filter((e) => e.type === 'code_sent').map((e) => e.reason),
        ['enrolment', 'login', 'resend'],
      );
    });

    it('sends at most 5 texts an hour to one account, even in parallel bursts of resends', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      assert.equal(sms.sent.length, 2, 'enrolment and login');
      const page = await agent.get('/2fa/verify');
      const token = csrfFrom(page.text);
      const sentPerRound: number[] = [];
      let last: supertest.Response[] = [];
      for (let round = 0; round < 5; round += 1) {
        portal.clock.advance(31);
        const before = sms.sent.length;
        last = await Promise.all(Array.from({ length: 6 }, () => agent.post('/2fa/resend').type('form').send({ _csrf: token })));
        sentPerRound.push(sms.sent.length - before);
      }
      assert.deepEqual(sentPerRound, [1, 1, 1, 0, 0]);
      assert.deepEqual(last.map((r) => r.status), [429, 429, 429, 429, 429, 429]);
      const quota = last.filter((r) => /Too many text messages were sent for this account in the last hour\. You can ask for a new code in about 60 minutes\./.test(r.text));
      assert.ok(quota.length >= 1, 'the cap is named on the page, with when it lifts');
      assert.deepEqual(last.filter((r) => !(Number(r.headers['retry-after']) > 0)).length, 0, 'every refusal has a Retry-After');
      assert.ok(portal.events.some((e) => e.type === 'send_refused' && e.reason === 'sms_quota'), 'a send_refused event for the cap');
    });

    it('sends at most 5 texts an hour to one number, across accounts enrolling it at once', async () => {
      const { portal, sms } = start();
      const usernames = ['bot.admin', 'bot.ops', 'northwind.admin', 'northwind.ops', 'acme.admin', 'acme.ops', 'southpaw.admin', 'southpaw.ops'];
      const agents = await Promise.all(
        usernames.map(async (username) => {
          const agent = portal.agent();
          await signIn(agent, username);
          const choose = await agent.get('/2fa/enrol');
          await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
          return agent;
        }),
      );
      const tokens = await Promise.all(agents.map(async (agent) => csrfFrom((await agent.get('/2fa/enrol/sms')).text)));
      const results = await Promise.all(agents.map((agent, i) => agent.post('/2fa/enrol/sms').type('form').send({ _csrf: tokens[i], phone: TYPED })));
      assert.equal(sms.sent.length, 5);
      assert.equal(results.filter((r) => r.status === 303).length, 5);
      const refused = results.filter((r) => r.status === 429);
      assert.equal(refused.length, 3);
      assert.equal(refused.filter((r) => /Too many text messages were sent to this phone number in the last hour/.test(r.text)).length, 3);

      // A refused send gave its cooldown back: that person can use another number at once.
      const refusedAgent = agents[results.findIndex((r) => r.status === 429)]!;
      const form = await refusedAgent.get('/2fa/enrol/sms');
      const other = await refusedAgent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '415-555-0199' });
      assert.equal(other.status, 303);
      assert.equal(sms.sent.at(-1)!.to, '+14155550199');
    });

    it('answers a failing provider with a clear 502 page and consumes neither cooldown nor hourly cap', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      portal.clock.advance(31);
      const before = sms.sent.length;
      sms.failNext(6);
      for (let i = 0; i < 6; i += 1) {
        const failed = await resend(agent);
        assert.equal(failed.status, 502, `attempt ${i + 1}`);
        assert.match(failed.text, /We couldn’t send the text message/);
        assert.match(failed.text, /action="\/2fa\/resend"/, 'a way to try again');
        assert.doesNotMatch(failed.text, /data-countdown/);
      }
      assert.equal(sms.sent.length, before);
      const retried = await resend(agent);
      assert.equal(retried.status, 303);
      assert.equal(sms.sent.length, before + 1);
      assert.equal((await postCode(agent, '/2fa/verify', sms.lastCode())).status, 303);
      assert.equal(portal.events.filter((e) => e.type === 'send_failed').length, 6);
    });

    it('puts neither the code nor the full number in any event', async () => {
      const { portal, sms } = start();
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      await postCode(agent, '/2fa/verify', otherCode(sms.lastCode()));
      portal.clock.advance(31);
      await resend(agent);
      await postCode(agent, '/2fa/verify', sms.lastCode());
      const events = JSON.stringify(portal.events);
      assert.ok(portal.events.length >= 6, 'events were recorded');
      for (const message of sms.sent) assert.ok(!events.includes(/\d{6}/.exec(message.body)![0]), 'a code leaked');
      assert.ok(!events.includes('5559443') && !events.includes('555-9443'), 'the number leaked');
    });
  });

  describe('codes and options', () => {
    it('draws six-digit codes that keep their leading zeros', () => {
      const codes = Array.from({ length: 3000 }, () => newSmsCode());
      assert.deepEqual(codes.filter((code) => !/^\d{6}$/.test(code)), []);
      assert.ok(codes.some((code) => code.startsWith('0')), 'about 10% start with 0');
      assert.ok(new Set(codes).size > 2900, 'codes vary');
    });

    it('refuses a code lifetime above 10 minutes at start-up, naming the option', () => {
      assert.throws(() => secondFactor({ issuer: 'Acme', smsCodeTtlSeconds: 601, logger: { info() {}, warn() {}, error() {} } }), /option "smsCodeTtlSeconds" must be/);
      assert.throws(() => secondFactor({ issuer: 'Acme', resendCooldownSeconds: 0, logger: { info() {}, warn() {}, error() {} } }), /option "resendCooldownSeconds"/);
    });

    it('honours a shorter code lifetime', async () => {
      const { portal, sms } = start({ secondFactor: { smsCodeTtlSeconds: 60 } });
      await enrolled(portal, sms, 'acme.ops');
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      portal.clock.advance(60);
      const expired = await postCode(agent, '/2fa/verify', sms.lastCode());
      assert.equal(expired.status, 401);
      assert.match(expired.text, /That code has expired/);
    });
  });
});

describe('text-message codes on one Redis shared by two app instances', function () {
  this.timeout(15_000);
  type Client = RedisClientType<any, any, any, any, any>;
  const silent = { info() {}, warn() {}, error() {} };
  let server: RedisServer;
  const clients: Client[] = [];
  let prefixes = 0;

  before(async () => {
    server = await startRedis();
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
  });

  /** Two instances of the app's SMS code logic, each with its own Redis connection. */
  async function twoInstances(options: { smsPerAccountPerHour?: number } = {}) {
    const clock = new TestClock();
    const sms = capturingSender();
    const prefix = `sms${(prefixes += 1)}:`;
    const instances: SmsCodes[] = [];
    for (let i = 0; i < 2; i += 1) {
      const client: Client = createClient({ url: server.url, disableOfflineQueue: true });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      const config = parseOptions({ issuer: 'Acme Portal', store: new RedisStore({ client, prefix }), sms, now: clock.now, encryptionKey: 'b'.repeat(64), logger: silent, ...options });
      instances.push(createSmsCodes(config));
    }
    const request = (userId: string, phone = NUMBER) => ({ userId, binding: `session-of-${userId}`, phone, body: (code: string) => `Your Acme Portal code is ${code}` });
    return { clock, sms, instances, request };
  }

  it('consumes a code exactly once among 20 parallel checks spread over both instances', async () => {
    const { sms, instances, request } = await twoInstances();
    await instances[0]!.send(request('u1'));
    const code = sms.lastCode();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => instances[i % 2]!.check('u1', { binding: 'session-of-u1', phone: NUMBER }, code)),
    );
    assert.equal(results.filter((r) => r === 'ok').length, 1);
    assert.equal(results.filter((r) => r === 'spent').length, 15, 'only 5 tries reach the comparison');
  });

  it('sends one code for a burst of resends over both instances once the cooldown has passed', async () => {
    const { clock, sms, instances, request } = await twoInstances();
    await instances[0]!.send(request('u1'));
    clock.advance(30);
    const burst = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => instances[i % 2]!.send(request('u1'))));
    assert.equal(burst.filter((r) => r.status === 'fulfilled').length, 1);
    assert.deepEqual(burst.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : [])), Array(9).fill('resend_cooldown'));
    assert.equal(sms.sent.length, 2);
  });

  it('keeps the resend cooldown per sign-in: a new binding sends at once, the same one waits', async () => {
    const { sms, instances, request } = await twoInstances();
    await instances[0]!.send(request('u1'));
    await assert.rejects(instances[1]!.send(request('u1')), { code: 'resend_cooldown' });
    await instances[1]!.send({ ...request('u1'), binding: 'a-new-sign-in' });
    assert.equal(sms.sent.length, 2);
    assert.equal(await instances[0]!.cooldownSeconds('u1', 'a-new-sign-in'), 30);
    assert.equal(await instances[0]!.cooldownSeconds('u1', undefined), 0, 'a sign-in that sent nothing has nothing to wait for');
  });

  it('texts a burst of sign-ins of one account over both instances no more than its hourly cap', async () => {
    const { sms, instances, request } = await twoInstances();
    const burst = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => instances[i % 2]!.send({ ...request('u1'), binding: `sign-in-${i}` })));
    assert.equal(burst.filter((r) => r.status === 'fulfilled').length, 5);
    const refusals = burst.flatMap((r) => (r.status === 'rejected' ? [r.reason as SmsQuotaError] : []));
    assert.deepEqual(refusals.map((error) => [error.code, error.cap]), Array(7).fill(['sms_quota', 'account']));
    assert.ok(refusals.every((error) => error.retryAfterSeconds! > 3500), 'each says when the cap lifts');
    assert.equal(sms.sent.length, 5);
  });

  it('texts one number at most 5 times an hour, whichever instance and account asks', async () => {
    const { sms, instances, request } = await twoInstances();
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => instances[i % 2]!.send(request(`u${i}`))));
    assert.equal(burst.filter((r) => r.status === 'fulfilled').length, 5);
    assert.deepEqual(burst.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : [])), ['sms_quota', 'sms_quota', 'sms_quota']);
    assert.equal(sms.sent.length, 5);
  });

  it('clears the live code, on whichever instance, so that it then answers none', async () => {
    const { sms, instances, request } = await twoInstances();
    await instances[0]!.send(request('u1'));
    const code = sms.lastCode();
    await instances[1]!.clear('u1');
    assert.equal(await instances[0]!.check('u1', { binding: 'session-of-u1', phone: NUMBER }, code), 'none');
    await instances[0]!.clear('u1');
    assert.equal(await instances[1]!.check('u1', { binding: 'session-of-u1', phone: NUMBER }, code), 'none', 'clearing again is harmless');
  });

  it('gives the cooldown and the hourly cap back when the provider fails', async () => {
    const { clock, sms, instances, request } = await twoInstances({ smsPerAccountPerHour: 2 });
    sms.failNext(3);
    for (let i = 0; i < 3; i += 1) await assert.rejects(instances[i % 2]!.send(request('u1')), { code: 'sms_failed' });
    await instances[0]!.send(request('u1'));
    clock.advance(30);
    await instances[1]!.send(request('u1'));
    clock.advance(30);
    await assert.rejects(instances[0]!.send(request('u1')), { code: 'sms_quota' });
    assert.equal(sms.sent.length, 2);
  });
});
