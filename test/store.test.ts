import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'mocha';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { createClient, type RedisClientType } from 'redis';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore, type RedisStoreOptions } from '../src/store/redis.js';
import { storeContract } from '../src/testing/store-contract.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

type Client = RedisClientType<any, any, any, any, any>;

/**
 * A client configured as a host should configure it for fail-closed behaviour:
 * `disableOfflineQueue` makes commands fail at once while disconnected instead of queueing
 * until Redis returns, which would leave requests hanging.
 */
async function connect(url: string, socket: { reconnectStrategy: false | number } = { reconnectStrategy: false }) {
  const client: Client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 1_000, ...socket } });
  // node-redis emits connection errors as events; without a listener they crash the process.
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((client) => (client.isOpen ? client.close() : undefined)));
}

/** Rejects when `promise` has not settled within `ms`: an outage must never leave a request hanging. */
async function settledWithin<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A store failure: an Error, and not the RateLimiterRes that means "over the limit". */
function isStoreFailure(reason: unknown): true {
  assert.ok(reason instanceof Error, `expected an Error, got ${String(reason)}`);
  assert.ok(!(reason instanceof RateLimiterRes));
  return true;
}

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: async () => store.close() };
});

{
  let server: RedisServer;
  const clients: Client[] = [];

  storeContract(
    'RedisStore',
    async () => {
      server = await startRedis();
      const client = await connect(server.url);
      clients.push(client);
      return {
        store: new RedisStore({ client, prefix: 'contract-test:' }),
        cleanup: async () => {
          await closeAll(clients);
          await server.stop();
        },
      };
    },
    {
      // A second client, as a second app instance would have.
      shared: async () => {
        const client = await connect(server.url);
        clients.push(client);
        return new RedisStore({ client, prefix: 'contract-test:' });
      },
    },
  );
}

describe('MemoryStore', () => {
  it('refuses a sweepIntervalMs that is not a positive number, naming the option', () => {
    for (const sweepIntervalMs of [0, -1, Number.NaN, '100' as unknown as number]) {
      assert.throws(() => new MemoryStore({ sweepIntervalMs }), { name: 'TypeError', message: /sweepIntervalMs/ });
    }
  });

  it('sweeps expired values that nobody reads again', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 50 });
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.set(`code:${i}`, 'v', 1)));
      await store.set('kept', 'v');
      await store.saveUser('someone', { generation: 1 });
      assert.equal(store.size(), 102);
      await sleep(1_200);
      assert.equal(store.size(), 2);
    } finally {
      store.close();
    }
  });

  it('stays usable after close(), still hiding expired values', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 50 });
    store.close();
    await store.set('code', 'v', 1);
    assert.equal(await store.get('code'), 'v');
    await sleep(1_200);
    assert.equal(store.size(), 1, 'no sweep after close()');
    assert.equal(await store.get('code'), null);
    assert.equal(store.size(), 0);
  });
});

describe('RedisStore', function () {
  this.timeout(15_000);

  let server: RedisServer;
  const outageServers: RedisServer[] = [];
  const clients: Client[] = [];

  before(async () => {
    server = await startRedis();
  });

  after(async () => {
    await closeAll(clients);
    await Promise.all([server, ...outageServers].map((each) => each.stop()));
  });

  it('throws a TypeError naming `client` when no client is given', () => {
    assert.throws(() => new RedisStore({} as RedisStoreOptions), { name: 'TypeError', message: /`client`/ });
    assert.throws(() => new RedisStore(undefined as unknown as RedisStoreOptions), {
      name: 'TypeError',
      message: /`client`/,
    });
  });

  it('throws a TypeError naming `prefix` when the prefix has a hash tag brace', async () => {
    const client = await connect(server.url);
    clients.push(client);
    assert.throws(() => new RedisStore({ client, prefix: 'app{1}:' }), { name: 'TypeError', message: /`prefix`/ });
  });

  it('lays keys out under the prefix, with the user id as a hash tag and the key\'s own hash tags intact', async () => {
    const client = await connect(server.url);
    clients.push(client);
    const store = new RedisStore({ client, prefix: 'layout:' });
    await store.saveUser('u-1', { generation: 1, method: 'totp' });
    await store.set('pending:{u-1}:code', '123456', 60);
    await store.createLimiter({ keyPrefix: 'attempts', points: 5, duration: 60 }).consume('u-1');

    assert.deepEqual(JSON.parse(String(await client.get('layout:user:{u-1}'))), { generation: 1, method: 'totp' });
    assert.equal(await client.get('layout:pending:{u-1}:code'), '123456');
    assert.equal(await client.get('layout:attempts:u-1'), '1');
    assert.ok(Number(await client.ttl('layout:pending:{u-1}:code')) > 0);
  });

  it('keeps recovery-code hashes joined in one string, and reads records written with the array', async () => {
    const client = await connect(server.url);
    clients.push(client);
    const store = new RedisStore({ client, prefix: 'compact:' });
    const recoveryCodes = ['a'.repeat(22), 'b'.repeat(22), 'c'.repeat(43)];
    await store.saveUser('u', { generation: 2, method: 'totp', recoveryCodes });
    assert.deepEqual(JSON.parse(String(await client.get('compact:user:{u}'))), { generation: 2, method: 'totp', recoveryCodes: recoveryCodes.join(',') });
    assert.deepEqual(await store.getUser('u'), { generation: 2, method: 'totp', recoveryCodes });
    await store.saveUser('none-left', { generation: 2, method: 'totp', recoveryCodes: [] });
    assert.deepEqual((await store.getUser('none-left'))?.recoveryCodes, []);
    // As an earlier version wrote it.
    await client.set('compact:user:{old}', JSON.stringify({ generation: 1, method: 'totp', recoveryCodes }));
    assert.deepEqual(await store.getUser('old'), { generation: 1, method: 'totp', recoveryCodes });
    assert.deepEqual(await store.getUsers(['old', 'u', 'nobody']), [{ generation: 1, method: 'totp', recoveryCodes }, { generation: 2, method: 'totp', recoveryCodes }, null]);
  });

  it('keeps stores with different prefixes apart', async () => {
    const client = await connect(server.url);
    clients.push(client);
    const first = new RedisStore({ client, prefix: 'first:' });
    const second = new RedisStore({ client, prefix: 'second:' });
    await first.saveUser('u', { generation: 1 });
    await first.set('k', 'v');
    assert.equal(await second.getUser('u'), null);
    assert.equal(await second.get('k'), null);
  });

  it('rejects at once while Redis is down (the limiter with an Error, not a RateLimiterRes), and serves again once it is back', async () => {
    // A server of its own, which this test stops and starts.
    const server = await startRedis();
    outageServers.push(server);
    // Reconnecting, as a host's client would; disableOfflineQueue keeps commands from
    // waiting for the reconnection.
    const client = await connect(server.url, { reconnectStrategy: 50 });
    clients.push(client);
    const store = new RedisStore({ client, prefix: 'outage:' });
    const limiter = store.createLimiter({ keyPrefix: 'attempts', points: 5, duration: 60 });
    await store.set('code', '123456', 60);
    await limiter.consume('person');

    await server.stop();

    await assert.rejects(settledWithin(1_000, store.getUser('person')), isStoreFailure);
    await assert.rejects(settledWithin(1_000, store.take('code')), isStoreFailure);
    await assert.rejects(settledWithin(1_000, store.increment('count')), isStoreFailure);
    await assert.rejects(settledWithin(1_000, store.setIfGreater('step', 5)), isStoreFailure);
    await assert.rejects(settledWithin(1_000, limiter.consume('person')), isStoreFailure);

    await server.start();
    const deadline = Date.now() + 5_000;
    while (!client.isReady) {
      assert.ok(Date.now() < deadline, 'client did not reconnect');
      await sleep(20);
    }
    // The restarted server is empty (no persistence) and its script cache too.
    assert.equal(await store.getUser('person'), null);
    assert.equal(await store.setIfGreater('step', 5), true);
    assert.equal((await limiter.consume('person')).consumedPoints, 1);
  });

  it('rejects when a command was sent before the connection dropped', async () => {
    const server = await startRedis();
    outageServers.push(server);
    const client = await connect(server.url, { reconnectStrategy: false });
    clients.push(client);
    const store = new RedisStore({ client, prefix: 'in-flight:' });
    const limiter = store.createLimiter({ keyPrefix: 'attempts', points: 5, duration: 60 });
    // CLIENT PAUSE holds the replies back, so these commands are in flight when the server dies.
    const admin = await connect(server.url);
    clients.push(admin);
    await admin.sendCommand(['CLIENT', 'PAUSE', '5000', 'ALL']);
    const pending = Promise.allSettled([store.getUser('person'), store.take('code'), limiter.consume('person')]);
    assert.equal(await Promise.race([pending.then(() => 'settled'), sleep(100, 'in flight')]), 'in flight');

    await server.stop();

    const outcomes = await settledWithin(1_000, pending);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      isStoreFailure(outcome.reason);
    }
  });
});
