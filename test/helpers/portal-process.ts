import { createClient, type RedisClientType } from 'redis';
import { createPortal } from '../../examples/portal/app.js';

/**
 * One instance of the example portal, as a process of its own (test/instances.test.ts starts
 * two on one Redis). Env: PORT, REDIS_URL, ENCRYPTION_KEY, SESSION_SECRET, and optionally
 * POLICY_CACHE_SECONDS. Prints `ready` once listening; audit events go to stdout as JSON lines.
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`portal process: ${name} is required`);
  return value;
};

const redis: RedisClientType<any, any, any, any, any> = createClient({ url: env('REDIS_URL'), disableOfflineQueue: true });
redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
await redis.connect();

const cacheSeconds = process.env.POLICY_CACHE_SECONDS;
const { app } = createPortal({
  redis,
  sessionSecret: env('SESSION_SECRET'),
  secondFactor: {
    encryptionKey: env('ENCRYPTION_KEY'),
    // Only the cache TTL is changed; the portal's other policy settings are then the defaults.
    ...(cacheSeconds ? { policy: { cacheSeconds: Number(cacheSeconds) } } : {}),
    onEvent: (event) => console.log(`event ${JSON.stringify(event)}`),
    logger: { info: () => {}, warn: () => {}, error: (message) => console.error(message) },
  },
});

const server = app.listen(Number(env('PORT')), '127.0.0.1', () => console.log('ready'));

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
