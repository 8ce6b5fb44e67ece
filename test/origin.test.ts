import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import { nextCode, pendingVerify, signedInToken, startPortal, type TestPortal } from './helpers/portal.js';
import { filled, stateChangingRoutes } from './helpers/routes.js';

const HOST = 'portal.example';
const FOREIGN = 'http://attacker.example';

/** A POST with a valid token for the session, sent to our own host name. */
const post = (agent: supertest.Agent, path: string, token: string, headers: Record<string, string>) =>
  agent.post(path).set('host', HOST).set('accept', 'application/json').set(headers).type('form').send({ _csrf: token, code: '123456', method: 'totp', mode: 'off', reason: 'Lost their phone' });

const foreignRequests: readonly Record<string, string>[] = [
  { origin: FOREIGN },
  { origin: 'https://portal.example', 'sec-fetch-site': 'same-origin' },
  { origin: 'null', 'sec-fetch-site': 'cross-site' },
  { 'sec-fetch-site': 'cross-site' },
  { origin: 'not a url' },
  { origin: `http://${HOST}`, 'sec-fetch-site': 'cross-site' },
];

describe('cross-origin state-changing requests', () => {
  it('refuses a foreign Origin or Sec-Fetch-Site: cross-site with 403 on every state-changing route of the person’s router, changing nothing', async () => {
    const portal = startPortal();
    const routes = stateChangingRoutes(portal.twoFactor.router);
    assert.ok(routes.length >= 15, `found ${routes.length} routes`);
    for (const { path } of routes) {
      for (const kind of ['pending', 'signed in'] as const) {
        const agent = portal.agent();
        const token = kind === 'pending' ? (await pendingVerify(portal, agent, 'globex.ops')).token : await signedInToken(portal, agent, 'globex.ops');
        const before = portal.events.length;
        for (const headers of foreignRequests) {
          const res = await post(agent, `/2fa${path}`, token, headers);
          assert.equal(res.status, 403, `${kind}: ${JSON.stringify(headers)} to ${path}: ${res.status} ${res.text.slice(0, 200)}`);
          assert.deepEqual(res.body, { error: 'csrf' });
        }
        assert.deepEqual(portal.events.slice(before), [], `${kind}: nothing happened on ${path}`);
        const still = await agent.get(kind === 'pending' ? '/2fa/verify' : '/dashboard');
        assert.equal(still.status, 200, `${kind}: the session lives on after ${path}`);
      }
    }
    assert.equal((await portal.store.getUser('u10'))?.method, 'totp', 'the factor is untouched');
  });

  it('refuses them with 403 on every state-changing route of the admin router, changing nothing', async () => {
    const portal = startPortal();
    const routes = stateChangingRoutes(portal.twoFactor.adminRouter, ['/policy']);
    assert.ok(routes.some((r) => r.path === '/policy') && routes.some((r) => r.path === '/users/:id/reset'), JSON.stringify(routes));
    await pendingVerify(portal, portal.agent(), 'northwind.ops');
    const agent = portal.agent();
    const token = await signedInToken(portal, agent, 'bot.admin');
    const before = portal.events.length;
    for (const { path } of routes) {
      for (const headers of foreignRequests) {
        const res = await post(agent, `/admin/2fa${filled(path, { id: 'u4' })}`, token, headers);
        assert.equal(res.status, 403, `${JSON.stringify(headers)} to ${path}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.deepEqual(res.body, { error: 'csrf' });
      }
    }
    assert.deepEqual(portal.events.slice(before), [], 'no reset, unlock or policy change, not even a refused one');
    assert.equal((await portal.store.getUser('u4'))?.method, 'totp', 'Ned’s factor is untouched');
    // The same token from this site still acts.
    await post(agent, '/admin/2fa/api/users/u4/reset', token, { origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' }).expect(200);
    assert.equal((await portal.store.getUser('u4'))?.method, undefined);
  });

  it('allows its own origin (default port or not, https through trust proxy), same-site, none, and no (or a null) Origin', async () => {
    const portal = startPortal();
    const allowed: readonly Record<string, string>[] = [
      {},
      { origin: `http://${HOST}` },
      { origin: `http://${HOST}:80` },
      { origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'none' },
      // What a browser sends for the page's own form under Referrer-Policy: no-referrer (helmet's default).
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
      { origin: 'null' },
      // The portal trusts its loopback proxy: the scheme the browser used is https.
      { origin: `https://${HOST}`, 'x-forwarded-proto': 'https' },
    ];
    for (const headers of allowed) {
      const agent = portal.agent();
      const { secret, token } = await pendingVerify(portal, agent, 'acme.ops');
      const res = await post(agent, '/2fa/verify', token, headers).send({ code: nextCode(portal, secret) });
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.body.status, 'done');
    }
  });

  it('refuses https pages posting to an app that sees http: the scheme is part of the origin', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    const { token } = await pendingVerify(portal, agent, 'acme.ops');
    const res = await post(agent, '/2fa/verify', token, { origin: `https://${HOST}` });
    assert.equal(res.status, 403);
  });
});
