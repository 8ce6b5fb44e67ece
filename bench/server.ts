import { createClient, type RedisClientType } from 'redis';
import { createBenchApp, type PasswordCheck } from './app.js';

/**
 * The benchmarked apps, in one process of their own (the load generator must not share their
 * event loop), each on its own port with its own Redis client. Being in one process, they
 * share the heap, the loaded modules and the CPU they are pinned to: apps compared this way
 * differ only by what each does per request. The bench loads one app at a time, so the
 * process's CPU time during a batch is that app's.
 *
 * Env: APPS (`bundle,baseline,…`), PORTS (as many, same order), REDIS_URL, ENCRYPTION_KEY.
 * Prints `ready` once all listen. Over IPC: `cpu` asks for the CPU time used so far; `plain`
 * or `pbkdf2` sets the password check of later logins (plain at start).
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is required`);
  return value;
};

const variants = env('APPS').split(',');
const ports = env('PORTS').split(',').map(Number);
if (variants.length !== ports.length) throw new Error('bench server: APPS and PORTS differ in length');

let passwordCheck: PasswordCheck = 'plain';
const clients: RedisClientType<any, any, any, any, any>[] = [];
const servers = await Promise.all(
  variants.map(async (variant, i) => {
    const redis: RedisClientType<any, any, any, any, any> = createClient({ url: env('REDIS_URL'), disableOfflineQueue: true });
    redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
    await redis.connect();
    clients.push(redis);
    const app = createBenchApp({
      redis,
      withSecondFactor: variant === 'bundle',
      encryptionKey: env('ENCRYPTION_KEY'),
      passwordCheck: () => passwordCheck,
    });
    const server = app.listen(ports[i], '127.0.0.1');
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    return server;
  }),
);
console.log('ready');

// Asked over IPC, so that asking costs no HTTP request.
process.on('message', (message) => {
  if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
  if (message === 'plain' || message === 'pbkdf2') {
    passwordCheck = message;
    process.send!({ passwordCheck });
  }
});

// SIGINT exits at once (a --cpu-prof profile is then written); SIGTERM closes cleanly.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  void Promise.allSettled(clients.map((client) => client.close())).finally(() => process.exit(0));
});
