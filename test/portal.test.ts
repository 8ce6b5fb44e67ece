import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { csrfFrom, enrolTotp, portalToken, signIn, signOut, startPortal } from './helpers/portal.js';

describe('the example portal’s own forms', () => {
  it('refuses a login form without the token of its login page, and checks no password', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    const forged = await agent.post('/login').type('form').send({ username: 'acme.ops', password: 'demo-password', returnTo: '/api/me' });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /role="alert"><p>This sign-in form has expired\. Please sign in again\.<\/p>/);
    assert.match(forged.text, /name="returnTo" value="\/api\/me"/, 'the form again, where it was going');
    assert.equal(portal.events.length, 0, 'no sign-in started');

    // The form on that answer carries a token that works.
    const retried = await agent.post('/login').type('form').send({ _csrf: csrfFrom(forged.text), username: 'acme.ops', password: 'demo-password' });
    assert.equal(retried.status, 303);
    assert.equal(retried.headers.location, '/2fa/enrol');
  });

  it('does not carry the login page’s session into the sign-in: the password step gives a new session id', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    const page = await agent.get('/login').expect(200);
    assert.equal(page.headers['cache-control'], 'no-store', 'a cached page would hold a dead token');
    const before = (page.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0];
    const login = await signIn(agent, 'acme.ops');
    const after = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0];
    assert.notEqual(after, before);
  });

  it('signs out only with the token of its pages, then says so on the login page', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    await enrolTotp(agent, portal.clock);
    const dashboard = await agent.get('/dashboard').expect(200);
    assert.match(dashboard.text, /<form method="post" action="\/logout"><input type="hidden" name="_csrf" value="[^"]+"><button/);

    const forged = await agent.post('/logout').type('form').send({});
    assert.equal(forged.status, 403);
    assert.match(forged.text, /<a href="\/dashboard">Back to the portal<\/a>/);
    await agent.get('/dashboard').expect(200);

    const out = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(dashboard.text) }).expect(303);
    assert.equal(out.headers.location, '/login?signedOut=1');
    const login = await agent.get(out.headers.location).expect(200);
    assert.match(login.text, /<div class="sf-notice" role="status"><p>You’re signed out\.<\/p><\/div>/);
    await agent.get('/dashboard').expect(303);
    assert.doesNotMatch((await agent.get('/login')).text, /signed out/, 'only right after signing out');
  });

  it('styles every input of its login form with the package’s stylesheet', async () => {
    const portal = startPortal();
    const page = await portal.agent().get('/login').expect(200);
    const types = [...page.text.matchAll(/<input [^>]*type="([a-z]+)"/g)].map((m) => m[1]!).filter((type) => type !== 'hidden');
    assert.deepEqual(types, ['text', 'password']);
    const css = readFileSync(new URL('../public/second-factor.css', import.meta.url), 'utf8');
    const styled = /^(input\[type=[^{]+)\{/m.exec(css)?.[1] ?? '';
    for (const type of types) assert.match(styled, new RegExp(`input\\[type=${type}\\]`), `input[type=${type}] is styled`);
  });

  it('keeps one token per session for its forms and the package’s: a signed-in page’s token signs out', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    const { done } = await enrolTotp(agent, portal.clock);
    assert.equal(done.status, 303);
    const settings = await agent.get('/2fa/settings').expect(200);
    assert.equal(csrfFrom(settings.text), await portalToken(agent));
    await signOut(agent);
  });
});
