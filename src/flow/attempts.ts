import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { LimiterKey, UserRecord } from '../store/types.js';

/** How long failed codes are remembered when no success clears them. */
const FAILURE_MEMORY_SECONDS = 24 * 60 * 60;

export type AttemptOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly lockedSeconds: number };

type Limiter = ReturnType<Config['store']['createLimiter']>;

const KEY_PREFIX = 'fail';

/**
 * The person's count is keyed with their hash tag, `{userId}`, like their other keys: a claim
 * that resets it in the same step (a right TOTP code) touches one Redis Cluster slot.
 */
const countKey = (userId: string): string => `{${userId}}`;

/**
 * What an attempt's check is handed: the person's failure count, for a store step that resets
 * it together with its own write. A check that did so sets `reset`; otherwise the attempt
 * clears the count itself after a right code (a round trip of its own).
 */
export interface FailureCount extends LimiterKey {
  reset: boolean;
}

/** One attempt: `evaluate` says whether the code is right; `alongside` runs in the same round trip as the reservation. */
export interface AttemptSteps {
  readonly evaluate: (count: FailureCount) => Promise<boolean>;
  readonly alongside?: () => Promise<unknown>;
  readonly onFailure?: (locked: boolean) => void;
}

/** What the limiter's steps below share: built once by `createAttemptLimiter`. */
interface AttemptContext {
  readonly config: Config;
  readonly limiter: Limiter;
  readonly lockoutMs: number;
}

/**
 * Failed-code accounting per person, shared by every session and every app instance because
 * the counter lives in the store. An attempt is reserved *before* the code is evaluated: of a
 * burst of parallel guesses at one below the limit, only one is evaluated.
 */
export function createAttemptLimiter(config: Config) {
  const limiter = config.store.createLimiter({
    keyPrefix: KEY_PREFIX,
    points: config.maxFailedAttempts,
    duration: FAILURE_MEMORY_SECONDS,
    blockDuration: config.lockoutSeconds,
  });
  const ctx: AttemptContext = { config, limiter, lockoutMs: config.lockoutSeconds * 1000 };

  return {
    /** Seconds left on a lock, 0 when not locked. */
    lockedSeconds(userId: string): Promise<number> {
      return lockedSeconds(ctx, userId);
    },

    /** The person's record and the seconds left on their lock, in one store call where the store can. */
    recordAndLock(userId: string): Promise<{ record: UserRecord | null; lockedSeconds: number }> {
      return recordAndLock(ctx, userId);
    },

    /**
     * Seconds left on the lock, known from the session (`lockedUntil`: the password step's
     * read, or a refused code): no store call while it notes none. A noted lock is asked
     * again, since an admin may have lifted it, and the note follows the answer.
     */
    async lockedSecondsNoted(userId: string, noted: { lockedUntil?: number }): Promise<number> {
      if ((noted.lockedUntil ?? 0) <= config.now()) {
        delete noted.lockedUntil;
        return 0;
      }
      const seconds = await lockedSeconds(ctx, userId);
      if (seconds > 0) noted.lockedUntil = config.now() + seconds * 1000;
      else delete noted.lockedUntil;
      return seconds;
    },

    /** Reserves an attempt (with `alongside` in the same round trip), runs `evaluate`, and records the outcome. */
    attempt(userId: string, steps: AttemptSteps): Promise<AttemptOutcome> {
      return attempt(ctx, userId, steps);
    },

    /** Clears failures and any lock (a success elsewhere, or an admin unlock). */
    clear(userId: string): Promise<void> {
      return clear(ctx, userId);
    },
  };
}

const storeFailure = (cause: unknown) =>
  new TwoFactorError('store_unavailable', 'the attempt counter could not be reached', { cause });

/** Runs one limiter call; a store failure becomes the package's 503 error. */
async function reach<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storeFailure(error);
  }
}

/**
 * Seconds left on the lock of a counter over the limit. Its key holds the counting TTL
 * (FAILURE_MEMORY_SECONDS) until the lock's write replaces it with the lockout: a refusal that
 * reads the key in between (parallel guesses, another instance) would say "24 hours". The lock
 * being written runs the lockout from about now, so that is what is left.
 */
const lockSecondsOf = (ctx: AttemptContext, res: Pick<RateLimiterRes, 'msBeforeNext'>): number => Math.max(1, Math.ceil(Math.min(res.msBeforeNext, ctx.lockoutMs) / 1000));

/**
 * Over the limit with the counting TTL still on the key: the lock's write is in flight, or was
 * lost with the instance that made it. Writing it again makes the lock last what we answer;
 * in flight, both writes end within the same moment.
 */
async function repairLock(ctx: AttemptContext, userId: string): Promise<void> {
  await reach(() => ctx.limiter.block(countKey(userId), ctx.config.lockoutSeconds));
}

async function lockedSeconds(ctx: AttemptContext, userId: string): Promise<number> {
  const res = await reach(() => ctx.limiter.get(countKey(userId)));
  return res && res.consumedPoints > ctx.config.maxFailedAttempts ? lockSecondsOf(ctx, res) : 0;
}

/**
 * The password step's read: the record and the lock, with the store's one-step read when it
 * has one (RedisStore: one script, not a GET beside the limiter's GET and PTTL), else both at
 * once. A store failure rejects as the record's read would.
 */
async function recordAndLock(ctx: AttemptContext, userId: string): Promise<{ record: UserRecord | null; lockedSeconds: number }> {
  const { store, maxFailedAttempts } = ctx.config;
  if (!store.getUserWithCount) {
    const [record, seconds] = await Promise.all([store.getUser(userId), lockedSeconds(ctx, userId)]);
    return { record, lockedSeconds: seconds };
  }
  const { record, count } = await store.getUserWithCount(userId, { keyPrefix: KEY_PREFIX, key: countKey(userId) });
  return { record, lockedSeconds: count.consumed > maxFailedAttempts ? lockSecondsOf(ctx, { msBeforeNext: count.msLeft }) : 0 };
}

/**
 * Reserves one attempt; over the limit, the lock answers. The reservation and `alongside` (the
 * record the check needs) are issued together: node-redis sends commands of one tick in one write.
 */
async function reserve(ctx: AttemptContext, userId: string, alongside: (() => Promise<unknown>) | undefined): Promise<RateLimiterRes | AttemptOutcome> {
  const loading = alongside?.();
  // Awaited after the reservation, but already on its way: its failure is the store's.
  loading?.catch(() => {});
  let reserved: RateLimiterRes;
  try {
    reserved = await ctx.limiter.consume(countKey(userId));
  } catch (rejection) {
    // rate-limiter-flexible rejects with a RateLimiterRes when over the limit and with an
    // Error when the store failed: the second must not read as "try again later".
    if (rejection instanceof RateLimiterRes) {
      if (rejection.msBeforeNext > ctx.lockoutMs) await repairLock(ctx, userId);
      return { ok: false, lockedSeconds: lockSecondsOf(ctx, rejection) };
    }
    throw storeFailure(rejection);
  }
  await loading;
  return reserved;
}

async function attempt(ctx: AttemptContext, userId: string, { evaluate, alongside, onFailure }: AttemptSteps): Promise<AttemptOutcome> {
  const { config, limiter } = ctx;
  const reserved = await reserve(ctx, userId, alongside);
  if (!(reserved instanceof RateLimiterRes)) return reserved;
  const count: FailureCount = { keyPrefix: KEY_PREFIX, key: countKey(userId), reset: false };
  if (await evaluate(count)) {
    if (!count.reset) await reach(() => limiter.delete(countKey(userId)));
    return { ok: true };
  }
  if (reserved.remainingPoints <= 0) {
    // The last allowed attempt failed: lock now, for the full lockout from this moment.
    await reach(() => limiter.block(countKey(userId), config.lockoutSeconds));
    onFailure?.(true);
    return { ok: false, lockedSeconds: config.lockoutSeconds };
  }
  onFailure?.(false);
  return { ok: false, lockedSeconds: 0 };
}

async function clear(ctx: AttemptContext, userId: string): Promise<void> {
  await reach(() => ctx.limiter.delete(countKey(userId)));
}

export type AttemptLimiter = ReturnType<typeof createAttemptLimiter>;
