import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import { capturingSender } from './helpers/capturing-sender.js';
import { codeAt, continueAfterCodes, csrfFrom, enrolTotp, recoveryCodesFrom, signIn, signOut, startPortal, totpKeyFrom, type TestPortal } from './helpers/portal.js';
import { redisForSuite } from './helpers/redis-suite.js';
import { createRecoveryCodes, readRecoveryCode } from '../src/factors/recovery/codes.js';
import { parseOptions } from '../src/options.js';
import { MemoryStore } from '../src/store/memory.js';

/** Password and an authenticator app, then signed out: the next sign-in asks for a code. */
async function enrolled(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const { secret, recoveryCodes } = await enrolTotp(agent, portal.clock);
  await signOut(agent);
  portal.clock.advance(30);
  return { secret, recoveryCodes };
}

/** A new pending sign-in, on the recovery-code page; returns the agent and the form's token. */
async function onRecoveryPage(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const page = await agent.get('/2fa/recovery').expect(200);
  return { agent, page, token: csrfFrom(page.text) };
}

async function useRecoveryCode(portal: TestPortal, username: string, code: unknown): Promise<{ agent: supertest.Agent; res: supertest.Response }> {
  const { agent, token } = await onRecoveryPage(portal, username);
  const res = await agent.post('/2fa/recovery').type('form').send({ _csrf: token, recoveryCode: code });
  return { agent, res };
}

describe('recovery codes', () => {
  it('shows 10 distinct codes once after an enrolment, with a download that needs no script, and keeps only hashes', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const page = await agent.get('/2fa/enrol/totp');
    const secret = totpKeyFrom(page.text);
    const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t) });
    assert.equal(shown.status, 200);
    assert.equal(shown.headers['cache-control'], 'no-store');
    const codes = recoveryCodesFrom(shown.text);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10, 'no code twice');
    for (const code of codes) assert.match(code, /^[a-hj-km-np-z2-9]{5}-[a-hj-km-np-z2-9]{5}$/, `readable alphabet: ${code}`);
    assert.match(shown.text, /This is the only time they are shown/);
    assert.match(shown.text, /password manager/, 'a hint on keeping them');

    const link = /<a class="sf-button sf-secondary" href="(data:text\/plain;charset=utf-8,[^"]+)" download="(acme-portal-recovery-codes\.txt)">Download as text<\/a>/.exec(shown.text);
    assert.ok(link, 'a data: download link with a file name');
    const file = decodeURIComponent(link[1]!.slice('data:text/plain;charset=utf-8,'.length));
    for (const code of codes) assert.ok(file.includes(code), `the file holds ${code}`);
    assert.match(file, /^Acme Portal recovery codes\r\nMade on 2026-01-05\./);
    assert.doesNotMatch(shown.text, /<script(?![^>]*src=)[^>]*>/, 'no inline script');
    assert.match(shown.text, /<form method="post" action="\/2fa\/recovery-codes\/continue"/);

    const record = await portal.store.getUser('u6');
    assert.equal(record?.recoveryCodes?.length, 10);
    const stored = JSON.stringify(record);
    for (const code of codes) {
      assert.ok(!stored.includes(code) && !stored.includes(code.replace('-', '')), 'only keyed hashes are stored');
    }

    // Until "Continue", the sign-in is not finished, and the codes are never shown again.
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
    await agent.get('/2fa').expect(303).expect('location', '/2fa/recovery-codes');
    const again = await agent.get('/2fa/recovery-codes').expect(200);
    assert.deepEqual(recoveryCodesFrom(again.text), []);
    assert.match(again.text, /were shown once and can’t be shown again/);
    const done = await agent.post('/2fa/recovery-codes/continue').type('form').send({ _csrf: csrfFrom(again.text) });
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, '/');
    await agent.get('/dashboard').expect(200);
    const later = await agent.get('/2fa/recovery-codes').expect(200);
    assert.deepEqual(recoveryCodesFrom(later.text), []);
    assert.match(later.text, /shown once and can’t be shown again\. If you didn’t save them, make new ones on your two-step verification settings page/);
    assert.match(later.text, /<a class="sf-button" href="\/2fa\/settings">Go to settings<\/a>/);
  });

  it('answers a reload of the codes page, before and after "Continue", with "shown once" and where to make new ones', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const page = await agent.get('/2fa/enrol/totp');
    const form = { _csrf: csrfFrom(page.text), code: codeAt(totpKeyFrom(page.text), portal.clock.t) };
    const shown = await agent.post('/2fa/enrol/totp').type('form').send(form).expect(200);
    const stored = JSON.stringify(await portal.store.getUser('u6'));

    // A reload sends the enrolment form again.
    await agent.post('/2fa/enrol/totp').type('form').send(form).expect(303).expect('location', '/2fa/recovery-codes');
    const pending = await agent.get('/2fa/recovery-codes').expect(200);
    assert.match(pending.text, /shown once and can’t be shown again/);
    assert.match(pending.text, /action="\/2fa\/recovery-codes\/continue"/, 'Continue still finishes the sign-in');
    const { done } = await continueAfterCodes(agent, shown);
    assert.equal(done.status, 303);

    // After "Continue" the form's token belongs to a session id that is gone: no CSRF error page.
    await agent.post('/2fa/enrol/totp').type('form').send(form).expect(303).expect('location', '/2fa/recovery-codes');
    const after = await agent.get('/2fa/recovery-codes').expect(200);
    assert.match(after.text, /make new ones on your two-step verification settings page/);
    assert.doesNotMatch(after.text, /role="alert"/);
    assert.equal(JSON.stringify(await portal.store.getUser('u6')), stored, 'no codes issued again, nothing changed');
    assert.equal(portal.events.filter((e) => e.type === 'enrolled').length, 1);
  });

  it('ends a text-message enrolment on the codes page too', async () => {
    const sms = capturingSender();
    const portal = startPortal({ secondFactor: { sms } });
    const agent = portal.agent();
    await signIn(agent, 'northwind.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
    const form = await agent.get('/2fa/enrol/sms');
    await agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '(415) 555-9443' }).expect(303);
    const confirm = await agent.get('/2fa/enrol/sms/confirm');
    const shown = await agent.post('/2fa/enrol/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() });
    const { recoveryCodes, done } = await continueAfterCodes(agent, shown);
    assert.equal(recoveryCodes.length, 10);
    assert.equal(done.status, 303);
    assert.equal((await portal.store.getUser('u4'))?.recoveryCodes?.length, 10);
  });

  it('links to the recovery page from both verify pages, and asks for the code in one labelled field', async () => {
    const sms = capturingSender();
    const portal = startPortal({ secondFactor: { sms } });
    await enrolled(portal, 'acme.ops');
    const totp = portal.agent();
    await signIn(totp, 'acme.ops');
    assert.match((await totp.get('/2fa/verify').expect(200)).text, /<a href="\/2fa\/recovery">Use a recovery code<\/a>/);

    const agent = portal.agent();
    await signIn(agent, 'northwind.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' });
    const form = await agent.get('/2fa/enrol/sms');
    await agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '415-555-0199' });
    const confirm = await agent.get('/2fa/enrol/sms/confirm');
    await continueAfterCodes(agent, await agent.post('/2fa/enrol/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() }));
    const smsUser = portal.agent();
    await signIn(smsUser, 'northwind.ops');
    assert.match((await smsUser.get('/2fa/verify').expect(200)).text, /<a href="\/2fa\/recovery">Use a recovery code<\/a>/);

    const page = await totp.get('/2fa/recovery').expect(200);
    assert.match(page.text, /<label for="recovery-code">Recovery code<\/label>/);
    assert.match(page.text, /<input id="recovery-code" name="recoveryCode" type="text" autocomplete="off"/);
    assert.equal([...page.text.matchAll(/<input (?![^>]*type="hidden")/g)].length, 1, 'one field');
  });

  it('signs in with a recovery code (typed in capitals, with spaces), tells how many are left, and never takes it again', async () => {
    const portal = startPortal();
    const { recoveryCodes } = await enrolled(portal, 'acme.ops');
    const [first] = recoveryCodes;
    const { agent, res } = await useRecoveryCode(portal, 'acme.ops', ` ${first!.toUpperCase().replace('-', ' ')} `);
    assert.equal(res.status, 200, res.text.slice(0, 400));
    assert.match(res.text, /You have 9 recovery codes left\./);
    assert.match(res.text, /<a class="sf-button" href="\/2fa\/settings">Go to settings<\/a>/);
    assert.doesNotMatch(res.text, new RegExp(first!), 'the code is not echoed');
    await agent.get('/dashboard').expect(200);
    assert.ok(portal.events.some((e) => e.type === 'recovery_code_used' && e.userId === 'u6'), 'a recovery_code_used event');
    assert.equal((await portal.store.getUser('u6'))?.recoveryCodes?.length, 9);

    const again = await useRecoveryCode(portal, 'acme.ops', first);
    assert.equal(again.res.status, 401);
    assert.match(again.res.text, /That recovery code didn’t work/);
    await again.agent.get('/dashboard').expect(303).expect('location', '/2fa');
    assert.ok(portal.events.some((e) => e.type === 'failed' && e.reason === 'recovery_code'), 'the reuse counts as a failed attempt');

    const second = await useRecoveryCode(portal, 'acme.ops', recoveryCodes[1]);
    assert.equal(second.res.status, 200);
    assert.match(second.res.text, /You have 8 recovery codes left\./);
  });

  it('counts wrong recovery codes as failed attempts and locks, even for a right one after', async () => {
    const portal = startPortal({ secondFactor: { maxFailedAttempts: 3 } });
    const { recoveryCodes } = await enrolled(portal, 'globex.ops');
    const { agent, token } = await onRecoveryPage(portal, 'globex.ops');
    const statuses: number[] = [];
    for (const guess of ['aaaaa-aaaaa', 'bbbbb-bbbbb', 'ccccc-ccccc']) {
      statuses.push((await agent.post('/2fa/recovery').type('form').send({ _csrf: token, recoveryCode: guess })).status);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
    const locked = await agent.post('/2fa/recovery').type('form').send({ _csrf: token, recoveryCode: recoveryCodes[0] });
    assert.equal(locked.status, 429);
    assert.match(locked.text, /locked/i);
    assert.equal((await portal.store.getUser('u10'))?.recoveryCodes?.length, 10, 'nothing spent while locked');
    assert.ok(portal.events.some((e) => e.type === 'locked' && e.reason === 'recovery_code'), 'a locked event');
  });

  it('refuses malformed input with a clear message and counts no attempt', async () => {
    const portal = startPortal();
    await enrolled(portal, 'acme.admin');
    const { agent, token } = await onRecoveryPage(portal, 'acme.admin');
    for (const bad of ['', '123456', 'abcde-fghj', 'abcde-fghjkl', 'abcde-fghj0', ['abcde-fghjk', 'bcdef-ghjkm'], 'x'.repeat(100)]) {
      const res = await agent.post('/2fa/recovery').type('form').send({ _csrf: token, recoveryCode: bad });
      assert.equal(res.status, 400, `input ${JSON.stringify(bad)}`);
      assert.match(res.text, /Enter a recovery code: 10 letters and digits/);
      assert.match(res.text, /aria-invalid="true"/);
    }
    assert.ok(!portal.events.some((e) => e.type === 'failed'), 'malformed input is not an attempt');
  });

  it('nudges to make new codes when three or fewer are left', async () => {
    const portal = startPortal();
    const { recoveryCodes } = await enrolled(portal, 'northwind.admin');
    let last: supertest.Response | undefined;
    for (const code of recoveryCodes.slice(0, 7)) last = (await useRecoveryCode(portal, 'northwind.admin', code)).res;
    assert.match(last!.text, /You have 3 recovery codes left\./);
    assert.match(last!.text, /Make new recovery codes now/);
    for (const code of recoveryCodes.slice(7, 9)) last = (await useRecoveryCode(portal, 'northwind.admin', code)).res;
    assert.match(last!.text, /You have 1 recovery code left\./);
    last = (await useRecoveryCode(portal, 'northwind.admin', recoveryCodes[9])).res;
    assert.match(last.text, /You have no recovery codes left\./);
  });

  it('does not take one person’s code for another', async () => {
    const portal = startPortal();
    const ada = await enrolled(portal, 'acme.ops');
    await enrolled(portal, 'acme.admin');
    const { res } = await useRecoveryCode(portal, 'acme.admin', ada.recoveryCodes[0]);
    assert.equal(res.status, 401);
    assert.equal((await portal.store.getUser('u6'))?.recoveryCodes?.length, 10, 'the owner’s code is untouched');
  });

  it('voids every code at an admin reset: after enrolling again only the new codes work', async () => {
    const portal = startPortal();
    const { recoveryCodes: before } = await enrolled(portal, 'northwind.ops');
    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, portal.clock);
    const confirm = await admin.get('/admin/2fa/users/u4/reset').expect(200);
    await admin.post('/admin/2fa/users/u4/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);

    const again = portal.agent();
    await signIn(again, 'northwind.ops');
    await again.get('/2fa/recovery').expect(303).expect('location', '/2fa/enrol');
    const { recoveryCodes: after } = await enrolTotp(again, portal.clock);
    await signOut(again);

    const old = await useRecoveryCode(portal, 'northwind.ops', before[0]);
    assert.equal(old.res.status, 401, 'a code from before the reset is refused');
    const fresh = await useRecoveryCode(portal, 'northwind.ops', after[0]);
    assert.equal(fresh.res.status, 200);
  });

  it('keeps 128-bit hashes, and still takes the codes of a set stored with whole hashes before', async () => {
    const silent = { info() {}, warn() {}, error() {} };
    const config = parseOptions({ issuer: 'Acme', store: new MemoryStore(), encryptionKey: Buffer.alloc(32, 3), logger: silent });
    const recovery = createRecoveryCodes(config);
    const codes = await recovery.issue('u1', { generation: 0, method: 'totp', factorId: 'f1', enrolledAt: 1 });
    const issued = (await config.store.getUser('u1'))!;
    assert.deepEqual(issued.recoveryCodes!.map((hash) => hash.length), Array(10).fill(22), 'ten hashes of 22 base64url characters');
    assert.equal(await recovery.consume('u1', issued, readRecoveryCode(codes[0])!), 9, 'a code of the new form is taken');

    // A set made before the hashes were shortened: the whole HMAC of the same input.
    const whole = codes.map((code) => config.secrets.hash(`recovery:u1:f1:${readRecoveryCode(code)!}`));
    const before = { ...issued, factorId: 'f1', recoveryCodes: whole };
    await config.store.saveUser('u1', before);
    assert.equal(await recovery.consume('u1', before, readRecoveryCode(codes[1])!), 9, 'a code of the old form is taken');
    assert.equal(await recovery.consume('u1', (await config.store.getUser('u1'))!, readRecoveryCode(codes[1])!), undefined, 'and only once');
    assert.equal(await recovery.consume('u1', before, 'aaaaabbbbb'), undefined, 'a wrong code is not');
  });

  describe('on Redis, where parallel requests interleave at every store round trip', () => {
    const redis = redisForSuite();

    it('accepts exactly one of 20 parallel uses of one recovery code', async () => {
      const portal = startPortal({ redis: redis.client });
      const { recoveryCodes } = await enrolled(portal, 'southpaw.ops');
      const pages = await Promise.all(Array.from({ length: 20 }, () => onRecoveryPage(portal, 'southpaw.ops')));
      const results = await Promise.all(pages.map(({ agent, token }) => agent.post('/2fa/recovery').type('form').send({ _csrf: token, recoveryCode: recoveryCodes[0] })));
      assert.equal(results.filter((r) => r.status === 200).length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      assert.equal(results.filter((r) => r.status === 401 || r.status === 429).length, 19);
      assert.equal(portal.events.filter((e) => e.type === 'recovery_code_used').length, 1);
      assert.equal((await portal.store.getUser('u8'))?.recoveryCodes?.length, 9);
    });
  });
});
