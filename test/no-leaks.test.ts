import assert from 'node:assert/strict';
import express, { type RequestHandler } from 'express';
import { describe, it } from 'mocha';
import supertest from 'supertest';
import type { TwoFactorEvent } from 'passport-second-factor';
import { capturingSender } from './helpers/capturing-sender.js';
import { codeAt, csrfFrom, portalToken, recoveryCodesFrom, signOut, startPortal, totpKeyFrom } from './helpers/portal.js';

interface Seen {
  readonly request: string;
  readonly url: string;
  readonly location: string;
  readonly body: string;
}

/** Records every request's URL and every response's Location header and body. */
function recorder(seen: Seen[]): RequestHandler {
  return (req, res, next) => {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    (res as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return write(chunk, ...rest);
    };
    (res as unknown as { end: (...args: unknown[]) => typeof res }).end = (chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return end(chunk, ...rest);
    };
    res.on('finish', () => {
      seen.push({ request: `${req.method} ${req.originalUrl}`, url: req.originalUrl, location: String(res.getHeader('location') ?? ''), body: Buffer.concat(chunks).toString('utf8') });
    });
    next();
  };
}

describe('no secret, code, recovery code or full phone number leaks', () => {
  it('keeps them out of logs, events, later pages, URLs and Location headers over a whole journey', async () => {
    const sms = capturingSender();
    const notified: TwoFactorEvent[] = [];
    let mailDown = true;
    const portal = startPortal({
      secondFactor: {
        sms,
        notify: (_user, event) => {
          notified.push(event);
          // One failing mail: its log line proves the logger is captured here.
          if (mailDown) {
            mailDown = false;
            throw new Error('mail server down');
          }
        },
      },
    });
    const seen: Seen[] = [];
    const outer = express();
    outer.use(recorder(seen));
    outer.use(portal.app);
    const browser = () => supertest.agent(outer);

    /** Values that may not appear in any response from request number `from` on. */
    const forbidden: Array<{ what: string; value: string; from: number }> = [];
    const forbid = (what: string, value: string, from = seen.length) => forbidden.push({ what, value, from });
    const post = async (agent: supertest.Agent, path: string, page: string, fields: Record<string, string | undefined> = {}) =>
      agent.post(path).type('form').send({ _csrf: csrfFrom((await agent.get(page)).text), ...fields });
    const login = async (agent: supertest.Agent, username: string) => {
      const _csrf = await portalToken(agent);
      return agent.post('/login').type('form').send({ _csrf, username, password: 'demo-password' }).expect(303);
    };
    const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

    // 1. An authenticator app: enrolment, its recovery codes, a wrong and a right code.
    const abe = browser();
    await login(abe, 'acme.ops');
    await post(abe, '/2fa/enrol', '/2fa/enrol', { method: 'totp' }).then((res) => assert.equal(res.status, 303));
    const enrolPage = await abe.get('/2fa/enrol/totp').expect(200);
    const secret = totpKeyFrom(enrolPage.text);
    forbid('the TOTP secret', secret);
    forbid('the TOTP secret, grouped', secret.replace(/(.{4})/g, '$1 ').trim());
    const enrolCode = codeAt(secret, portal.clock.t);
    forbid('the enrolment code', enrolCode);
    const shown = await abe.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(enrolPage.text), code: enrolCode }).expect(200);
    const recoveryCodes = recoveryCodesFrom(shown.text);
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) {
      forbid('a recovery code', code);
      forbid('a recovery code without its dash', code.replace('-', ''));
    }
    await abe.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(shown.text) }).expect(303);
    await abe.get('/2fa/settings').expect(200);
    await signOut(abe);

    portal.clock.advance(30);
    await login(abe, 'acme.ops');
    const right = codeAt(secret, portal.clock.t);
    forbid('a wrong code', wrongCode(right));
    forbid('a sign-in code', right);
    await post(abe, '/2fa/verify', '/2fa/verify', { code: wrongCode(right) }).then((res) => assert.equal(res.status, 401));
    await post(abe, '/2fa/verify', '/2fa/verify', { code: right, remember: '1' }).then((res) => assert.equal(res.status, 303));
    await abe.get('/dashboard').expect(200);
    await signOut(abe);

    // 2. A recovery code, in another browser.
    const lost = browser();
    await login(lost, 'acme.ops');
    await post(lost, '/2fa/recovery', '/2fa/recovery', { recoveryCode: 'aaaaa-aaaaa' }).then((res) => assert.equal(res.status, 401));
    await post(lost, '/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] }).then((res) => assert.equal(res.status, 200));
    await lost.get('/2fa/settings').expect(200);

    // 3. Text messages: enrolment, a sign-in with a wrong and a right code, a new number.
    const ned = browser();
    await login(ned, 'northwind.ops');
    for (const shape of ['+14155559443', '4155559443', '555-9443', '5559443', '(415) 555-9443']) forbid('the phone number', shape);
    await post(ned, '/2fa/enrol', '/2fa/enrol', { method: 'sms' }).then((res) => assert.equal(res.status, 303));
    await post(ned, '/2fa/enrol/sms', '/2fa/enrol/sms', { phone: '(415) 555-9443' }).then((res) => assert.equal(res.status, 303));
    forbid('a texted code', sms.lastCode(), seen.length - 1);
    const smsCodes = await post(ned, '/2fa/enrol/sms/confirm', '/2fa/enrol/sms/confirm', { code: sms.lastCode() });
    assert.equal(smsCodes.status, 200);
    for (const code of recoveryCodesFrom(smsCodes.text)) forbid('a recovery code', code);
    await ned.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(smsCodes.text) }).expect(303);
    await signOut(ned);
    portal.clock.advance(31);
    await login(ned, 'northwind.ops');
    forbid('a texted code', sms.lastCode(), seen.length - 1);
    forbid('a wrong code', wrongCode(sms.lastCode()));
    await post(ned, '/2fa/verify', '/2fa/verify', { code: wrongCode(sms.lastCode()) }).then((res) => assert.equal(res.status, 401));
    await post(ned, '/2fa/verify', '/2fa/verify', { code: sms.lastCode() }).then((res) => assert.equal(res.status, 303));
    await post(ned, '/2fa/settings/method', '/2fa/settings', { method: 'sms' }).then((res) => assert.equal(res.status, 303));
    for (const shape of ['+12125550177', '2125550177', '555-0177', '5550177']) forbid('the new phone number', shape);
    portal.clock.advance(31);
    await post(ned, '/2fa/settings/method/sms', '/2fa/settings/method/sms', { phone: '212 555 0177' }).then((res) => assert.equal(res.status, 303));
    forbid('a texted code', sms.lastCode(), seen.length - 1);
    const newCodes = await post(ned, '/2fa/settings/method/sms/confirm', '/2fa/settings/method/sms/confirm', { code: sms.lastCode() });
    assert.equal(newCodes.status, 200);
    for (const code of recoveryCodesFrom(newCodes.text)) forbid('a recovery code', code);
    await ned.get('/2fa/settings').expect(200);

    // 4. An admin reset of the text-message user.
    const bea = browser();
    await login(bea, 'bot.admin');
    await post(bea, '/2fa/enrol', '/2fa/enrol', { method: 'totp' });
    const beaPage = await bea.get('/2fa/enrol/totp');
    const beaSecret = totpKeyFrom(beaPage.text);
    forbid('an admin’s TOTP secret', beaSecret);
    const beaCodes = await bea.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(beaPage.text), code: codeAt(beaSecret, portal.clock.t) }).expect(200);
    await bea.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(beaCodes.text) }).expect(303);
    await post(bea, '/admin/2fa/users/u4/reset', '/admin/2fa/users/u4/reset', { reason: 'Lost their phone' }).then((res) => assert.equal(res.status, 303));
    await bea.get('/admin/2fa').expect(200);

    // Everything was exercised: events raised, mail hooks called, a log line written.
    assert.ok(seen.length > 50, `requests recorded: ${seen.length}`);
    for (const type of ['enrolled', 'verified', 'failed', 'recovery_code_used', 'method_changed', 'reset', 'code_sent']) {
      assert.ok(portal.events.some((e) => e.type === type), `a ${type} event`);
    }
    assert.ok(portal.logs.some((line) => line.includes('notify rejected')), 'the logger is the one captured');

    const texts = [...portal.logs.map((line) => `log: ${line}`), ...[...portal.events, ...notified].map((e) => `event: ${JSON.stringify(e)}`)];
    for (const { what, value } of forbidden) {
      for (const text of texts) assert.ok(!text.includes(value), `${what} in ${text}`);
    }
    for (const [index, response] of seen.entries()) {
      for (const { what, value, from } of forbidden) {
        assert.ok(!response.url.includes(value) && !decodeURIComponent(response.url).includes(value), `${what} in the URL of ${response.request}`);
        assert.ok(!response.location.includes(value), `${what} in the Location of ${response.request}`);
        if (index >= from) assert.ok(!response.body.includes(value), `${what} in the answer to ${response.request} (#${index})`);
      }
    }
  });
});
