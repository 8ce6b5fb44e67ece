import { generateSecret, generateSync } from 'otplib';
import type { RedisClientType } from 'redis';
import { createSecretBox, decodeEncryptionKey, newFactorId } from '../src/secrets.js';
import { RedisStore, type UserRecord } from '../src/index.js';
import { BrowserClient, csrfTokenIn, keepAliveAgent } from '../test/helpers/http-client.js';
import { BENCH_PASSWORD, STORE_PREFIX } from './app.js';

type Client = RedisClientType<any, any, any, any, any>;

/** What one real enrolment left in Redis, used as the mould for the bench's users. */
export interface EnrolmentTemplate {
  readonly userId: string;
  /** The record, exactly as the flow saved it. */
  readonly record: UserRecord;
  /** Every key of the person that has no TTL (their lasting state), with its value. */
  readonly lastingKeys: ReadonlyMap<string, string>;
  /** Keys of the person with a TTL (short-lived state), for the report. */
  readonly shortLivedKeys: readonly string[];
}

/**
 * Enrols `userId` through the bundle's own pages over HTTP (password, method choice, the
 * secret from the page, a code), then reads back every key of that person from Redis.
 */
export async function enrolTemplateUser(baseUrl: string, redis: Client, userId: string): Promise<EnrolmentTemplate> {
  const client = new BrowserClient(keepAliveAgent(2));
  const choose = await client.follow(baseUrl, '/login', { form: { username: userId, password: BENCH_PASSWORD } });
  if (choose.status !== 200) throw new Error(`template sign-in answered ${choose.status}`);
  const toSecret = await client.follow(baseUrl, '/2fa/enrol', { form: { _csrf: csrfTokenIn(choose.text), method: 'totp' } });
  const key = /id="totp-key">([A-Z2-7 ]+)</.exec(toSecret.text)?.[1]?.replace(/ /g, '');
  if (!key) throw new Error(`no TOTP key on the enrolment page (${toSecret.status})`);
  const done = await client.follow(baseUrl, '/2fa/enrol/totp', {
    form: { _csrf: csrfTokenIn(toSecret.text), code: generateSync({ secret: key, epoch: Math.floor(Date.now() / 1000) }) },
  });
  if (done.status !== 200) throw new Error(`template enrolment ended on ${done.status}`);

  const lastingKeys = new Map<string, string>();
  const shortLivedKeys: string[] = [];
  for await (const keys of redis.scanIterator({ MATCH: `${STORE_PREFIX}*{${userId}}*`, COUNT: 1000 })) {
    for (const each of keys as string[]) {
      if (Number(await redis.ttl(each)) === -1) lastingKeys.set(each, String(await redis.get(each)));
      else shortLivedKeys.push(each);
    }
  }
  const recordKey = `${STORE_PREFIX}user:{${userId}}`;
  const json = lastingKeys.get(recordKey);
  if (!json) throw new Error(`no record at ${recordKey} after the enrolment`);
  // Read as the store reads it (its stored form is compacted).
  const record = await new RedisStore({ client: redis, prefix: STORE_PREFIX }).getUser(userId);
  if (record?.method !== 'totp' || !record.secret) throw new Error(`unexpected template record ${json}`);
  return { userId, record, lastingKeys, shortLivedKeys };
}

/** A user enrolled by the bench: the TOTP secret in clear, for computing codes. */
export interface EnrolledUser {
  readonly id: string;
  readonly secret: string;
}

/**
 * Writes enrolled people shaped like the template: the record with a secret of their own,
 * sealed with the app's key exactly as enrolment seals it, and a fresh factor id. With
 * `withLastingKeys`, their other lasting keys too (the TOTP step a first sign-in leaves), as
 * after a real sign-in; without, they are enrolled but have never signed in (any current code
 * is accepted once).
 */
export async function enrolUsers(
  redis: Client,
  encryptionKey: string,
  template: EnrolmentTemplate,
  ids: readonly string[],
  withLastingKeys: boolean,
): Promise<EnrolledUser[]> {
  const box = createSecretBox(decodeEncryptionKey(encryptionKey)!);
  const store = new RedisStore({ client: redis, prefix: STORE_PREFIX });
  const recordKey = `${STORE_PREFIX}user:{${template.userId}}`;
  const users: EnrolledUser[] = [];
  const batch = 500;
  for (let start = 0; start < ids.length; start += batch) {
    const writes: Promise<unknown>[] = [];
    for (const id of ids.slice(start, start + batch)) {
      const secret = generateSecret({ length: 20 });
      users.push({ id, secret });
      writes.push(store.saveUser(id, { ...template.record, factorId: newFactorId(), secret: box.seal(secret, id) }));
      if (!withLastingKeys) continue;
      for (const [key, value] of template.lastingKeys) {
        if (key !== recordKey) writes.push(redis.set(key.replace(`{${template.userId}}`, `{${id}}`), value));
      }
    }
    await Promise.all(writes);
  }
  return users;
}

/** The code an authenticator app shows now. */
export function currentCode(user: EnrolledUser): string {
  return generateSync({ secret: user.secret, epoch: Math.floor(Date.now() / 1000) });
}
