import { createHash } from 'node:crypto';
import { RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CountReading, LimiterKey, LimiterOptions, MemberDetail, TwoFactorStore, UserRecord } from './types.js';

/**
 * The commands RedisStore (and rate-limiter-flexible) use, as a node-redis v6 client has them.
 * Written structurally so that both `createClient()` and `createCluster()` results fit, and so
 * that this package's types do not depend on `redis`'s.
 */
export interface RedisStoreClient {
  get(key: string): Promise<unknown>;
  /** Used by `getUsers`. */
  mGet(keys: string[]): Promise<unknown>;
  set(key: string, value: string, options?: { EX?: number; NX?: boolean }): Promise<unknown>;
  getDel(key: string): Promise<unknown>;
  del(keys: string[]): Promise<unknown>;
  incrBy(key: string, increment: number): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Used by rate-limiter-flexible. */
  multi(): unknown;
}

/** Options of `new RedisStore()`. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis v6 client (`createClient()` or `createCluster()`). Create it with
   * `disableOfflineQueue: true` (and consider `commandOptions: { timeout }`): otherwise, while
   * Redis is unreachable, commands wait in node-redis's queue instead of failing, and every
   * second-factor request hangs instead of getting a 503.
   */
  readonly client: RedisStoreClient;
  /**
   * Prepended to every key, limiter keys included. Must not contain `{` or `}`: Redis Cluster
   * would take it as the hash tag of every key and put them all in one slot.
   * @default 'sf:'
   */
  readonly prefix?: string;
}

// Compares numerically in Redis so that a check and its write cannot interleave with another
// caller's: the TOTP replay check depends on exactly one of two parallel requests winning.
// KEEPTTL keeps the two stores alike (INCRBY keeps a TTL too). KEYS[2], when given, is an
// attempt count reset by the same step (a right code clears the failures).
const setIfGreaterScript = `
local current = redis.call('GET', KEYS[1])
if current then
  local stored = tonumber(current)
  if stored == nil then
    return redis.error_reply('ERR value is not a number')
  end
  if tonumber(ARGV[1]) <= stored then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
if KEYS[2] then
  redis.call('DEL', KEYS[2])
end
return 1
`;

// A set whose members expire on their own: a sorted set scored by each member's expiry (ms).
// One script, so that dropping the expired, adding and extending the key's own TTL (to the
// longest-lived member, never shortened) happen together, with the member's detail (KEYS[2],
// ARGV[4]) when there is one. ARGV: member, expiresAt, now.
const addMemberScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local wanted = tonumber(ARGV[2]) - tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < wanted then
  redis.call('PEXPIRE', KEYS[1], wanted)
end
if KEYS[2] then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', wanted)
end
return 1
`;
// Drops the expired members while reading, so a person's index never grows past their live
// sessions. ARGV: now.
const membersScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;
// A one-time value taken only while it is the one the caller read, with the same optional
// reset of an attempt count as setIfGreater (KEYS[2]). ARGV: the value.
const takeIfEqualScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if KEYS[2] then
  redis.call('DEL', KEYS[2])
end
return 1
`;
/** A Lua script and the SHA1 that EVALSHA names it by. */
const script = (source: string) => ({ source, sha: createHash('sha1').update(source).digest('hex') });
// The record and an attempt count with its TTL (rate-limiter-flexible's own layout: the points
// consumed as an integer, expiring when the count resets). KEYS: record, count.
const getUserWithCountScript = `
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('PTTL', KEYS[2])}
`;

const scripts = {
  setIfGreater: script(setIfGreaterScript),
  takeIfEqual: script(takeIfEqualScript),
  addMember: script(addMemberScript),
  getUserWithCount: script(getUserWithCountScript),
  members: script(membersScript),
  // ZREM through a script too, so that the client interface stays the few commands it is.
  removeMembers: script("return redis.call('ZREM', KEYS[1], unpack(ARGV))"),
};

/**
 * Keeps second-factor state in Redis, shared by every instance of the app. Redis errors are
 * never swallowed: every method rejects, and the caller answers 503 (fail closed).
 */
export class RedisStore implements TwoFactorStore {
  readonly #client: RedisStoreClient;
  readonly #prefix: string;

  constructor(options: RedisStoreOptions) {
    const { client, prefix = 'sf:' } = options ?? ({} as Partial<RedisStoreOptions>);
    if (client === undefined || client === null || typeof client !== 'object') {
      throw new TypeError('RedisStore: option `client` (a connected node-redis client) is required');
    }
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new TypeError(`RedisStore: option \`prefix\` must be a string without { or }, got ${JSON.stringify(prefix)}`);
    }
    this.#client = client;
    this.#prefix = prefix;
  }

  // The user id is a hash tag, so a person's record and any key the flow tags with
  // `{userId}` share one cluster slot and can be changed together.
  #userKey(userId: string): string {
    return `${this.#prefix}user:{${userId}}`;
  }

  // A hash tag inside the logical key survives: the prefix has no braces of its own.
  #key(key: string): string {
    return this.#prefix + key;
  }

  async getUser(userId: string): Promise<UserRecord | null> {
    const json = await this.#client.get(this.#userKey(userId));
    return json === null ? null : decodeRecord(String(json));
  }

  async getUserWithCount(userId: string, count: LimiterKey): Promise<{ record: UserRecord | null; count: CountReading }> {
    const reply = await this.#run(scripts.getUserWithCount, [this.#userKey(userId), this.#limiterKey(count)], []);
    const [json, consumed, pttl] = reply as [unknown, unknown, unknown];
    return {
      record: json === null ? null : decodeRecord(String(json)),
      count: consumed === null ? { consumed: 0, msLeft: 0 } : { consumed: Number(consumed), msLeft: Math.max(0, Number(pttl)) },
    };
  }

  async saveUser(userId: string, record: UserRecord): Promise<void> {
    await this.#client.set(this.#userKey(userId), encodeRecord(record));
  }

  async deleteUser(userId: string): Promise<void> {
    await this.#client.del([this.#userKey(userId)]);
  }

  // One MGET. On a cluster node-redis 6 splits it by slot (every person is in a slot of their
  // own) and answers in the order asked: checked by the contract suite in test/cluster.test.ts.
  async getUsers(userIds: readonly string[]): Promise<(UserRecord | null)[]> {
    if (userIds.length === 0) return [];
    const replies = await this.#client.mGet(userIds.map((userId) => this.#userKey(userId)));
    if (!Array.isArray(replies) || replies.length !== userIds.length) {
      throw new Error(`getUsers: MGET answered ${Array.isArray(replies) ? replies.length : typeof replies} values for ${userIds.length} keys`);
    }
    return replies.map((json) => (json === null ? null : decodeRecord(String(json))));
  }

  async get(key: string): Promise<string | null> {
    const value = await this.#client.get(this.#key(key));
    return value === null ? null : String(value);
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds === undefined) {
      await this.#client.set(this.#key(key), value);
    } else {
      await this.#client.set(this.#key(key), value, { EX: checkedTtl(ttlSeconds) });
    }
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.#client.set(this.#key(key), value, { EX: checkedTtl(ttlSeconds), NX: true });
    return reply !== null;
  }

  async take(key: string): Promise<string | null> {
    // One GETDEL, never GET then DEL: of parallel callers only one may get a one-time value.
    const value = await this.#client.getDel(this.#key(key));
    return value === null ? null : String(value);
  }

  async takeIfEqual(key: string, value: string, andReset?: LimiterKey): Promise<boolean> {
    const keys = [this.#key(key), ...(andReset ? [this.#limiterKey(andReset)] : [])];
    return Number(await this.#run(scripts.takeIfEqual, keys, [value])) === 1;
  }

  // One DEL for all keys, so it is atomic. On a cluster only keys sharing a hash tag (one
  // slot) are deleted together atomically: node-redis 6's cluster client splits a DEL over
  // several slots into one DEL per slot (checked in test/cluster.test.ts), so keys that must
  // go together (a person's, tagged `{userId}`) must share the tag.
  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#client.del(keys.map((key) => this.#key(key)));
  }

  async increment(key: string, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new RangeError(`increment: \`by\` must be a whole number, got ${String(by)}`);
    return Number(await this.#client.incrBy(this.#key(key), by));
  }

  async setIfGreater(key: string, value: number, andReset?: LimiterKey): Promise<boolean> {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`setIfGreater: \`value\` must be a whole number, got ${String(value)}`);
    }
    const keys = [this.#key(key), ...(andReset ? [this.#limiterKey(andReset)] : [])];
    const reply = await this.#run(scripts.setIfGreater, keys, [String(value)]);
    return Number(reply) === 1;
  }

  // rate-limiter-flexible's own key for a count (RateLimiterAbstract#getKey): `${keyPrefix}:${key}`.
  #limiterKey({ keyPrefix, key }: LimiterKey): string {
    return `${this.#prefix}${keyPrefix}:${key}`;
  }

  async addMember(key: string, member: string, ttlSeconds: number, detail?: MemberDetail): Promise<void> {
    const now = Date.now();
    const keys = [this.#key(key), ...(detail ? [this.#key(detail.key)] : [])];
    await this.#run(scripts.addMember, keys, [member, String(now + checkedTtl(ttlSeconds) * 1000), String(now), ...(detail ? [detail.value] : [])]);
  }

  async members(key: string): Promise<string[]> {
    const reply = await this.#run(scripts.members, this.#key(key), [String(Date.now())]);
    return (reply as unknown[]).map(String);
  }

  async removeMembers(key: string, ...members: string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#run(scripts.removeMembers, this.#key(key), members);
  }

  /** Runs a script by its SHA1, sending its source only when Redis does not have it. */
  async #run(which: { source: string; sha: string }, key: string | string[], args: string[]): Promise<unknown> {
    const options = { keys: Array.isArray(key) ? key : [key], arguments: args };
    try {
      return await this.#client.evalSha(which.sha, options);
    } catch (error) {
      // The script cache is empty after a restart or failover; any other error propagates.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#client.eval(which.source, options);
    }
  }

  createLimiter(options: LimiterOptions): RateLimiterAbstract {
    // Fail closed: no `insuranceLimiter`, so a Redis failure is never answered from a
    // per-process memory count. rate-limiter-flexible then rejects `consume` in two ways:
    // with a `RateLimiterRes` when the key is over its limit, and with an `Error` when Redis
    // failed. Callers must tell them apart (`instanceof RateLimiterRes`) and answer 429 vs 503.
    // `rejectIfRedisNotReady` makes it fail at once while the client is disconnected, even for
    // clients created without `disableOfflineQueue`.
    return new RateLimiterRedis({
      storeClient: this.#client,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: this.#prefix + options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
    });
  }
}

/**
 * A record as Redis keeps it: JSON, with the recovery-code hashes joined into one string (they
 * never hold a comma): ten of them then cost 20 bytes less, which takes a person enrolled with
 * an authenticator app below a size class of Redis's allocator (see BENCHMARKS.md row 4).
 * Records written with the array read back the same.
 */
function encodeRecord(record: UserRecord): string {
  const codes = record.recoveryCodes;
  if (!codes || codes.some((hash) => hash.includes(','))) return JSON.stringify(record);
  return JSON.stringify({ ...record, recoveryCodes: codes.join(',') });
}

function decodeRecord(json: string): UserRecord {
  const stored = JSON.parse(json) as Omit<UserRecord, 'recoveryCodes'> & { recoveryCodes?: string | readonly string[] };
  const codes = stored.recoveryCodes;
  if (typeof codes !== 'string') return stored as UserRecord;
  return { ...stored, recoveryCodes: codes === '' ? [] : codes.split(',') };
}

/** Redis rejects such TTLs too, but only after a round trip and with a less helpful message. */
function checkedTtl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`TTL must be a positive whole number of seconds, got ${String(ttlSeconds)}`);
  }
  return ttlSeconds;
}
