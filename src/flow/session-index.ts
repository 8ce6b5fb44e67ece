import type { Request } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';

/** How long an index entry lives when the session cookie has no maxAge: connect-redis's default TTL. */
export const DEFAULT_SESSION_INDEX_TTL_SECONDS = 24 * 60 * 60;

/** The part of express-session's store used here: every store has `destroy`. */
interface DestroyingSessionStore {
  destroy(sid: string, callback?: (error?: unknown) => void): void;
}

/**
 * Each person's finished sessions, kept in the package's store under the person's hash tag
 * (one cluster slot with their record): ending "all of a person's sessions" reads their own
 * entries, so its cost follows their sessions, never the size of the session store.
 */
export function createSessionIndex(config: Config) {
  const { store } = config;
  const keyOf = (userId: string) => `sessions:{${userId}}`;

  /**
   * The session's remaining life in whole seconds: express-session's cookie maxAge when it has
   * one (connect-redis uses it as the session's TTL too), else connect-redis's default day.
   */
  function ttlOf(req: Request): number {
    const maxAge = req.session?.cookie?.maxAge;
    if (typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge > 0) return Math.ceil(maxAge / 1000);
    return DEFAULT_SESSION_INDEX_TTL_SECONDS;
  }

  /** Records the request's (new) session as the person's. Rejects on a store failure. */
  async function add(req: Request, userId: string): Promise<void> {
    if (!config.sessionIndex) return;
    await store.addMember(keyOf(userId), req.sessionID, ttlOf(req));
  }

  /** Forgets one session of the person (it was signed out). */
  async function remove(userId: string, sid: string): Promise<void> {
    if (!config.sessionIndex) return;
    await store.removeMembers(keyOf(userId), sid);
  }

  /**
   * Destroys every indexed session of the person except the request's own, through the host's
   * session store, and forgets them. Returns how many were ended.
   */
  async function endOthers(req: Request, userId: string): Promise<number> {
    const sessionStore = req.sessionStore as unknown as DestroyingSessionStore | undefined;
    if (!sessionStore || typeof sessionStore.destroy !== 'function') {
      throw new TwoFactorError('store_unavailable', 'the session index needs express-session (req.sessionStore) to end sessions');
    }
    const others = (await store.members(keyOf(userId))).filter((sid) => sid !== req.sessionID);
    await Promise.all(
      others.map((sid) => new Promise<void>((resolve, reject) => sessionStore.destroy(sid, (error) => (error ? reject(error) : resolve())))),
    );
    // Only the ones destroyed: a session that finished meanwhile (after the read) stays listed.
    if (others.length > 0) await store.removeMembers(keyOf(userId), ...others);
    return others.length;
  }

  return { add, remove, endOthers, keyOf };
}

export type SessionIndex = ReturnType<typeof createSessionIndex>;
