import { after, before } from 'mocha';
import { createClient, type RedisClientType } from 'redis';
import { startRedis, type RedisServer } from './redis.js';

export type RedisClient = RedisClientType<any, any, any, any, any>;

/**
 * For a describe block: a fresh Redis server and a connected client for its tests (commands
 * fail at once while disconnected), both stopped after them. `client` is there once `before` ran.
 */
export function redisForSuite(): { readonly client: RedisClient } {
  let server: RedisServer | undefined;
  let client: RedisClient | undefined;

  before(async () => {
    server = await startRedis();
    client = createClient({ url: server.url, disableOfflineQueue: true });
    client.on('error', () => {});
    await client.connect();
  });

  after(async () => {
    await client?.quit().catch(() => {});
    await server?.stop();
  });

  return {
    get client() {
      if (!client) throw new Error('the Redis client is made in a before hook');
      return client;
    },
  };
}
