import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { codeAt, continueAfterCodes, csrfFrom, enrolTotp, sessionCookie, signIn, signOut, startPortal, submitCode, totpKeyFrom } from './helpers/portal.js';

describe('the second-factor gate (authenticator app, memory store)', () => {
  it('enrols an authenticator app, then asks for a code at the next sign-in', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const landing = await agent.get('/2fa').expect(303);
    assert.equal(landing.headers.location, '/2fa/enrol');

    const choose = await agent.get('/2fa/enrol').expect(200);
    assert.match(choose.text, /Authenticator app \(recommended\)/);
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const page = await agent.get('/2fa/enrol/totp').expect(200);
    assert.match(page.text, /<svg[^>]*>/, 'a QR code rendered inline');
    assert.doesNotMatch(page.text, /https?:\/\/(?!www\.w3\.org)[^"']*qr/i, 'no third-party QR service');
    const secret = totpKeyFrom(page.text);
    assert.equal(secret.length, 32);

    const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t) }).expect(200);
    assert.match(shown.text, /Save your recovery codes/);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
    const { done } = await continueAfterCodes(agent, shown);
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, '/');
    await agent.get('/dashboard').expect(200).expect(/Welcome, <strong>Abe Acme/);
    assert.deepEqual(portal.events.map((e) => e.type), ['challenge_started', 'enrolled']);

    // The secret is shown only before confirmation and is stored encrypted.
    const again = await agent.get('/2fa/enrol/totp');
    assert.notEqual(again.status, 200);
    const record = await portal.store.getUser('u6');
    assert.equal(record?.method, 'totp');
    assert.ok(record?.secret && !record.secret.includes(secret), 'secret sealed at rest');

    await signOut(agent);
    await agent.get('/dashboard').expect(303).expect('location', '/login?returnTo=%2Fdashboard');

    await signIn(agent, 'acme.ops');
    await agent.get('/2fa').expect(303).expect('location', '/2fa/verify');
    portal.clock.advance(30);
    const wrong = await submitCode(agent, codeAt(secret, portal.clock.t - 5 * 60_000));
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /role="alert"/);
    assert.match(wrong.text, /That code didn’t work/);
    const right = await submitCode(agent, codeAt(secret, portal.clock.t));
    assert.equal(right.status, 303);
    await agent.get('/dashboard').expect(200);
  });

  it('holds a password-only session at the wall: a redirect for pages, 401 JSON for the API', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'bot.ops');
    const html = await agent.get('/dashboard').set('Accept', 'text/html').expect(303);
    assert.equal(html.headers.location, '/2fa');
    assert.doesNotMatch(html.text, /Welcome/);
    const api = await agent.get('/api/me').set('Accept', 'application/json').expect(401);
    assert.equal(api.body.error, 'second_factor_required');
    assert.equal(api.body.id, undefined);
    // Routes in front of the guard still work.
    await agent.get('/login').expect(200);
    await agent.get('/2fa/assets/second-factor.css').expect(200);
  });

  it('lands on the page first asked for, and only on a same-site path', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'bot.ops', '/api/me?x=1');
    const { done } = await enrolTotp(agent, portal.clock);
    assert.equal(done.headers.location, '/api/me?x=1');

    for (const hostile of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      portal.clock.advance(30);
      const other = portal.agent();
      await signIn(other, 'bot.admin', hostile);
      const { done: landed } = await enrolTotp(other, portal.clock);
      assert.equal(landed.headers.location, '/', `refused ${hostile}`);
      await portal.store.deleteUser('u1');
    }
  });

  it('gives the session a new id at the password step and again after the second factor', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    const before = sessionCookie(await agent.get('/2fa/enrol'));
    const login = await signIn(agent, 'acme.admin');
    const pendingId = sessionCookie(login);
    assert.ok(pendingId);
    const { done } = await enrolTotp(agent, portal.clock);
    const doneId = sessionCookie(done);
    assert.ok(doneId);
    assert.notEqual(doneId, pendingId);
    assert.notEqual(pendingId, before);
    // The old pending session id is worthless now.
    const stale = portal.agent();
    stale.jar.setCookie(`${pendingId}; Path=/`);
    await stale.get('/dashboard').expect(303).expect('location', /^\/login/);
  });

  it('refuses a code that was already accepted, across sessions', async () => {
    const portal = startPortal();
    const first = portal.agent();
    await signIn(first, 'northwind.ops');
    const { secret } = await enrolTotp(first, portal.clock);
    const enrolCode = codeAt(secret, portal.clock.t);

    const second = portal.agent();
    await signIn(second, 'northwind.ops');
    const replay = await submitCode(second, enrolCode);
    assert.equal(replay.status, 401, 'the enrolment code cannot sign in again');

    portal.clock.advance(30);
    const fresh = codeAt(secret, portal.clock.t);
    const third = portal.agent();
    await signIn(third, 'northwind.ops');
    assert.equal((await submitCode(second, fresh)).status, 303);
    assert.equal((await submitCode(third, fresh)).status, 401, 'the same code in another session is refused');
    // Still inside the drift window, an older step is refused too once a newer one was used.
    assert.equal((await submitCode(third, codeAt(secret, portal.clock.t - 30_000))).status, 401);
  });

  it('says a right code refused as already used so, and still counts it as a failed attempt', async () => {
    const portal = startPortal();
    const first = portal.agent();
    await signIn(first, 'northwind.ops');
    const { secret } = await enrolTotp(first, portal.clock);
    const used = codeAt(secret, portal.clock.t);
    const again = portal.agent();
    await signIn(again, 'northwind.ops');

    const replay = await submitCode(again, used);
    assert.equal(replay.status, 401);
    assert.match(replay.text, /role="alert"[^>]*>\s*<p>That code was already used\. Wait for the next one in your app\.<\/p>/);
    assert.equal(portal.events.filter((e) => e.type === 'failed' && e.userId === 'u4').length, 1, 'a failed attempt, as before');
    const near = new Set([-30_000, 0, 30_000].map((ms) => codeAt(secret, portal.clock.t + ms)));
    let notRight = used;
    while (near.has(notRight)) notRight = String((Number(notRight) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await submitCode(again, notRight);
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /That code didn’t work/, 'a code that is not right says nothing about use');
    assert.doesNotMatch(wrong.text, /already used/);

    portal.clock.advance(30);
    assert.equal((await submitCode(again, codeAt(secret, portal.clock.t))).status, 303, 'the next code works');
  });

  it('accepts exactly one of 20 parallel copies of one valid code', async () => {
    const portal = startPortal();
    const enrol = portal.agent();
    await signIn(enrol, 'southpaw.ops');
    const { secret } = await enrolTotp(enrol, portal.clock);
    portal.clock.advance(30);
    const code = codeAt(secret, portal.clock.t);
    const agents = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const agent = portal.agent();
        await signIn(agent, 'southpaw.ops');
        const page = await agent.get('/2fa/verify').expect(200);
        return { agent, token: csrfFrom(page.text) };
      }),
    );
    const results = await Promise.all(agents.map(({ agent, token }) => agent.post('/2fa/verify').type('form').send({ _csrf: token, code })));
    assert.equal(results.filter((r) => r.status === 303).length, 1);
    // The 19 refused copies count as failed attempts, so the later ones meet the lock.
    assert.equal(results.filter((r) => r.status === 401 || r.status === 429).length, 19);
  });

  it('locks after 10 wrong codes spread over several sessions, without saying whether the last was right', async () => {
    const portal = startPortal();
    const enrol = portal.agent();
    await signIn(enrol, 'globex.ops');
    const { secret } = await enrolTotp(enrol, portal.clock);
    portal.clock.advance(30);
    const wrong = String((Number(codeAt(secret, portal.clock.t)) + 1) % 1_000_000).padStart(6, '0');
    const sessions = [portal.agent(), portal.agent(), portal.agent()];
    for (const agent of sessions) await signIn(agent, 'globex.ops');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await submitCode(sessions[i % 3]!, wrong)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
    const locked = await submitCode(sessions[1]!, codeAt(secret, portal.clock.t));
    assert.equal(locked.status, 429, 'a right code is refused while locked');
    assert.match(locked.text, /locked/i);
    assert.doesNotMatch(locked.text, /didn’t work/);
    assert.ok(Number(locked.headers['retry-after']) > 0);
    const fresh = portal.agent();
    await signIn(fresh, 'globex.ops');
    await fresh.get('/2fa/verify').expect(429);
    assert.ok(portal.events.some((e) => e.type === 'locked' && e.userId === 'u10'));
  });

  it('evaluates at most one of 50 parallel wrong codes at one below the limit', async () => {
    const portal = startPortal();
    const enrol = portal.agent();
    await signIn(enrol, 'acme.admin');
    const { secret } = await enrolTotp(enrol, portal.clock);
    portal.clock.advance(30);
    const wrong = String((Number(codeAt(secret, portal.clock.t)) + 7) % 1_000_000).padStart(6, '0');
    const agent = portal.agent();
    await signIn(agent, 'acme.admin');
    for (let i = 0; i < 9; i += 1) assert.equal((await submitCode(agent, wrong)).status, 401);
    const page = await agent.get('/2fa/verify').expect(200);
    const token = csrfFrom(page.text);
    const burst = await Promise.all(Array.from({ length: 50 }, () => agent.post('/2fa/verify').type('form').send({ _csrf: token, code: wrong })));
    const evaluated = portal.events.filter((e) => (e.type === 'failed' || e.type === 'locked') && e.userId === 'u5').length;
    assert.equal(evaluated, 10, 'nine before the burst and exactly one inside it');
    assert.ok(burst.every((r) => r.status === 429 || r.status === 401));
    assert.equal(burst.filter((r) => r.status === 401).length, 0, 'the one evaluated failure locked the account');
  });

  it('refuses a form without its CSRF token, and nothing changes', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'bot.admin');
    const choose = await agent.get('/2fa/enrol').expect(200);
    const missing = await agent.post('/2fa/enrol').type('form').send({ method: 'totp' });
    assert.equal(missing.status, 403);
    assert.match(missing.text, /form has expired/);
    const wrong = await agent.post('/2fa/enrol').type('form').send({ method: 'totp', _csrf: 'x'.repeat(256) });
    assert.equal(wrong.status, 403);
    await agent.get('/2fa/enrol/totp').expect(303).expect('location', '/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const page = await agent.get('/2fa/enrol/totp').expect(200);
    const secret = totpKeyFrom(page.text);
    const noToken = await agent.post('/2fa/enrol/totp').type('form').send({ code: codeAt(secret, portal.clock.t) });
    assert.equal(noToken.status, 403);
    assert.equal(await portal.store.getUser('u1'), null, 'nothing saved');
    assert.ok(!portal.events.some((e) => e.type === 'failed'), 'no attempt counted');
  });

  it('answers malformed codes with a clear 4xx page, never a 500, and counts no attempt', async () => {
    const portal = startPortal();
    const enrol = portal.agent();
    await signIn(enrol, 'bot.ops');
    await enrolTotp(enrol, portal.clock);
    const agent = portal.agent();
    await signIn(agent, 'bot.ops');
    const bad: unknown[] = ['', 'abcdef', '12345', '1234567', '12 34 5a', ['123456', '654321'], { a: '1' }];
    for (const code of bad) {
      const res = await submitCode(agent, code);
      assert.equal(res.status, 400, `code ${JSON.stringify(code)}`);
      assert.match(res.text, /Enter the 6-digit code/);
      assert.match(res.text, /aria-invalid="true"/);
    }
    const page = await agent.get('/2fa/verify');
    const huge = await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: '1'.repeat(10_240) });
    assert.equal(huge.status, 413);
    assert.match(huge.text, /far larger than this form accepts/);
    assert.doesNotMatch(huge.text, /at \w+ \(|node_modules|Error:/, 'no stack trace');
    assert.ok(!portal.events.some((e) => e.type === 'failed'), 'malformed codes are not attempts');
  });

  it('ends a pending sign-in after 10 minutes: the password is needed again', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    await agent.get('/2fa/enrol').expect(200);
    portal.clock.advance(601);
    const expired = await agent.get('/2fa/enrol');
    assert.equal(expired.status, 401);
    assert.match(expired.text, /Sign in again/);
    await agent.get('/dashboard').expect(303).expect('location', /^\/login/);
  });

  it('signs out from the 2FA pages', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const page = await agent.get('/2fa/enrol');
    await agent.post('/2fa/logout').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303).expect('location', '/login');
    await agent.get('/2fa/enrol').expect(401);
  });

  it('marks every page up for assistive technology', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const choose = await agent.get('/2fa/enrol');
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' });
    const page = await agent.get('/2fa/enrol/totp');
    assert.match(page.text, /<label for="code">/);
    assert.match(page.text, /autocomplete="one-time-code"/);
    assert.match(page.text, /inputmode="numeric"/);
    assert.doesNotMatch(page.text, /<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>/, 'no inline script');
    assert.equal(page.headers['cache-control'], 'no-store');
  });
});
