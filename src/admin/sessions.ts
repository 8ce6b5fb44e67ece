import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { TwoFactorError } from '../errors.js';
import type { AdminConfig } from './options.js';
import type { SessionIndex } from '../flow/session-index.js';

type Callback<T> = (error: unknown, value?: T) => void;

/** The parts of an express-session store used here (MemoryStore and connect-redis have them). */
interface ListableSessionStore {
  destroy(sid: string, callback?: (error?: unknown) => void): void;
  get?(sid: string, callback: Callback<SessionData | null>): void;
  ids?(callback: Callback<string[]>): void;
  all?(callback: Callback<SessionData[] | Record<string, SessionData> | null>): void;
}

/** Sessions read at once while scanning, so a large store is never loaded whole. */
const BATCH = 100;

const call = <T>(run: (callback: Callback<T>) => void) =>
  new Promise<T | undefined>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

/**
 * Ends every session of a person after an admin reset, so that no session signed in with the
 * old factor outlives it. Done here, at the reset, rather than checked on each request: the
 * guard's finished-sign-in path must not cost a store round trip. The host's `endSessions`
 * wins; else the session index (`index`), whose cost follows the person's own sessions; the
 * scan of the whole session store only when the host turned the index off.
 */
export function createSessionEnder(admin: AdminConfig, index: SessionIndex | undefined) {
  /** Throws before anything changed when the sessions could not be ended at all. */
  function check(req: Request): void {
    if (!admin.endSessionsOnReset || admin.endSessions) return;
    if (index) {
      if (typeof (req.sessionStore as unknown as ListableSessionStore | undefined)?.destroy === 'function') return;
      throw new TwoFactorError('store_unavailable', 'endSessionsOnReset: no express-session store (req.sessionStore) to end sessions with; pass the endSessions option or set endSessionsOnReset: false');
    }
    const store = req.sessionStore as unknown as ListableSessionStore | undefined;
    const listable = store && typeof store.destroy === 'function' && ((typeof store.ids === 'function' && typeof store.get === 'function') || typeof store.all === 'function');
    if (!listable) {
      // Fail closed: a reset that silently left the person's sessions alive would mislead.
      throw new TwoFactorError('store_unavailable', 'endSessionsOnReset: the session store cannot list sessions (no ids()/get() or all()); pass the endSessions option or set endSessionsOnReset: false');
    }
  }

  /** Ends the person's sessions; `false` when this is turned off. */
  async function end(req: Request, userId: string): Promise<boolean> {
    if (!admin.endSessionsOnReset) return false;
    if (admin.endSessions) {
      await admin.endSessions(userId);
      return true;
    }
    if (index) {
      await index.endOthers(req, userId);
      return true;
    }
    return scan(req, userId);
  }

  /** The fallback: every session of the store is read to find the person's. */
  async function scan(req: Request, userId: string): Promise<boolean> {
    const store = req.sessionStore as unknown as ListableSessionStore;
    const owned = (session: SessionData | null | undefined) => session?.secondFactor?.userId === userId;
    const destroy = (sid: string) => call<void>((done) => store.destroy(sid, done));
    if (typeof store.ids === 'function' && typeof store.get === 'function') {
      const ids = (await call<string[]>((done) => store.ids!(done))) ?? [];
      for (let start = 0; start < ids.length; start += BATCH) {
        await Promise.all(
          ids.slice(start, start + BATCH).map(async (sid) => {
            if (sid === req.sessionID) return;
            if (owned(await call<SessionData | null>((done) => store.get!(sid, done)))) await destroy(sid);
          }),
        );
      }
      return true;
    }
    const all = (await call<SessionData[] | Record<string, SessionData> | null>((done) => store.all!(done))) ?? {};
    // express-session's MemoryStore answers { sid: session }, connect-redis [{ ...session, id }].
    const entries: [string, SessionData][] = Array.isArray(all)
      ? all.map((session) => [String((session as SessionData & { id?: unknown }).id), session])
      : Object.entries(all);
    await Promise.all(entries.filter(([sid, session]) => sid !== req.sessionID && owned(session)).map(([sid]) => destroy(sid)));
    return true;
  }

  return { check, end };
}

export type SessionEnder = ReturnType<typeof createSessionEnder>;
