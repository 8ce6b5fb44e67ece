import { createClient, type RedisClientType } from 'redis';
import { createBenchApp } from './app.js';

/**
 * One benchmarked app in its own process (the load generator must not share its event loop).
 * Env: PORT, REDIS_URL, BENCH_VARIANT (`bundle` | `baseline`), PASSWORD_CHECK (`plain` |
 * `pbkdf2`), ENCRYPTION_KEY. Prints `ready` once listening.
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is required`);
  return value;
};

const redis: RedisClientType<any, any, any, any, any> = createClient({ url: env('REDIS_URL'), disableOfflineQueue: true });
redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
await redis.connect();

const passwordCheck = env('PASSWORD_CHECK');
if (passwordCheck !== 'plain' && passwordCheck !== 'pbkdf2') throw new Error(`bench server: PASSWORD_CHECK ${passwordCheck}`);
const app = createBenchApp({
  redis,
  withSecondFactor: env('BENCH_VARIANT') === 'bundle',
  encryptionKey: env('ENCRYPTION_KEY'),
  passwordCheck,
});

const server = app.listen(Number(env('PORT')), '127.0.0.1', () => console.log('ready'));
server.keepAliveTimeout = 60_000;

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
