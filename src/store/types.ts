import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** The second factor a person has enrolled. */
export type FactorMethod = 'totp' | 'sms' | 'passkey';

/**
 * One passkey or security key of a person (method `passkey`). Public data only (a public key
 * and an id are not secrets) and compact: a record with one credential stays well under 1 KiB,
 * so no attestation object, no AAGUID, no client data is kept.
 */
export interface PasskeyCredential {
  /** The credential id, base64url (no padding), as the browser reports it in `id`. */
  id: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter at the last accepted use (0: it keeps none). */
  counter: number;
  /** How the browser can reach it (usb, nfc, ble, internal, hybrid...), to hint the next prompt. */
  transports?: string[];
  /** Synced to a cloud keychain (a multi-device passkey) at the last use. */
  backedUp: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  /** The person's name for it ("YubiKey 5", "MacBook"). */
  name: string;
  createdAt: number;
  lastUsedAt?: number;
}

/**
 * What the store keeps about one person. Secrets and phone numbers arrive here already
 * encrypted: a store never sees them in clear.
 */
export interface UserRecord {
  /** Enrolment generation of the portal-wide switch this record belongs to. */
  readonly generation: number;
  /** Enrolled method; absent when the person has not enrolled. */
  readonly method?: FactorMethod;
  /** Random id of this enrolment: remembered devices and codes are bound to it. */
  readonly factorId?: string;
  /** Encrypted TOTP secret (method `totp`). */
  readonly secret?: string;
  /** Encrypted E.164 phone number (method `sms`). */
  readonly phone?: string;
  /** Last four digits of the phone, kept for the masked display. */
  readonly phoneLast4?: string;
  /** The person's passkeys and security keys (method `passkey`), one or more. */
  readonly passkeys?: readonly PasskeyCredential[];
  /** Keyed hashes of the unused recovery codes. */
  readonly recoveryCodes?: readonly string[];
  /** When the person enrolled (ms since the epoch). */
  readonly enrolledAt?: number;
  /** When the person chose "Skip for now" (ms since the epoch). */
  readonly skippedAt?: number;
  /** When a person who had skipped asked to enable 2FA: the next sign-in enrols, no skip offered. */
  readonly enableRequestedAt?: number;
  /**
   * When the person said "This wasn't me" (ms): the record holds nothing else but the
   * generation, and the second factor is locked until an admin resets it (deleting the record).
   */
  readonly reviewRequiredAt?: number;
}

/** Options for an attempt limiter created by a store (rate-limiter-flexible's names). */
export interface LimiterOptions {
  /** Namespace of the limiter's keys. */
  readonly keyPrefix: string;
  /** Attempts allowed per window. */
  readonly points: number;
  /** Window length in seconds. */
  readonly duration: number;
  /** Once over the limit, the key stays blocked this many seconds (0: until the window ends). */
  readonly blockDuration?: number;
}

/** One count of a limiter made by `createLimiter`: its `keyPrefix` and the counted key. */
export interface LimiterKey {
  readonly keyPrefix: string;
  readonly key: string;
}

/**
 * Where second-factor state lives. Two implementations ship (`MemoryStore`, `RedisStore`);
 * a team can write its own and check it with the exported contract suite.
 *
 * Every method is atomic on its own: the flow never reads, compares and writes a counter or
 * a one-time code in separate steps, so parallel requests and several app instances agree.
 */
/** An attempt count as `getUserWithCount` reads it: points consumed, and ms until it resets (0 and 0 when there is none). */
export interface CountReading {
  readonly consumed: number;
  readonly msLeft: number;
}

/** A value written beside a set member by `addMember`, living as long as the member. */
export interface MemberDetail {
  readonly key: string;
  readonly value: string;
}

export interface TwoFactorStore {
  /** The person's record, or `null` when there is none. */
  getUser(userId: string): Promise<UserRecord | null>;
  /** Replaces the person's record. */
  saveUser(userId: string, record: UserRecord): Promise<void>;
  /** Removes the person's record. */
  deleteUser(userId: string): Promise<void>;
  /**
   * The records of several people in one round trip (MGET on Redis), in the order of `userIds`,
   * `null` where a person has none. For work over many people (the policy page's dry run reads
   * the directory's people in batches of a few hundred), never one `getUser` per person.
   *
   * On Redis Cluster each record lives in its own person's slot, so node-redis splits the MGET
   * into one MGET per slot, sent to each master together (pipelined, not one after another)
   * and put back in order: still one wait per batch, not one per person.
   */
  getUsers(userIds: readonly string[]): Promise<(UserRecord | null)[]>;
  /**
   * The person's record and one attempt count of theirs (of a limiter this store created,
   * named as in setIfGreater's `andReset`), read in one step: the password step's one read.
   * Optional: without it, the two are read apart, in one round trip. On Redis Cluster the
   * count's key must share the person's hash tag.
   */
  getUserWithCount?(userId: string, count: LimiterKey): Promise<{ readonly record: UserRecord | null; readonly count: CountReading }>;

  /** A short-lived or settings value, or `null`. */
  get(key: string): Promise<string | null>;
  /** Writes a value, expiring after `ttlSeconds` when given. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Writes a value only when the key is absent; `true` when it was written. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Reads and removes a value in one step; of parallel callers at most one gets it. */
  take(key: string): Promise<string | null>;
  /**
   * Removes `key` only while it holds exactly `value`, in one step; `true` when it did. Of
   * parallel callers at most one gets `true`, and a value that replaced `value` meanwhile is
   * left alone. With `andReset`, removing also resets that attempt count (see setIfGreater).
   */
  takeIfEqual(key: string, value: string, andReset?: LimiterKey): Promise<boolean>;
  /** Removes keys (absent ones are ignored). */
  delete(...keys: string[]): Promise<void>;
  /** Atomically adds `by` to an integer value (absent counts as 0) and returns the result. */
  increment(key: string, by?: number): Promise<number>;
  /**
   * Stores `value` only when it is greater than the number stored at `key` (absent: always).
   * Returns `true` when it was stored. Used to accept each TOTP time step at most once.
   *
   * With `andReset`, storing also resets that attempt count (of the limiter this store created
   * with its `keyPrefix`) in the same atomic step: a right code clears the person's failures
   * without a round trip of its own. On Redis Cluster the count's key must share `key`'s hash
   * tag (both are tagged with the person's `{userId}`).
   */
  setIfGreater(key: string, value: number, andReset?: LimiterKey): Promise<boolean>;

  /**
   * Adds `member` to the set at `key`, where it lives `ttlSeconds` (re-adding renews it); the
   * set itself lives as long as its longest-lived member. Members past their TTL are never
   * returned. Used for a person's index of sessions and remembered devices: keyed with the
   * person's hash tag, so that on Redis Cluster it shares their slot.
   *
   * With `detail`, also writes `detail.value` at `detail.key`, with the same TTL, in the same
   * step (the member's details, e.g. a session's device name: a sign-in writes both with one
   * command). On Redis Cluster `detail.key` must share `key`'s hash tag.
   */
  addMember(key: string, member: string, ttlSeconds: number, detail?: MemberDetail): Promise<void>;
  /** The live members of the set at `key` (none when absent), in no particular order. */
  members(key: string): Promise<string[]>;
  /** Removes members from the set at `key` (absent ones are ignored). `delete(key)` removes the whole set. */
  removeMembers(key: string, ...members: string[]): Promise<void>;

  /** An attempt limiter whose counts live where this store's data lives. */
  createLimiter(options: LimiterOptions): RateLimiterAbstract;
}
