import { createClient, type RedisClientType } from 'redis';
import type { SmsSender } from '../src/index.js';
import { createBenchApp, type BundlePackage, type PasswordCheck } from './app.js';

/**
 * The benchmarked apps, in one process of their own (the load generator must not share their
 * event loop), each on its own port with its own Redis client. Being in one process, they
 * share the heap, the loaded modules and the CPU they are pinned to: apps compared this way
 * differ only by what each does per request. The bench loads one app at a time, so the
 * process's CPU time during a batch is that app's.
 *
 * Env: APPS (`bundle,before,baseline,floor,…`), PORTS (as many, same order), REDIS_URL (or
 * REDIS_URLS, one per app: the bench counts each app's round trips through a relay),
 * ENCRYPTION_KEY, BEFORE_ENTRY (the entry module of the "before" package, see before.ts).
 * Prints `ready` once all listen. Over IPC: `cpu` asks for the CPU time used so far; `plain`
 * or `pbkdf2` sets the password check of later logins (plain at start); `code <phone>` asks
 * for the last text-message code sent to that number (texts are kept, never sent or printed).
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is required`);
  return value;
};

const variants = env('APPS').split(',');
const ports = env('PORTS').split(',').map(Number);
if (variants.length !== ports.length) throw new Error('bench server: APPS and PORTS differ in length');

const redisUrls = process.env.REDIS_URLS?.split(',');
const before = variants.includes('before') ? ((await import(env('BEFORE_ENTRY'))) as BundlePackage) : undefined;

/** The last code texted to each number, for the bench's text-message sign-ins. */
const texts = new Map<string, string>();
const sms: SmsSender = {
  async send(to, body) {
    texts.set(to, /\b(\d{6})\b/.exec(body)?.[1] ?? '');
    return { id: `bench-${texts.size}` };
  },
};

let passwordCheck: PasswordCheck = 'plain';
const clients: RedisClientType<any, any, any, any, any>[] = [];
const servers = await Promise.all(
  variants.map(async (variant, i) => {
    const redis: RedisClientType<any, any, any, any, any> = createClient({ url: redisUrls?.[i] ?? env('REDIS_URL'), disableOfflineQueue: true });
    redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
    await redis.connect();
    clients.push(redis);
    const app = createBenchApp({
      redis,
      withSecondFactor: variant !== 'baseline' && variant !== 'floor',
      floor: variant === 'floor',
      encryptionKey: env('ENCRYPTION_KEY'),
      passwordCheck: () => passwordCheck,
      secondFactor: { sms },
      ...(variant === 'before' ? { pkg: before! } : {}),
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
  if (typeof message === 'string' && message.startsWith('code ')) process.send!({ code: texts.get(message.slice(5)) ?? null });
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
