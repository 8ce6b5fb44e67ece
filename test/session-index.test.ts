import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'mocha';
import type supertest from 'supertest';
import { codeAt, csrfFrom, enrolTotp, signIn, startPortal, type TestPortal } from './helpers/portal.js';
import { redisForSuite, type RedisClient } from './helpers/redis-suite.js';

/** Enrols an authenticator app in a first browser, which stays signed in; returns it and the secret. */
async function enrolled(portal: TestPortal, username: string) {
  const agent = portal.agent();
  await signIn(agent, username);
  const { secret } = await enrolTotp(agent, portal.clock);
  portal.clock.advance(30);
  return { agent, secret };
}

/** Another browser of the same person, verified with a fresh code and "Remember this device" ticked. */
async function alsoSignedIn(portal: TestPortal, username: string, secret: string): Promise<supertest.Agent> {
  const agent = portal.agent();
  await signIn(agent, username);
  const page = await agent.get('/2fa/verify').expect(200);
  const res = await agent.post('/2fa/verify').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(secret, portal.clock.t), remember: '1' });
  assert.equal(res.status, 303, res.text.slice(0, 300));
  portal.clock.advance(30);
  return agent;
}

/** Every key of the Redis server, listed with SCAN. */
async function allKeys(client: RedisClient): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ COUNT: 500 })) keys.push(...[batch].flat().map(String));
  return keys.sort();
}

/** Calls of each command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCounts(client: RedisClient): Promise<Map<string, number>> {
  const info = String(await client.info('commandstats'));
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** What `run` made Redis do, counted by command (nothing else runs meanwhile). */
async function countedDuring(client: RedisClient, run: () => Promise<void>): Promise<Map<string, number>> {
  await client.configResetStat();
  await run();
  return commandCounts(client);
}

async function resetAs(admin: supertest.Agent, targetId: string): Promise<void> {
  const confirm = await admin.get(`/admin/2fa/users/${targetId}/reset`).expect(200);
  await admin.post(`/admin/2fa/users/${targetId}/reset`).type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);
}

const signedInAt = async (agent: supertest.Agent) => (await agent.get('/dashboard')).status === 200;

describe('the per-person session index, on Redis with connect-redis sessions', () => {
  const redis = redisForSuite();
  // Each test enrols its people afresh: no record may be left from the one before.
  beforeEach(async () => {
    await redis.client.flushAll();
  });

  it('indexes finished sessions under the person\'s hash tag and forgets one at sign-out', async () => {
    const portal = startPortal({ redis: redis.client });
    const { agent, secret } = await enrolled(portal, 'globex.ops');
    const second = await alsoSignedIn(portal, 'globex.ops', secret);
    const indexed = await redis.client.zRange('sf:sessions:{u10}', 0, -1);
    assert.equal(indexed.length, 2);
    for (const sid of indexed) assert.equal(await redis.client.exists(`portal-sess:${sid}`), 1, 'each entry names a live session');
    const ttl = Number(await redis.client.ttl('sf:sessions:{u10}'));
    assert.ok(ttl > 7 * 3600 && ttl <= 8 * 3600, `the index lives as long as the 8 h session cookie (ttl ${ttl})`);
    // The package's own sign-out (a host's own logout route leaves an entry that names a
    // destroyed session: harmless, and gone with its TTL).
    const settings = await second.get('/2fa/settings').expect(200);
    await second.post('/2fa/logout').type('form').send({ _csrf: csrfFrom(settings.text) }).expect(303);
    assert.equal((await redis.client.zRange('sf:sessions:{u10}', 0, -1)).length, 1);
    assert.ok(await signedInAt(agent));
  });

  it('a reset ends exactly the person\'s 3 sessions with no SCAN, and leaves no key of their old factor', async () => {
    const portal = startPortal({ redis: redis.client });
    const ned = await enrolled(portal, 'northwind.ops');
    const nedAgents = [ned.agent, await alsoSignedIn(portal, 'northwind.ops', ned.secret), await alsoSignedIn(portal, 'northwind.ops', ned.secret)];
    const abe = await enrolled(portal, 'acme.ops');
    const abeAgents = [abe.agent, await alsoSignedIn(portal, 'acme.ops', abe.secret)];
    const { agent: admin } = await enrolled(portal, 'bot.admin');
    const nedSessions = await redis.client.zRange('sf:sessions:{u4}', 0, -1);
    assert.equal(nedSessions.length, 3);
    const oldRecord = String(await redis.client.get('sf:user:{u4}'));
    const { secret: sealed, recoveryCodes: joined } = JSON.parse(oldRecord) as { secret: string; recoveryCodes: string };
    // RedisStore keeps the hashes joined in one string.
    const recoveryCodes = joined.split(',');
    assert.equal(recoveryCodes.length, 10);
    const nedKeysBefore = (await allKeys(redis.client)).filter((key) => key.includes('{u4}'));
    assert.ok(nedKeysBefore.some((key) => key.startsWith('sf:device:{u4}:')), `remembered devices are stored: ${nedKeysBefore.join(', ')}`);

    const counts = await countedDuring(redis.client, () => resetAs(admin, 'u4'));
    assert.equal(counts.get('scan') ?? 0, 0, 'no SCAN of the session store');
    assert.equal(counts.get('keys') ?? 0, 0, 'no KEYS either');
    assert.ok((counts.get('get') ?? 0) < 20, `GETs do not follow the session count (${counts.get('get')})`);

    for (const agent of nedAgents) assert.equal(await signedInAt(agent), false, 'each of the person\'s sessions is ended');
    for (const agent of [...abeAgents, admin]) assert.ok(await signedInAt(agent), 'everyone else\'s sessions survive');
    for (const sid of nedSessions) assert.equal(await redis.client.exists(`portal-sess:${sid}`), 0);

    const left = await allKeys(redis.client);
    assert.deepEqual(left.filter((key) => key.includes('{u4}')), [], 'no key of the old factor: record, step, devices, their index, the session index');
    for (const key of left) {
      if ((await redis.client.type(key)) !== 'string') continue;
      const value = String(await redis.client.get(key));
      assert.ok(!value.includes(sealed), `${key} holds the old sealed secret`);
      for (const hash of recoveryCodes) assert.ok(!value.includes(hash), `${key} holds an old recovery-code hash`);
    }
  });

  it('with sessionIndex: false a reset falls back to scanning the session store (what the count above would catch)', async () => {
    const portal = startPortal({ redis: redis.client, secondFactor: { sessionIndex: false } });
    const gia = await enrolled(portal, 'globex.admin');
    const { agent: admin } = await enrolled(portal, 'bot.admin');
    assert.equal(await redis.client.exists('sf:sessions:{u9}'), 0, 'nothing indexed');
    const counts = await countedDuring(redis.client, () => resetAs(admin, 'u9'));
    assert.ok((counts.get('scan') ?? 0) > 0);
    assert.equal(await signedInAt(gia.agent), false, 'the scan still ends the session');
  });

  it('turning 2FA off ends the person\'s other sessions and deletes their remembered devices, keeping this one', async () => {
    const portal = startPortal({ redis: redis.client, secondFactor: { policy: { mode: 'optional', rememberDeviceDays: 30 } } });
    const gil = await enrolled(portal, 'globex.admin');
    const other = await alsoSignedIn(portal, 'globex.admin', gil.secret);
    assert.ok((await allKeys(redis.client)).some((key) => key.startsWith('sf:device:{u9}:')), 'a remembered device is stored');
    const settings = await gil.agent.get('/2fa/settings').expect(200);
    await gil.agent.post('/2fa/settings/disable').type('form').send({ _csrf: csrfFrom(settings.text) }).expect(303);
    assert.equal(await signedInAt(other), false, 'the other session is ended');
    assert.ok(await signedInAt(gil.agent), 'this one stays');
    assert.deepEqual((await allKeys(redis.client)).filter((key) => key.includes('{u9}') && key.includes('device')), []);
  });

  it('a method change ends the person\'s other sessions and deletes their remembered devices, keeping this one', async () => {
    const portal = startPortal({ redis: redis.client });
    const sue = await enrolled(portal, 'southpaw.ops');
    const other = await alsoSignedIn(portal, 'southpaw.ops', sue.secret);
    assert.ok((await allKeys(redis.client)).some((key) => key.startsWith('sf:device:{u8}:')));
    const settings = await sue.agent.get('/2fa/settings').expect(200);
    await sue.agent.post('/2fa/settings/method').type('form').send({ _csrf: csrfFrom(settings.text), method: 'totp' }).expect(303);
    const page = await sue.agent.get('/2fa/settings/method/totp').expect(200);
    const newSecret = /id="totp-key">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
    await sue.agent.post('/2fa/settings/method/totp').type('form').send({ _csrf: csrfFrom(page.text), code: codeAt(newSecret, portal.clock.t) }).expect(200);
    assert.equal(await signedInAt(other), false, 'the other session is ended');
    assert.ok(await signedInAt(sue.agent), 'this one stays');
    const left = (await allKeys(redis.client)).filter((key) => key.includes('{u8}'));
    assert.deepEqual(left.filter((key) => key.includes('device')), [], 'remembered devices and their index are deleted');
    assert.equal((await redis.client.zRange('sf:sessions:{u8}', 0, -1)).length, 1);
  });
});
