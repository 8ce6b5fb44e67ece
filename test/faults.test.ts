import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { createClient, type RedisClientType } from 'redis';
import { codeAt, csrfFrom, enrolTotp, signIn, startPortal } from './helpers/portal.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('failing closed when Redis goes away', () => {
  let server: RedisServer;
  let client: RedisClientType<any, any, any, any, any>;

  before(async () => {
    server = await startRedis();
    // disableOfflineQueue: commands fail at once while disconnected instead of waiting, and
    // the client reconnects by itself when the server is back.
    client = createClient({ url: server.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
  });

  after(async () => {
    await client?.quit().catch(() => {});
    await server?.stop();
  });

  it('answers 503 on guarded and 2FA routes while Redis is down, never the content, and recovers', async () => {
    const portal = startPortal({ redis: client });
    const verified = portal.agent();
    await signIn(verified, 'bot.ops');
    const { secret } = await enrolTotp(verified, portal.clock);
    await verified.get('/dashboard').expect(200);
    portal.clock.advance(30);
    const pending = portal.agent();
    await signIn(pending, 'bot.ops');
    const verifyPage = await pending.get('/2fa/verify').expect(200);

    await server.stop();
    await until(async () => !client.isReady, 'the client to notice');

    const page = await verified.get('/dashboard').set('Accept', 'text/html');
    assert.equal(page.status, 503);
    assert.match(page.text, /can’t verify your sign-in right now/);
    assert.doesNotMatch(page.text, /Welcome|at \w+ \(|node_modules/);
    const api = await verified.get('/api/me').set('Accept', 'application/json');
    assert.equal(api.status, 503);
    assert.deepEqual(Object.keys(api.body), ['error']);

    const verify = await pending.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(verifyPage.text), code: codeAt(secret, portal.clock.t) });
    assert.equal(verify.status, 503);
    assert.doesNotMatch(verify.headers.location ?? '', /dashboard|^\/$/);
    const fresh = portal.agent();
    // The login page still shows (its session, holding the form's token, cannot be stored);
    // the form it sends meets the session store that is down.
    const loginPage = await fresh.get('/login').expect(200);
    const login = await fresh.post('/login').type('form').send({ _csrf: csrfFrom(loginPage.text), username: 'bot.ops', password: 'demo-password' });
    assert.equal(login.status, 503, 'a new sign-in cannot start either');

    await server.start();
    await until(async () => client.isReady, 'the client to reconnect');

    // The server came back empty (no persistence): sessions are gone, enrolment too; a new
    // sign-in works end to end again.
    const again = portal.agent();
    await signIn(again, 'bot.ops');
    await enrolTotp(again, portal.clock);
    await again.get('/dashboard').expect(200);
    // Sessions live in the same Redis: a request with a session cookie fails in express-session
    // first, and is logged as the session store's failure.
    assert.ok(portal.logs.some((line) => /^error second factor: (session_)?store_unavailable/.test(line)), portal.logs.join('\n'));
    for (const line of portal.logs) assert.ok(!line.includes(secret), 'no secret in the logs');
  });
});
