import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import { portalToken, startPortal } from './helpers/portal.js';

function sessionCookieLine(res: supertest.Response): string {
  const line = (res.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('portal.sid='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
  return line;
}

const attributes = (line: string) => line.split(';').slice(1).map((part) => part.trim().split('=')[0]!.toLowerCase());

describe('the example portal’s session cookie', () => {
  it('is HttpOnly and SameSite=Lax, and not Secure over plain HTTP (development)', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    const _csrf = await portalToken(agent);
    const res = await agent.post('/login').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' }).expect(303);
    const line = sessionCookieLine(res);
    assert.ok(attributes(line).includes('httponly'), `HttpOnly: ${line}`);
    assert.match(line, /; SameSite=Lax(;|$)/);
    assert.match(line, /; Path=\/(;|$)/);
    assert.ok(!attributes(line).includes('secure'), `not Secure over HTTP: ${line}`);
  });

  it('is Secure behind an HTTPS proxy on loopback that `trust proxy` trusts', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    // The login page over plain HTTP: a Secure cookie from it would not be sent back here.
    const _csrf = await portalToken(agent);
    const res = await agent.post('/login').set('X-Forwarded-Proto', 'https').type('form').send({ _csrf, username: 'acme.ops', password: 'demo-password' }).expect(303);
    const line = sessionCookieLine(res);
    assert.ok(attributes(line).includes('secure'), `Secure: ${line}`);
    assert.ok(attributes(line).includes('httponly'), `HttpOnly: ${line}`);
    assert.match(line, /; SameSite=Lax(;|$)/);
  });

  it('trusts forwarded headers only from loopback, not from any client', () => {
    const portal = startPortal();
    const trusted = portal.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    assert.equal(trusted('127.0.0.1', 0), true);
    assert.equal(trusted('203.0.113.9', 0), false, 'a client on the internet cannot claim HTTPS');
  });
});
