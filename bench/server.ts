import { createClient, type RedisClientType } from 'redis';
import { createBenchApp, type PasswordCheck } from './app.js';

/**
 * One benchmarked app in its own process (the load generator must not share its event loop).
 * Env: PORT, REDIS_URL, BENCH_VARIANT (`bundle` | `baseline`), ENCRYPTION_KEY. Prints `ready`
 * once listening. Over IPC: `cpu` asks for the CPU time used so far; `plain` or `pbkdf2` sets
 * the password check of later logins (plain at start).
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is required`);
  return value;
};

const redis: RedisClientType<any, any, any, any, any> = createClient({ url: env('REDIS_URL'), disableOfflineQueue: true });
redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
await redis.connect();

let passwordCheck: PasswordCheck = 'plain';
const app = createBenchApp({
  redis,
  withSecondFactor: env('BENCH_VARIANT') === 'bundle',
  encryptionKey: env('ENCRYPTION_KEY'),
  passwordCheck: () => passwordCheck,
});

const server = app.listen(Number(env('PORT')), '127.0.0.1', () => console.log('ready'));

// The CPU time this process used so far (all threads, µs), asked for by the bench over IPC so
// that asking costs no HTTP request.
process.on('message', (message) => {
  if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
  if (message === 'plain' || message === 'pbkdf2') {
    passwordCheck = message;
    process.send!({ passwordCheck });
  }
});
server.keepAliveTimeout = 60_000;

// SIGINT exits at once (a --cpu-prof profile is then written); SIGTERM closes cleanly.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
