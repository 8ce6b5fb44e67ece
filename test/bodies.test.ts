import assert from 'node:assert/strict';
import express from 'express';
import { describe, it } from 'mocha';
import supertest from 'supertest';
import { codeAt, pendingVerify, signedInToken, startPortal, type TestPortal } from './helpers/portal.js';
import { filled, stateChangingRoutes } from './helpers/routes.js';

/** A body as a client sends it: its content type and its bytes. */
interface Body {
  readonly name: string;
  readonly type: string;
  readonly text: string;
}

const multipart = '--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n123456\r\n--x--\r\n';

const jsonBodies: readonly Body[] = [
  { name: 'a boolean code', type: 'application/json', text: '{"code":true}' },
  { name: 'an operator object', type: 'application/json', text: '{"code":{"$ne":null}}' },
  { name: 'an array code', type: 'application/json', text: '{"code":["123456"]}' },
  { name: 'an array body', type: 'application/json', text: '["123456"]' },
  { name: 'truncated JSON', type: 'application/json', text: '{"code":"12' },
  { name: 'a 10 kB string', type: 'application/json', text: JSON.stringify({ code: '1'.repeat(10_000) }) },
];
const otherBodies: readonly Body[] = [
  { name: 'text/plain', type: 'text/plain', text: 'code=123456' },
  { name: 'application/xml', type: 'application/xml', text: '<code>123456</code>' },
  { name: 'multipart', type: 'multipart/form-data; boundary=x', text: multipart },
];
const allBodies = [...jsonBodies, ...otherBodies];

/** The portal as it is (no JSON parser of its own), or behind a host that parses JSON everywhere. */
function hosted(portal: TestPortal, hostParsesJson: boolean): () => supertest.Agent {
  if (!hostParsesJson) return () => portal.agent();
  const host = express();
  host.use(express.json());
  host.use(portal.app);
  return () => supertest.agent(host);
}

const post = (agent: supertest.Agent, path: string, token: string, body: Body) =>
  agent.post(path).set('x-csrf-token', token).set('accept', 'application/json').set('content-type', body.type).send(body.text);

const errorsLogged = (portal: TestPortal) => portal.logs.filter((line) => line.startsWith('error'));

for (const hostParsesJson of [false, true]) {
  describe(`request bodies ${hostParsesJson ? 'behind a host that parses JSON everywhere' : 'on the portal as it is'}`, () => {
    it('refuses every malformed body to the code page with a 400, 413 or 415, counting no attempt', async () => {
      const portal = startPortal();
      const agent = hosted(portal, hostParsesJson)();
      const { token } = await pendingVerify(portal, agent);
      const expected: Record<string, number> = {
        'a boolean code': 400, 'an operator object': 400, 'an array code': 400, 'an array body': 400, 'truncated JSON': 400,
        // Ours stops reading at 4 kB; a host's parser takes it, and the code reader refuses it.
        'a 10 kB string': hostParsesJson ? 400 : 413,
        'text/plain': 415, 'application/xml': 415, multipart: 415,
      };
      for (const body of allBodies) {
        const res = await post(agent, '/2fa/verify', token, body);
        assert.equal(res.status, expected[body.name], `${body.name}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      assert.deepEqual(portal.events.filter((e) => e.type === 'failed' || e.type === 'locked'), [], 'none counted as a wrong code');
      assert.deepEqual(errorsLogged(portal), [], 'nothing read as an outage');
    });

    it('reads a JSON body: the right code in JSON finishes the sign-in', async () => {
      const portal = startPortal();
      const agent = hosted(portal, hostParsesJson)();
      const { secret, token } = await pendingVerify(portal, agent);
      portal.clock.advance(30);
      const res = await agent.post('/2fa/verify').set('x-csrf-token', token).set('accept', 'application/json').send({ code: codeAt(secret, portal.clock.t) });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { status: 'done', next: '/' });
    });

    it('answers every body to every state-changing route of the person’s router without a 5xx, the unreadable ones unread', async () => {
      const portal = startPortal();
      const routes = stateChangingRoutes(portal.twoFactor.router);
      assert.ok(routes.length >= 15, `found ${routes.length} routes`);
      const newAgent = hosted(portal, hostParsesJson);
      for (const { path } of routes) {
        // A fresh session per route: a body that parses may act (sign out, skip) and end it.
        for (const kind of ['pending', 'signed in'] as const) {
          const agent = newAgent();
          const token = kind === 'pending' ? (await pendingVerify(portal, agent, 'globex.ops')).token : await signedInToken(portal, agent);
          for (const body of allBodies) {
            const res = await post(agent, `/2fa${path}`, token, body);
            assert.ok(res.status < 500, `${kind}: ${body.name} to ${path}: ${res.status} ${res.text.slice(0, 200)}`);
            // Unread: refused, or (a finished sign-in's form sent again) redirected onwards.
            if (otherBodies.includes(body)) assert.ok(res.status === 415 || res.status === 303 || res.body?.status === 'done', `${kind}: ${body.name} to ${path} is refused unread: ${res.status}`);
          }
        }
      }
      assert.deepEqual(errorsLogged(portal), []);
    });

    it('answers every body to every state-changing route of the admin router without a 5xx, the unreadable ones unread', async () => {
      const portal = startPortal();
      const routes = stateChangingRoutes(portal.twoFactor.adminRouter, ['/policy']);
      assert.ok(routes.some((r) => r.path === '/policy') && routes.some((r) => r.path === '/api/users/:id/reset'), JSON.stringify(routes));
      const agent = hosted(portal, hostParsesJson)();
      const token = await signedInToken(portal, agent, 'bot.admin');
      for (const { path } of routes) {
        for (const body of allBodies) {
          const res = await post(agent, `/admin/2fa${filled(path, { id: 'u4' })}`, token, body);
          assert.ok(res.status < 500, `${body.name} to ${path}: ${res.status} ${res.text.slice(0, 200)}`);
          if (otherBodies.includes(body)) assert.equal(res.status, 415, `${body.name} to ${path} is refused unread`);
        }
      }
      assert.deepEqual(errorsLogged(portal), []);
    });
  });
}
