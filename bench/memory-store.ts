import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from '../src/index.js';

/**
 * Row 5, in a process of its own started with --expose-gc: the MemoryStore's heap over
 * PENDING pending sign-ins (default 100,000), each making the short-lived writes a pending
 * text-message sign-in with one wrong code makes: the code record (SET with TTL), the resend
 * cooldown pointer and its successor claim (SET / SETNX with TTL), and four attempt counters
 * (per account and per number sends, tries of the code, failed codes: limiter entries with a
 * window). The flow's TTLs are minutes to an hour; here every TTL is TTL_SECONDS (default 2)
 * so that expiry can be watched: the heap must come back down once they pass.
 * Prints one JSON line.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const pending = Number(process.env.PENDING ?? 100_000);
const ttlSeconds = Number(process.env.TTL_SECONDS ?? 2);

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const store = new MemoryStore({ sweepIntervalMs: 500 });
const limiters = ['sms-account', 'sms-number', 'sms-tries', 'fail'].map((keyPrefix) =>
  store.createLimiter({ keyPrefix, points: 10, duration: ttlSeconds }),
);
// Distinct strings of the lengths the flow stores (base64url of 16 or 32 random bytes): the
// heap holds what it would hold, without the bench spending its time in randomBytes.
const b64 = (bytes: number, i: number, salt: string) => `${salt}${i}`.padStart(Math.ceil((bytes * 4) / 3), 'x');

const baseline = heapUsed();
const started = Date.now();
for (let i = 0; i < pending; i += 1) {
  const userId = `p${i}`;
  const now = String(Date.now());
  // Sizes as the flow stores them: a random id, keyed hashes (32 bytes, base64url), a time.
  await store.set(`sms-code:{${userId}}`, JSON.stringify({ id: b64(16, i, 'i'), hash: b64(32, i, 'h'), binding: b64(16, i, 'b'), phone: b64(32, i, 'p'), issuedAt: Date.now() }), ttlSeconds);
  await store.setIfAbsent(`sms-cooldown:{${userId}}:after:none`, now, ttlSeconds);
  await store.set(`sms-cooldown:{${userId}}`, now, ttlSeconds);
  const phoneHash = b64(32, i, 'n');
  await limiters[0]!.consume(userId);
  await limiters[1]!.consume(phoneHash);
  await limiters[2]!.consume(userId);
  await limiters[3]!.consume(userId);
}
const writeSeconds = (Date.now() - started) / 1000;
const peak = heapUsed();
const entriesAtPeak = store.size();

// Past every TTL and at least one sweep.
await sleep(Math.max(0, started + ttlSeconds * 1000 - Date.now()) + ttlSeconds * 1000 + 1_000);
const after = heapUsed();
const entriesAfter = store.size();
store.close();

console.log(
  JSON.stringify({ pending, ttlSeconds, writeSeconds, baseline, peak, after, entriesAtPeak, entriesAfter }),
);
