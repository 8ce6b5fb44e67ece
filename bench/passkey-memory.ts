import type { RedisClientType } from 'redis';
import { checkRegistration, registrationOptions, type RelyingParty } from '../src/factors/passkey/ceremony.js';
import { newFactorId } from '../src/secrets.js';
import { RedisStore, type UserRecord } from '../src/index.js';
import { STORE_PREFIX } from './app.js';
import { answerRegistration } from './software-authenticator.js';
import type { EnrolmentTemplate } from './users.js';

type Client = RedisClientType<any, any, any, any, any>;

const ORIGIN = 'http://localhost:3000';
const rp: RelyingParty = { id: 'localhost', name: 'Bench portal', origins: [ORIGIN], userVerification: 'preferred' };

/** Row 4 for passkeys: what one person enrolled with one passkey keeps in Redis. */
export interface PasskeyMemory {
  readonly users: number;
  readonly bytesPerUser: number;
  readonly usedMemoryPerUser: number;
  readonly credentialJsonBytes: number;
  readonly recordJsonBytes: number;
}

/**
 * A real credential for `userId`: the package's registration options, answered by the
 * software authenticator, checked by the package's checkRegistration (what enrolment stores).
 */
async function credentialFor(userId: string) {
  const { options, challenge } = await registrationOptions(rp, { userId, userName: `${userId}@example.com`, displayName: userId, existing: [] });
  const result = await checkRegistration(rp, { response: answerRegistration(options, ORIGIN), expectedChallenge: challenge, name: 'MacBook Pro', now: Date.now() });
  if (!result.ok) throw new Error(`the bench's registration was refused: ${result.reason}`);
  return result.credential;
}

/**
 * `count` people enrolled with one passkey each, written as the flow writes them (saveEnrolment
 * then ten recovery codes: the template's hashes, which have the same length), then measured
 * like row 4: MEMORY USAGE of their record (a passkey person has no other lasting key; the
 * challenges expire with the sign-in) and the growth of used_memory.
 */
export async function passkeyMemory(redis: Client, template: EnrolmentTemplate, count: number): Promise<PasskeyMemory> {
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(String(await redis.info('memory')))?.[1]);
  // From an empty Redis, as row 4: see there.
  await redis.flushAll();
  const store = new RedisStore({ client: redis, prefix: STORE_PREFIX });
  const ids = Array.from({ length: count }, (_, i) => `pk${i}`);
  const records: Array<[string, UserRecord]> = [];
  for (const id of ids) {
    const { generation, recoveryCodes, enrolledAt } = template.record;
    records.push([id, { generation, factorId: newFactorId(), enrolledAt, method: 'passkey', passkeys: [await credentialFor(id)], recoveryCodes }]);
  }
  const before = await usedMemory();
  for (let start = 0; start < records.length; start += 500) await Promise.all(records.slice(start, start + 500).map(([id, record]) => store.saveUser(id, record)));
  const after = await usedMemory();
  let bytes = 0;
  for (let start = 0; start < ids.length; start += 500) {
    const replies = await Promise.all(ids.slice(start, start + 500).map((id) => redis.memoryUsage(`${STORE_PREFIX}user:{${id}}`, { SAMPLES: 0 })));
    for (const reply of replies) bytes += Number(reply ?? Number.NaN);
  }
  const [, sample] = records[0]!;
  return {
    users: count,
    bytesPerUser: bytes / count,
    usedMemoryPerUser: (after - before) / count,
    credentialJsonBytes: Buffer.byteLength(JSON.stringify(sample.passkeys![0])),
    recordJsonBytes: Buffer.byteLength(JSON.stringify(sample)),
  };
}
