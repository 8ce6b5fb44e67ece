import type { Request } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { deviceNameOf, type DeviceName } from './device-name.js';

/** How long an index entry lives when the session cookie has no maxAge: connect-redis's default TTL. */
export const DEFAULT_SESSION_INDEX_TTL_SECONDS = 24 * 60 * 60;

/** Last seen is written at most this often (and only from the person's own pages). */
export const LAST_SEEN_EVERY_MS = 60_000;

/** What the settings page shows of one indexed session, stored compactly beside its entry. */
export interface SessionEntry extends DeviceName {
  /** Opaque id for the page: a keyed hash of the session id, which never leaves the server. */
  readonly id: string;
  /** When it signed in (ms). */
  readonly signedInAt?: number;
  /** When it was last seen on the person's own pages (ms). */
  readonly lastSeenAt?: number;
  /** The request's own session. */
  readonly current: boolean;
}

/** Stored form: short names, one small JSON value per session. */
interface StoredMeta {
  readonly b?: string;
  readonly o?: string;
  readonly at?: number;
  readonly seen?: number;
}

declare module 'express-session' {
  interface SessionData {
    /** When this session's last-seen time was last written (ms): spares a store write per page. */
    secondFactorSeenAt?: number;
  }
}

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
  // Each step below takes the config (its store, secrets, clock and the sessionIndex switch).
  return {
    add: (req: Request, userId: string): Promise<void> => add(config, req, userId),
    remove: (userId: string, sid: string): Promise<void> => remove(config, userId, sid),
    endOthers: (req: Request, userId: string): Promise<number> => endOthers(config, req, userId),
    endOne: (req: Request, userId: string, entryId: string): Promise<boolean> => endOne(config, req, userId, entryId),
    list: (req: Request, userId: string): Promise<SessionEntry[]> => list(config, req, userId),
    touch: (req: Request, userId: string, signedInAt: number): Promise<void> => touch(config, req, userId, signedInAt),
    keyOf,
  };
}

const keyOf = (userId: string) => `sessions:{${userId}}`;
const entryIdOf = (config: Config, sid: string) => config.secrets.hash(`session-entry:${sid}`);
// The person's hash tag again: one cluster slot with the index, so ending several sessions
// deletes their details in one DEL, and nothing of anyone else's is read.
const metaKeyOf = (config: Config, userId: string, sid: string) => `session:{${userId}}:${entryIdOf(config, sid)}`;

/**
 * The session's remaining life in whole seconds: express-session's cookie maxAge when it has
 * one (connect-redis uses it as the session's TTL too), else connect-redis's default day.
 */
function ttlOf(req: Request): number {
  const maxAge = req.session?.cookie?.maxAge;
  if (typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge > 0) return Math.ceil(maxAge / 1000);
  return DEFAULT_SESSION_INDEX_TTL_SECONDS;
}

/** Records the request's (new) session as the person's, with its details, in one store step. Rejects on a store failure. */
async function add(config: Config, req: Request, userId: string): Promise<void> {
  if (!config.sessionIndex) return;
  const now = config.now();
  const detail = { key: metaKeyOf(config, userId, req.sessionID), value: metaOf(req, now, now) };
  await config.store.addMember(keyOf(userId), req.sessionID, ttlOf(req), detail);
  req.session.secondFactorSeenAt = now;
}

/** The stored details of the request's session: its device name and times. */
function metaOf(req: Request, signedInAt: number, now: number): string {
  const { browser, os } = deviceNameOf(req.get('user-agent'));
  const meta: StoredMeta = { ...(browser ? { b: browser } : {}), ...(os ? { o: os } : {}), at: signedInAt, seen: now };
  return JSON.stringify(meta);
}

/** The details of the request's session written again (last seen now), under the index entry's TTL. */
async function writeMeta(config: Config, req: Request, userId: string, ttl: number, signedInAt: number): Promise<void> {
  const now = config.now();
  await config.store.set(metaKeyOf(config, userId, req.sessionID), metaOf(req, signedInAt, now), ttl);
  req.session.secondFactorSeenAt = now;
}

/**
 * Marks the request's session as seen now, at most once a minute: called from the person's
 * own settings page only, never from the guard, whose verified path stays free of store calls.
 * No read: the sign-in time comes from the session itself.
 */
async function touch(config: Config, req: Request, userId: string, signedInAt: number): Promise<void> {
  if (!config.sessionIndex) return;
  const seen = req.session.secondFactorSeenAt;
  if (seen !== undefined && config.now() - seen < LAST_SEEN_EVERY_MS) return;
  await writeMeta(config, req, userId, ttlOf(req), signedInAt);
}

/** The person's open sessions, newest sign-in first: one read per session of theirs. */
async function list(config: Config, req: Request, userId: string): Promise<SessionEntry[]> {
  if (!config.sessionIndex) return [];
  const { store } = config;
  const sids = await store.members(keyOf(userId));
  const entries = await Promise.all(sids.map(async (sid) => toEntry(sid === req.sessionID, entryIdOf(config, sid), await store.get(metaKeyOf(config, userId, sid)))));
  return entries.sort((a, b) => (b.signedInAt ?? 0) - (a.signedInAt ?? 0));
}

/**
 * Ends one other session of the person, named by its entry id. False when no session of
 * theirs (other than the request's) has that id: the caller answers 404 and nothing changed.
 */
async function endOne(config: Config, req: Request, userId: string, entryId: string): Promise<boolean> {
  const { store } = config;
  const sessionStore = destroyingStore(req);
  const sid = (await store.members(keyOf(userId))).find((member) => member !== req.sessionID && entryIdOf(config, member) === entryId);
  if (sid === undefined) return false;
  await destroy(sessionStore, sid);
  await store.removeMembers(keyOf(userId), sid);
  await store.delete(metaKeyOf(config, userId, sid));
  return true;
}

/** Forgets one session of the person (it was signed out). */
async function remove(config: Config, userId: string, sid: string): Promise<void> {
  if (!config.sessionIndex) return;
  await config.store.removeMembers(keyOf(userId), sid);
  await config.store.delete(metaKeyOf(config, userId, sid));
}

/**
 * Destroys every indexed session of the person except the request's own, through the host's
 * session store, and forgets them. Returns how many were ended.
 */
async function endOthers(config: Config, req: Request, userId: string): Promise<number> {
  const { store } = config;
  const sessionStore = destroyingStore(req);
  const others = (await store.members(keyOf(userId))).filter((sid) => sid !== req.sessionID);
  await Promise.all(others.map((sid) => destroy(sessionStore, sid)));
  // Only the ones destroyed: a session that finished meanwhile (after the read) stays listed.
  if (others.length > 0) {
    await store.removeMembers(keyOf(userId), ...others);
    await store.delete(...others.map((sid) => metaKeyOf(config, userId, sid)));
  }
  return others.length;
}

function destroyingStore(req: Request): DestroyingSessionStore {
  const sessionStore = req.sessionStore as unknown as DestroyingSessionStore | undefined;
  if (!sessionStore || typeof sessionStore.destroy !== 'function') {
    throw new TwoFactorError('store_unavailable', 'the session index needs express-session (req.sessionStore) to end sessions');
  }
  return sessionStore;
}

const destroy = (sessionStore: DestroyingSessionStore, sid: string) =>
  new Promise<void>((resolve, reject) => sessionStore.destroy(sid, (error) => (error ? reject(error) : resolve())));

/** An entry without readable metadata (written before metadata existed) still lists and ends. */
function toEntry(current: boolean, id: string, raw: string | null): SessionEntry {
  let meta: StoredMeta = {};
  try {
    if (raw !== null) meta = JSON.parse(raw) as StoredMeta;
  } catch {
    // Unreadable: shown as an unknown device.
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const time = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const [browser, os, signedInAt, lastSeenAt] = [text(meta.b), text(meta.o), time(meta.at), time(meta.seen)];
  return {
    id, current,
    ...(browser ? { browser } : {}), ...(os ? { os } : {}),
    ...(signedInAt !== undefined ? { signedInAt } : {}), ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
  };
}

export type SessionIndex = ReturnType<typeof createSessionIndex>;
