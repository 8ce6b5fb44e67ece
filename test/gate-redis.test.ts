import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'mocha';
import { continueAfterCodes, csrfFrom, signIn, startPortal, submitCode, totpKeyFrom } from './helpers/portal.js';
import { redisForSuite } from './helpers/redis-suite.js';

/** Codes from oathtool, an independent TOTP implementation, at the test clock's time. */
function oathtoolCode(secret: string, ms: number): string {
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${Math.floor(ms / 1000)}`], { encoding: 'utf8' }).trim();
}

describe('the second-factor gate on Redis (sessions and 2FA state)', () => {
  const redis = redisForSuite();

  it('enrols and verifies with codes from oathtool, with everything kept in Redis', async () => {
    const portal = startPortal({ redis: redis.client });
    const agent = portal.agent();
    await signIn(agent, 'northwind.admin');
    const choose = await agent.get('/2fa/enrol').expect(200);
    await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
    const page = await agent.get('/2fa/enrol/totp').expect(200);
    const secret = totpKeyFrom(page.text);
    const shown = await agent.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: oathtoolCode(secret, portal.clock.t) }).expect(200);
    await continueAfterCodes(agent, shown);
    await agent.get('/dashboard').expect(200);

    const stored = await redis.client.get('sf:user:{u3}');
    assert.ok(stored, 'the record lives in Redis');
    assert.ok(!stored.includes(secret), 'sealed, not in clear');
    const sessions = await redis.client.keys('portal-sess:*');
    assert.ok(sessions.length >= 1, 'sessions live in Redis');

    portal.clock.advance(30);
    const next = portal.agent();
    await signIn(next, 'northwind.admin');
    assert.equal((await submitCode(next, oathtoolCode(secret, portal.clock.t))).status, 303);
    await next.get('/dashboard').expect(200);
  });

  it('counts failures across sessions in Redis and locks at 10', async () => {
    const portal = startPortal({ redis: redis.client });
    const enrol = portal.agent();
    await signIn(enrol, 'southpaw.admin');
    const choose = await enrol.get('/2fa/enrol');
    await enrol.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' });
    const page = await enrol.get('/2fa/enrol/totp');
    const secret = totpKeyFrom(page.text);
    await enrol.post('/2fa/enrol/totp').type('form').send({ _csrf: csrfFrom(page.text), code: oathtoolCode(secret, portal.clock.t) }).expect(200);
    portal.clock.advance(30);
    const wrong = String((Number(oathtoolCode(secret, portal.clock.t)) + 3) % 1_000_000).padStart(6, '0');
    const agents = [portal.agent(), portal.agent()];
    for (const agent of agents) await signIn(agent, 'southpaw.admin');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await submitCode(agents[i % 2]!, wrong)).status);
    assert.equal(statuses.filter((s) => s === 401).length, 9);
    assert.equal(statuses[9], 429);
    assert.equal((await submitCode(agents[0]!, oathtoolCode(secret, portal.clock.t))).status, 429);
  });
});
