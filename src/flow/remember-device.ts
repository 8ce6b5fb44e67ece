import type { CookieOptions, Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import type { Config } from '../options.js';
import { constantTimeEqual } from '../secrets.js';
import type { UserRecord } from '../store/types.js';
import { deviceNameOf, type DeviceName } from './device-name.js';

/** The cookie that holds a remembered device's token. */
export const REMEMBER_DEVICE_COOKIE = 'sf_device';

const DAY_MS = 24 * 60 * 60 * 1000;
const tokenShape = /^[A-Za-z0-9_-]{43}$/;
/** Housekeeping only: the decision is taken on `expiresAt` and config.now(), not on the TTL. */
const TTL_MARGIN_SECONDS = 24 * 60 * 60;

/** What the store knows of a remembered device: never the token, only under its keyed hash. */
interface DeviceRecord {
  readonly userId: string;
  readonly factorId: string;
  readonly expiresAt: number;
  /** For the settings page: when it was remembered (ms), and its browser and OS. */
  readonly since?: number;
  readonly browser?: string;
  readonly os?: string;
}

/** A device's record: under the person's hash tag, by the keyed hash of its token. */
const deviceKey = (userId: string, hash: string) => `device:{${userId}}:${hash}`;
// The person's devices are found through this set of their hashes (same hash tag), so that a
// reset or a change of factor deletes them from the store, not only voids them.
const indexOf = (userId: string) => `devices:{${userId}}`;

const cookieOptions = (req: Request): CookieOptions => ({ httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });

/** What the settings page shows of one remembered device. */
export interface RememberedDeviceEntry extends DeviceName {
  /** Opaque id for the page (a keyed hash of the stored hash): the token's hash stays server-side. */
  readonly id: string;
  readonly since?: number;
  readonly expiresAt: number;
  /** The request's own browser. */
  readonly current: boolean;
}

/**
 * "Remember this device": a random token in an HttpOnly cookie, known to the store only by
 * its keyed hash, bound to the person and to their enrolment (`factorId`), so a reset, a
 * re-enrolment or a method change voids it. Read at the password step only: the guard never
 * looks at it.
 */
export function createRememberedDevices(config: Config, days: number) {
  const { store, secrets } = config;
  const lifetimeMs = days * DAY_MS;
  const keyOf = (userId: string, token: string) => deviceKey(userId, secrets.hash(`device:${token}`));

  /** Remembers this browser for the person's current enrolment (nothing when the option is 0). */
  async function remember(req: Request, res: Response, userId: string, record: UserRecord): Promise<void> {
    if (days <= 0 || !record.factorId) return;
    const token = randomBytes(32).toString('base64url');
    const device: DeviceRecord = { userId, factorId: record.factorId, expiresAt: config.now() + lifetimeMs, since: config.now(), ...deviceNameOf(req.get('user-agent')) };
    const hash = secrets.hash(`device:${token}`);
    const ttl = days * 24 * 60 * 60 + TTL_MARGIN_SECONDS;
    // Indexed first: a device stored but not indexed would outlive a reset in the store.
    await store.addMember(indexOf(userId), hash, ttl);
    await store.set(deviceKey(userId, hash), JSON.stringify(device), ttl);
    res.cookie(REMEMBER_DEVICE_COOKIE, token, { ...cookieOptions(req), maxAge: lifetimeMs });
  }

  /**
   * True when the request carries a remembered device of this person's current enrolment that
   * has not expired. Any other token (tampered, another person's, expired, of an earlier
   * enrolment) is ignored and its cookie cleared. No store read without the cookie.
   */
  async function recognise(req: Request, res: Response, userId: string, record: UserRecord | null): Promise<boolean> {
    const token = readCookie(req, REMEMBER_DEVICE_COOKIE);
    if (token === undefined) return false;
    let valid = false;
    if (days > 0 && tokenShape.test(token) && record?.method && record.factorId) {
      const key = keyOf(userId, token);
      const raw = await store.get(key);
      const device = raw === null ? undefined : parseDevice(raw);
      valid = device !== undefined && device.userId === userId && constantTimeEqual(device.factorId, record.factorId) && config.now() < device.expiresAt;
      if (!valid && raw !== null) await store.delete(key);
    }
    if (!valid) res.clearCookie(REMEMBER_DEVICE_COOKIE, cookieOptions(req));
    return valid;
  }

  /** Deletes every remembered device of the person from the store, and their index. */
  async function forgetAll(userId: string): Promise<void> {
    const hashes = await store.members(indexOf(userId));
    // One DEL: every key shares the person's hash tag, so it is atomic on a cluster too.
    await store.delete(...hashes.map((hash) => deviceKey(userId, hash)), indexOf(userId));
  }

  const entryIdOf = (hash: string) => secrets.hash(`device-entry:${hash}`);

  /** The hash of the request's own remembered-device cookie, if it carries one. */
  function currentHash(req: Request): string | undefined {
    const token = readCookie(req, REMEMBER_DEVICE_COOKIE);
    return token !== undefined && tokenShape.test(token) ? secrets.hash(`device:${token}`) : undefined;
  }

  /** The person's remembered devices that still work: one read per device of theirs. */
  async function list(req: Request, userId: string): Promise<RememberedDeviceEntry[]> {
    const hashes = await store.members(indexOf(userId));
    const mine = currentHash(req);
    const read = await Promise.all(hashes.map(async (hash) => ({ hash, device: parseOrNone(await store.get(deviceKey(userId, hash))) })));
    return read
      .filter(({ device }) => device !== undefined && device.userId === userId && config.now() < device.expiresAt)
      .map(({ hash, device }) => toEntry(entryIdOf(hash), device!, hash === mine))
      .sort((a, b) => (b.since ?? 0) - (a.since ?? 0));
  }

  /** Forgets one device of the person by its entry id; false when none of theirs has it. */
  async function forget(userId: string, entryId: string): Promise<boolean> {
    const hash = (await store.members(indexOf(userId))).find((member) => entryIdOf(member) === entryId);
    if (hash === undefined) return false;
    await store.delete(deviceKey(userId, hash));
    await store.removeMembers(indexOf(userId), hash);
    return true;
  }

  return { remember, recognise, forgetAll, list, forget };
}

export type RememberedDevices = ReturnType<typeof createRememberedDevices>;

/** One cookie's value from the request, without needing cookie-parser in the host. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const parseOrNone = (raw: string | null) => (raw === null ? undefined : parseDevice(raw));

function toEntry(id: string, device: DeviceRecord, current: boolean): RememberedDeviceEntry {
  const { since, browser, os, expiresAt } = device;
  return { id, current, expiresAt, ...(since !== undefined ? { since } : {}), ...(browser ? { browser } : {}), ...(os ? { os } : {}) };
}

function parseDevice(raw: string): DeviceRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<DeviceRecord>;
    if (typeof value.userId === 'string' && typeof value.factorId === 'string' && typeof value.expiresAt === 'number') return value as DeviceRecord;
  } catch {
    // An unreadable entry counts as none.
  }
  return undefined;
}
