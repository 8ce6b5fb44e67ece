import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';

/** How long failed codes are remembered when no success clears them. */
const FAILURE_MEMORY_SECONDS = 24 * 60 * 60;

export type AttemptOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly lockedSeconds: number };

/**
 * Failed-code accounting per person, shared by every session and every app instance because
 * the counter lives in the store. An attempt is reserved *before* the code is evaluated: of a
 * burst of parallel guesses at one below the limit, only one is evaluated.
 */
export function createAttemptLimiter(config: Config) {
  const limiter = config.store.createLimiter({
    keyPrefix: 'fail',
    points: config.maxFailedAttempts,
    duration: FAILURE_MEMORY_SECONDS,
    blockDuration: config.lockoutSeconds,
  });

  const storeFailure = (cause: unknown) =>
    new TwoFactorError('store_unavailable', 'the attempt counter could not be reached', { cause });

  const lockoutMs = config.lockoutSeconds * 1000;

  /**
   * Seconds left on the lock of a counter over the limit. Its key holds the counting TTL
   * (FAILURE_MEMORY_SECONDS) until the lock's write replaces it with the lockout: a refusal that
   * reads the key in between (parallel guesses, another instance) would say "24 hours". The lock
   * being written runs the lockout from about now, so that is what is left.
   */
  const lockSecondsOf = (res: RateLimiterRes): number => Math.max(1, Math.ceil(Math.min(res.msBeforeNext, lockoutMs) / 1000));

  /**
   * Over the limit with the counting TTL still on the key: the lock's write is in flight, or was
   * lost with the instance that made it. Writing it again makes the lock last what we answer;
   * in flight, both writes end within the same moment.
   */
  async function repairLock(userId: string): Promise<void> {
    try {
      await limiter.block(userId, config.lockoutSeconds);
    } catch (error) {
      throw storeFailure(error);
    }
  }

  return {
    /** Seconds left on a lock, 0 when not locked. */
    async lockedSeconds(userId: string): Promise<number> {
      let res: RateLimiterRes | null;
      try {
        res = await limiter.get(userId);
      } catch (error) {
        throw storeFailure(error);
      }
      return res && res.consumedPoints > config.maxFailedAttempts ? lockSecondsOf(res) : 0;
    },

    /** Reserves an attempt, runs `evaluate`, and records the outcome. */
    async attempt(userId: string, evaluate: () => Promise<boolean>, onFailure?: (locked: boolean) => void): Promise<AttemptOutcome> {
      let reserved: RateLimiterRes;
      try {
        reserved = await limiter.consume(userId);
      } catch (rejection) {
        // rate-limiter-flexible rejects with a RateLimiterRes when over the limit and with an
        // Error when the store failed: the second must not read as "try again later".
        if (rejection instanceof RateLimiterRes) {
          if (rejection.msBeforeNext > lockoutMs) await repairLock(userId);
          return { ok: false, lockedSeconds: lockSecondsOf(rejection) };
        }
        throw storeFailure(rejection);
      }
      if (await evaluate()) {
        try {
          await limiter.delete(userId);
        } catch (error) {
          throw storeFailure(error);
        }
        return { ok: true };
      }
      if (reserved.remainingPoints <= 0) {
        // The last allowed attempt failed: lock now, for the full lockout from this moment.
        try {
          await limiter.block(userId, config.lockoutSeconds);
        } catch (error) {
          throw storeFailure(error);
        }
        onFailure?.(true);
        return { ok: false, lockedSeconds: config.lockoutSeconds };
      }
      onFailure?.(false);
      return { ok: false, lockedSeconds: 0 };
    },

    /** Clears failures and any lock (a success elsewhere, or an admin unlock). */
    async clear(userId: string): Promise<void> {
      try {
        await limiter.delete(userId);
      } catch (error) {
        throw storeFailure(error);
      }
    },
  };
}

export type AttemptLimiter = ReturnType<typeof createAttemptLimiter>;
