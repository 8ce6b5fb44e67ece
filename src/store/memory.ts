import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CountReading, LimiterKey, LimiterOptions, MemberDetail, TwoFactorStore, UserRecord } from './types.js';

/** Options of `new MemoryStore()`. */
export interface MemoryStoreOptions {
  /**
   * How often values whose TTL has passed are removed, in milliseconds. Expired values are
   * never returned either way; the sweep only bounds memory for keys nobody reads again.
   * @default 60000
   */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  readonly value: string;
  /** ms since the epoch; `Infinity` when the value has no TTL. */
  readonly expiresAt: number;
}

const defaultSweepIntervalMs = 60_000;

/**
 * Keeps everything in this process: for tests, development and single-instance apps. Its state
 * is lost on restart and not shared between instances.
 */
export class MemoryStore implements TwoFactorStore {
  // Records are kept as JSON, as in Redis: a caller can never reach the stored object, and a
  // record reads back exactly as it would from RedisStore (undefined fields dropped).
  readonly #users = new Map<string, string>();
  readonly #values = new Map<string, Entry>();
  readonly #limiters = new Map<string, RateLimiterMemory[]>();
  /** Sets of members, each member with its own expiry (ms since the epoch). */
  readonly #sets = new Map<string, Map<string, number>>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    const sweepIntervalMs = options.sweepIntervalMs ?? defaultSweepIntervalMs;
    if (typeof sweepIntervalMs !== 'number' || !Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0) {
      throw new TypeError(
        `MemoryStore: option \`sweepIntervalMs\` must be a positive number of milliseconds, got ${String(sweepIntervalMs)}`,
      );
    }
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
    // The sweep must never be what keeps a process (or a test run) alive.
    this.#sweeper.unref();
  }

  /** Stops the periodic sweep. The store stays usable; expired values are then only dropped when read. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  /** How many user records and values are held, expired but not yet swept ones included. */
  size(): number {
    return this.#users.size + this.#values.size + this.#sets.size;
  }

  // Every method below does its read and write without an `await` in between: that is what
  // makes each of them atomic in one process, the way a single Redis command is.

  async getUser(userId: string): Promise<UserRecord | null> {
    const json = this.#users.get(userId);
    return json === undefined ? null : (JSON.parse(json) as UserRecord);
  }

  async getUserWithCount(userId: string, count: LimiterKey): Promise<{ record: UserRecord | null; count: CountReading }> {
    // Every limiter of that prefix (one per secondFactor() on this store): the highest count.
    let reading: CountReading = { consumed: 0, msLeft: 0 };
    for (const limiter of this.#limiters.get(count.keyPrefix) ?? []) {
      const res = await limiter.get(count.key);
      if (res && res.consumedPoints > reading.consumed) reading = { consumed: res.consumedPoints, msLeft: Math.max(0, res.msBeforeNext) };
    }
    return { record: await this.getUser(userId), count: reading };
  }

  async saveUser(userId: string, record: UserRecord): Promise<void> {
    this.#users.set(userId, JSON.stringify(record));
  }

  async deleteUser(userId: string): Promise<void> {
    this.#users.delete(userId);
  }

  async getUsers(userIds: readonly string[]): Promise<(UserRecord | null)[]> {
    return userIds.map((userId) => {
      const json = this.#users.get(userId);
      return json === undefined ? null : (JSON.parse(json) as UserRecord);
    });
  }

  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const expiresAt = ttlSeconds === undefined ? Infinity : expiryOf(ttlSeconds);
    this.#values.set(key, { value, expiresAt });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const expiresAt = expiryOf(ttlSeconds);
    if (this.#live(key)) return false;
    this.#values.set(key, { value, expiresAt });
    return true;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.#live(key);
    if (!entry) return null;
    this.#values.delete(key);
    return entry.value;
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) {
      this.#values.delete(key);
      this.#sets.delete(key);
    }
  }

  async addMember(key: string, member: string, ttlSeconds: number, detail?: MemberDetail): Promise<void> {
    const expiresAt = expiryOf(ttlSeconds);
    const set = this.#liveSet(key) ?? new Map<string, number>();
    set.set(member, expiresAt);
    this.#sets.set(key, set);
    if (detail) this.#values.set(detail.key, { value: detail.value, expiresAt });
  }

  async members(key: string): Promise<string[]> {
    return [...(this.#liveSet(key)?.keys() ?? [])];
  }

  async removeMembers(key: string, ...members: string[]): Promise<void> {
    const set = this.#sets.get(key);
    if (!set) return;
    for (const member of members) set.delete(member);
    if (set.size === 0) this.#sets.delete(key);
  }

  async increment(key: string, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new RangeError(`increment: \`by\` must be a whole number, got ${String(by)}`);
    const entry = this.#live(key);
    const current = entry ? integerValue(key, entry.value) : 0;
    const next = current + by;
    // Like INCRBY: the value's TTL, if any, is kept.
    this.#values.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? Infinity });
    return next;
  }

  async takeIfEqual(key: string, value: string, andReset?: LimiterKey): Promise<boolean> {
    if (this.#live(key)?.value !== value) return false;
    this.#values.delete(key);
    this.#reset(andReset);
    return true;
  }

  async setIfGreater(key: string, value: number, andReset?: LimiterKey): Promise<boolean> {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`setIfGreater: \`value\` must be a whole number, got ${String(value)}`);
    }
    const entry = this.#live(key);
    if (entry && value <= integerValue(key, entry.value)) return false;
    this.#values.set(key, { value: String(value), expiresAt: entry?.expiresAt ?? Infinity });
    this.#reset(andReset);
    return true;
  }

  // In the caller's synchronous step: no other call runs between its write and the reset
  // (RateLimiterMemory deletes synchronously).
  #reset(count: LimiterKey | undefined): void {
    if (count) for (const limiter of this.#limiters.get(count.keyPrefix) ?? []) void limiter.delete(count.key);
  }

  createLimiter(options: LimiterOptions): RateLimiterAbstract {
    const limiter = new RateLimiterMemory({
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
    });
    // Kept by prefix for the resets of setIfGreater and takeIfEqual.
    this.#limiters.set(options.keyPrefix, [...(this.#limiters.get(options.keyPrefix) ?? []), limiter]);
    return limiter;
  }

  /** The entry at `key` unless its TTL has passed (then it is removed). */
  #live(key: string): Entry | undefined {
    const entry = this.#values.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#values.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The set at `key` with its expired members dropped; `undefined` (and removed) once empty. */
  #liveSet(key: string): Map<string, number> | undefined {
    const set = this.#sets.get(key);
    if (!set) return undefined;
    const now = Date.now();
    for (const [member, expiresAt] of set) {
      if (expiresAt <= now) set.delete(member);
    }
    if (set.size > 0) return set;
    this.#sets.delete(key);
    return undefined;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#values) {
      if (entry.expiresAt <= now) this.#values.delete(key);
    }
    for (const key of [...this.#sets.keys()]) this.#liveSet(key);
  }
}

/** Redis refuses `EX 0`, negative or fractional TTLs; refusing them here keeps both stores alike. */
function expiryOf(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`TTL must be a positive whole number of seconds, got ${String(ttlSeconds)}`);
  }
  return Date.now() + ttlSeconds * 1000;
}

function integerValue(key: string, value: string): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`value at ${JSON.stringify(key)} is not an integer`);
  }
  return Number(value);
}
