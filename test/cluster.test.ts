import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import { RedisStore } from '../src/store/redis.js';
import { storeContract } from '../src/testing/store-contract.js';
import { codeAt, enrolTotp, signIn, signOut, startPortal, submitCode } from './helpers/portal.js';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js';

type Cluster = RedisClusterType<any, any, any, any, any>;

/** A cluster client set up as a host should: fail at once instead of queueing while a node is down. */
async function connect(cluster: RedisCluster): Promise<Cluster> {
  const client: Cluster = createCluster({
    rootNodes: [...cluster.rootNodes],
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: 2_000, reconnectStrategy: false } },
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function closeAll(clients: Cluster[]): Promise<void> {
  await Promise.all(clients.map((client) => (client.isOpen ? client.close() : undefined)));
}

describe('Redis Cluster (3 local masters)', function () {
  // Starting and joining three nodes takes a few seconds on a loaded machine.
  this.timeout(60_000);

  let cluster: RedisCluster;
  const clients: Cluster[] = [];

  before(async () => {
    cluster = await startRedisCluster(3);
  });

  after(async () => {
    await closeAll(clients);
    await cluster?.stop();
  });

  storeContract(
    'RedisStore over a node-redis cluster client',
    async () => {
      const client = await connect(cluster);
      clients.push(client);
      return { store: new RedisStore({ client, prefix: 'cluster-contract:' }) };
    },
    {
      // A second cluster client, as a second app instance would have.
      shared: async () => {
        const client = await connect(cluster);
        clients.push(client);
        return new RedisStore({ client, prefix: 'cluster-contract:' });
      },
    },
  );

  describe('key layout on the cluster', () => {
    let client: Cluster;
    let store: RedisStore;

    before(async () => {
      client = await connect(cluster);
      clients.push(client);
      store = new RedisStore({ client, prefix: 'layout:' });
    });

    const slotOf = async (key: string) => Number(await client.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]));

    it('puts a person\'s record and every key tagged with {userId} in one slot', async () => {
      await store.saveUser('u-42', { generation: 1, method: 'totp' });
      await store.set('totp-step:{u-42}', '57000000');
      await store.set('remember:{u-42}:device', 'hash', 60);
      const slots = await Promise.all(['layout:user:{u-42}', 'layout:totp-step:{u-42}', 'layout:remember:{u-42}:device'].map(slotOf));
      assert.equal(new Set(slots).size, 1, `slots ${slots.join(', ')}`);
      assert.equal(await store.get('totp-step:{u-42}'), '57000000');
    });

    /** DEL commands served by all masters so far. */
    const delCalls = async () => {
      let calls = 0;
      for (const master of client.masters) {
        const node = await client.nodeClient(master);
        calls += Number(/cmdstat_del:calls=(\d+)/.exec(String(await node.info('commandstats')))?.[1] ?? 0);
      }
      return calls;
    };

    it('deletes a person\'s tagged keys together: one DEL on one node, so it is atomic', async () => {
      await store.set('sms-code:{u-43}', 'hash', 60);
      await store.set('sms-cooldown:{u-43}', '1', 60);
      const before = await delCalls();
      await store.delete('sms-code:{u-43}', 'sms-cooldown:{u-43}');
      assert.equal((await delCalls()) - before, 1);
      assert.equal(await store.get('sms-code:{u-43}'), null);
      assert.equal(await store.get('sms-cooldown:{u-43}'), null);
    });

    it('splits a DEL of keys in different slots into one DEL per slot (what the store comment relies on)', async () => {
      const keys = ['split-a', 'split-b', 'split-c', 'split-d'];
      await Promise.all(keys.map((key) => store.set(key, 'v')));
      const slots = new Set(await Promise.all(keys.map((key) => slotOf(`layout:${key}`))));
      assert.ok(slots.size > 1, 'the keys fall in several slots');
      const before = await delCalls();
      await store.delete(...keys);
      assert.equal((await delCalls()) - before, slots.size);
      for (const key of keys) assert.equal(await store.get(key), null);
    });

    it('spreads different people over all three masters (the prefix carries no hash tag of its own)', async () => {
      await Promise.all(Array.from({ length: 60 }, (_, i) => store.saveUser(`spread-${i}`, { generation: 1 })));
      const perMaster = await Promise.all(
        cluster.ports.map(async (port) => {
          const node = await client.nodeClient(client.masters.find((master) => master.port === port)!);
          return (await node.keys('layout:user:{spread-*')).length;
        }),
      );
      assert.equal(perMaster.reduce((a, b) => a + b, 0), 60);
      for (const count of perMaster) assert.ok(count > 0, `keys per master: ${perMaster.join(', ')}`);
    });

    it('counts a limiter over the cluster with rate-limiter-flexible (RateLimiterRedis on a cluster client)', async () => {
      const limiter = store.createLimiter({ keyPrefix: 'fail', points: 3, duration: 60, blockDuration: 30 });
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => limiter.consume('u-44')));
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 3);
      const blocked = await limiter.get('u-44');
      assert.ok(blocked && blocked.msBeforeNext > 20_000, 'blocked for blockDuration after the limit');
      await limiter.delete('u-44');
      assert.equal(await limiter.get('u-44'), null);
    });
  });

  describe('the example portal on the cluster', () => {
    it('signs in with both factors, sessions (connect-redis) and 2FA state (RedisStore) on the cluster client', async () => {
      const client = await connect(cluster);
      clients.push(client);
      // createPortal is typed for a single-node client; connect-redis and RedisStore take both.
      const portal = startPortal({ redis: client as unknown as RedisClientType<any, any, any, any, any> });
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      const { secret } = await enrolTotp(agent, portal.clock);
      await signOut(agent);

      await signIn(agent, 'acme.ops');
      await agent.get('/dashboard').expect(303).expect('location', '/2fa');
      portal.clock.advance(30);
      assert.equal((await submitCode(agent, codeAt(secret, portal.clock.t))).status, 303);
      await agent.get('/dashboard').expect(200).expect(/Welcome, <strong>Abe Acme/);

      assert.equal((await portal.store.getUser('u6'))?.method, 'totp');
      assert.ok((await client.get('sf:user:{u6}')) !== null, 'the record is in the cluster');
    });
  });
});
