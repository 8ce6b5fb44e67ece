import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { TwoFactorEventType } from '../events.js';
import { constantTimeEqual } from '../secrets.js';
import type { TwoFactorStore } from '../store/types.js';

/** The notified events whose mail carries a "This wasn't me" link. */
export const NOT_ME_CAUSES = ['enrolled', 'method_changed', 'reset'] as const satisfies readonly TwoFactorEventType[];
export type NotMeCause = (typeof NOT_ME_CAUSES)[number];

/** How long a link works unless `notMeLinkTtlSeconds` says otherwise: a week of mail reading. */
export const DEFAULT_NOT_ME_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * Anything longer is refused before it is decoded or hashed. A user id of a few hundred
 * characters still fits; a megabyte pasted into the URL costs nothing.
 */
export const MAX_NOT_ME_TOKEN_LENGTH = 1024;

/** What a valid, unexpired link says (its MAC checked): who, why, when. */
export interface NotMeClaim {
  readonly userId: string;
  readonly cause: NotMeCause;
  /** When the link was made (ms), i.e. when the change it reports happened. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The one-time key in the store, taken at confirmation. */
  readonly storeKey: string;
}

/** Why a link does nothing: `invalid` (malformed, oversized, tampered: 400) or `gone` (used or expired: 410). */
export type NotMeRefusal = 'invalid' | 'gone';

/** The signed payload, in short names (the whole token lives in a URL). */
interface Payload {
  readonly v: 1;
  readonly n: string;
  readonly u: string;
  readonly c: NotMeCause;
  readonly i: number;
  readonly e: number;
}

export interface NotMeLinksOptions {
  readonly store: TwoFactorStore;
  /** The host's 32-byte encryptionKey: only a subkey derived from it signs links. */
  readonly masterKey: Buffer;
  readonly ttlSeconds: number;
  readonly now: () => number;
}

/**
 * "This wasn't me" links: a random nonce, the person's id, the cause and an expiry, signed with
 * HMAC-SHA-256 under a key of its own (HKDF from encryptionKey: a leaked link key would not
 * open sealed secrets, and no other keyed hash of the package can be passed off as a link).
 * Single use: the nonce is written to the store at issue and taken atomically at confirmation.
 *
 * A link is about the person, not one enrolment: one for an enrolment that has since been
 * replaced still secures the account, since the stolen password behind it survives any
 * re-enrolment. Links live until used or expired; an admin reset does not void them.
 */
export function createNotMeLinks(options: NotMeLinksOptions) {
  const { store, ttlSeconds, now } = options;
  const key = Buffer.from(hkdfSync('sha256', options.masterKey, Buffer.alloc(0), 'passport-second-factor/not-me-link/v1', 32));
  const mac = (payload: string) => createHmac('sha256', key).update(`not-me.${payload}`, 'utf8').digest('base64url');
  const storeKeyOf = (userId: string, nonce: string) => `not-me:{${userId}}:${nonce}`;

  /**
   * A new token for `userId`, and the store write that makes it usable. The token is known at
   * once (the caller is synchronous); the write is the promise, which the caller awaits before
   * handing the link out.
   */
  function issue(userId: string, cause: NotMeCause): { token: string; stored: Promise<void> } {
    const issuedAt = now();
    const payload: Payload = { v: 1, n: randomBytes(16).toString('base64url'), u: userId, c: cause, i: issuedAt, e: issuedAt + ttlSeconds * 1000 };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    const stored = store.set(storeKeyOf(userId, payload.n), JSON.stringify({ cause, at: issuedAt }), ttlSeconds);
    return { token: `${body}.${mac(body)}`, stored };
  }

  /** The claim of a well-formed, authentic, unexpired token; no store call. */
  function verify(token: unknown): NotMeClaim | NotMeRefusal {
    if (typeof token !== 'string' || token.length > MAX_NOT_ME_TOKEN_LENGTH) return 'invalid';
    const match = /^([A-Za-z0-9_-]{1,1000})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return 'invalid';
    const [, body, signature] = match as unknown as [string, string, string];
    // Constant time: the MAC is the only secret in play, and it is checked before anything in
    // the payload is believed.
    if (!constantTimeEqual(mac(body), signature)) return 'invalid';
    const payload = parsePayload(body);
    if (!payload) return 'invalid';
    if (now() >= payload.e) return 'gone';
    return { userId: payload.u, cause: payload.c, issuedAt: payload.i, expiresAt: payload.e, storeKey: storeKeyOf(payload.u, payload.n) };
  }

  /** Not used yet (for the page: GET changes nothing, so this only reads). */
  async function isUnused(claim: NotMeClaim): Promise<boolean> {
    return (await store.get(claim.storeKey)) !== null;
  }

  /**
   * Spends the link: of parallel confirmations exactly one gets `true` (the store's atomic
   * take), and only that one may act.
   */
  async function consume(claim: NotMeClaim): Promise<boolean> {
    return (await store.take(claim.storeKey)) !== null;
  }

  /**
   * Gives a spent link back after the work it started failed (a store outage), so that the
   * person can try again. Best effort: the store that just failed may fail again (logged by
   * the caller's error page either way).
   */
  async function restore(claim: NotMeClaim): Promise<void> {
    const seconds = Math.ceil((claim.expiresAt - now()) / 1000);
    if (seconds > 0) await store.set(claim.storeKey, JSON.stringify({ cause: claim.cause, at: claim.issuedAt }), seconds).catch(() => {});
  }

  return { issue, verify, isUnused, consume, restore };
}

export type NotMeLinks = ReturnType<typeof createNotMeLinks>;

/** The payload of an authentic token; `undefined` when it is not one we would have signed. */
function parsePayload(body: string): Payload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const p = value as Partial<Payload> | null;
  const ok =
    typeof p === 'object' && p !== null && p.v === 1 && typeof p.n === 'string' && typeof p.u === 'string' && p.u !== '' &&
    (NOT_ME_CAUSES as readonly string[]).includes(p.c as string) && Number.isSafeInteger(p.i) && Number.isSafeInteger(p.e);
  return ok ? (p as Payload) : undefined;
}

/** A cause of a link, when `type` is one. */
export function notMeCauseOf(type: TwoFactorEventType): NotMeCause | undefined {
  return (NOT_ME_CAUSES as readonly string[]).includes(type) ? (type as NotMeCause) : undefined;
}
