import { randomInt } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TwoFactorError, isTwoFactorError } from '../../errors.js';
import type { Config } from '../../options.js';
import { constantTimeEqual, randomId, type SecretBox } from '../../secrets.js';
import type { FailureCount } from '../../flow/attempts.js';
import type { TwoFactorStore } from '../../store/types.js';

/** What a person may do with one code before it is void. */
export const SMS_TRIES_PER_CODE = 5;
const HOUR_SECONDS = 60 * 60;

/** A six-digit code, uniformly drawn: `000000` to `999999`, leading zeros kept. */
export function newSmsCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** The stored form of the one live code of a person: never the code itself. */
interface CodeRecord {
  readonly id: string;
  /** Keyed hash of the code, salted with the user and the record id. */
  readonly hash: string;
  /** The pending session that asked for it. */
  readonly binding: string;
  /** Keyed hash of the number it was sent to. */
  readonly phone: string;
  /** config.now() when it was sent: expiry is decided from this, not from the store's TTL. */
  readonly issuedAt: number;
}

export type SmsCheck = 'ok' | 'wrong' | 'expired' | 'spent' | 'none';

/** The hourly cap that refused a send: the person's account, or the number it goes to. */
export type SmsCap = 'account' | 'number';

/**
 * `sms_quota`, saying which cap refused the send: the page names it and when it lifts. The
 * same code and status as any `sms_quota`; only the detail is added.
 */
export class SmsQuotaError extends TwoFactorError {
  readonly cap: SmsCap;

  constructor(cap: SmsCap, retryAfterSeconds: number) {
    super('sms_quota', `too many text messages ${cap === 'account' ? 'for this account' : 'to this number'} in the last hour`, { retryAfterSeconds });
    this.cap = cap;
  }
}

export interface SmsRequest {
  readonly userId: string;
  /** The random id of the pending session: the code works only there. */
  readonly binding: string;
  /** E.164. */
  readonly phone: string;
  /** The text, given the code. */
  readonly body: (code: string) => string;
  /**
   * The binding was made for this send (the password step's): no earlier send of it can exist
   * and no other request knows it yet, so its cooldown is claimed in one step.
   */
  readonly newBinding?: boolean;
}

/** What a send answers: when it went out, and the id of its code (the session keeps it, to count tries without a read). */
export interface SmsSent {
  readonly sentAt: number;
  readonly codeId: string;
}

/** The reads a check needs, issued up front (with the attempt's reservation): the live code, and a try of it. */
export interface SmsLookup {
  readonly raw: string | null;
  /** The try of the code the session knows of: taken, refused (`spent`), or not asked (no id). */
  readonly tried: 'taken' | 'spent' | undefined;
  readonly codeId: string | undefined;
}

/** What the functions below share: built once per `createSmsCodes`. */
interface SmsContext {
  readonly config: Config;
  readonly store: TwoFactorStore;
  readonly secrets: SecretBox;
  readonly ttlMs: number;
  readonly cooldownMs: number;
  readonly cooldownKeyTtl: number;
  readonly perAccount: RateLimiterAbstract;
  readonly perNumber: RateLimiterAbstract;
  readonly triesPerCode: RateLimiterAbstract;
}

function createContext(config: Config): SmsContext {
  const { store } = config;
  return {
    config,
    store,
    secrets: config.secrets,
    ttlMs: config.smsCodeTtlSeconds * 1000,
    cooldownMs: config.resendCooldownSeconds * 1000,
    // Housekeeping only: the decisions are taken on config.now(). The margin outlives a store
    // clock that runs a little behind ours.
    cooldownKeyTtl: config.resendCooldownSeconds + 60,
    perAccount: store.createLimiter({ keyPrefix: 'sms-account', points: config.smsPerAccountPerHour, duration: HOUR_SECONDS }),
    perNumber: store.createLimiter({ keyPrefix: 'sms-number', points: config.smsPerNumberPerHour, duration: HOUR_SECONDS }),
    triesPerCode: store.createLimiter({ keyPrefix: 'sms-tries', points: SMS_TRIES_PER_CODE, duration: config.smsCodeTtlSeconds }),
  };
}

const codeKey = (userId: string) => `sms-code:{${userId}}`;
// Tagged with the user (one cluster slot with the person's keys); one pointer per sign-in.
const cooldownKey = (userId: string, binding: string) => `sms-cooldown:{${userId}}:${binding}`;
const phoneKey = (ctx: SmsContext, phone: string) => ctx.secrets.hash(`sms-number:${phone}`);
// The user and record id go into the hashed value, so equal codes never hash alike.
const hashInput = (userId: string, id: string, code: string) => `sms-code:${userId}:${id}:${code}`;

const storeFailure = (cause: unknown) =>
  isTwoFactorError(cause) ? cause : new TwoFactorError('store_unavailable', 'the text-message state could not be reached', { cause });

function cooldownRefusal(ctx: SmsContext, waitMs: number): TwoFactorError {
  const seconds = Math.min(ctx.config.resendCooldownSeconds, Math.max(1, Math.ceil(waitMs / 1000)));
  return new TwoFactorError('resend_cooldown', 'a code was sent moments ago', { retryAfterSeconds: seconds });
}

/**
 * Claims the right to send now for this sign-in, or throws `resend_cooldown`. The cooldown runs on
 * config.now(), while store TTLs run on the store's clock (Redis's, and never a test's fake
 * one), so an expired TTL cannot be what ends it. Instead each send claims, with
 * setIfAbsent, the successor of the send before it: of parallel requests after the cooldown
 * exactly one gets that key. The returned `giveBack` undoes the claim when nothing was sent.
 */
async function claimCooldown(ctx: SmsContext, userId: string, binding: string, newBinding = false): Promise<() => Promise<void>> {
  const { store, config, cooldownMs, cooldownKeyTtl } = ctx;
  const pointer = cooldownKey(userId, binding);
  if (newBinding && (await store.setIfAbsent(pointer, String(config.now()), cooldownKeyTtl))) return () => store.delete(pointer);
  for (let round = 0; round < 3; round += 1) {
    const now = config.now();
    const last = await store.get(pointer);
    if (last !== null && Number(last) + cooldownMs > now) throw cooldownRefusal(ctx, Number(last) + cooldownMs - now);
    const successor = `${pointer}:after:${last ?? 'none'}`;
    if (await store.setIfAbsent(successor, String(now), cooldownKeyTtl)) {
      await store.set(pointer, String(now), cooldownKeyTtl);
      return async () => {
        if (last === null) await store.delete(pointer);
        else await store.set(pointer, last, cooldownKeyTtl);
        await store.delete(successor);
      };
    }
    const rival = await store.get(successor);
    if (rival !== null && Number(rival) + cooldownMs > now) throw cooldownRefusal(ctx, Number(rival) + cooldownMs - now);
    // The rival gave its claim back, or moved the pointer on since: look again.
  }
  // Fail closed under a contention this heavy: ask the person to wait rather than send twice.
  throw cooldownRefusal(ctx, 1000);
}

/** Takes one send from a cap, or throws `sms_quota` naming it; a store failure is not a quota. */
async function reserve(limiter: RateLimiterAbstract, key: string, cap: SmsCap): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new SmsQuotaError(cap, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    throw storeFailure(rejection);
  }
}

/**
 * Seconds before "Resend" may send again in this sign-in; 0 when it may now, or when the
 * sign-in has no binding yet (nothing was sent for it).
 */
async function cooldownSeconds(ctx: SmsContext, userId: string, binding: string | undefined): Promise<number> {
  if (binding === undefined) return 0;
  let last: string | null;
  try {
    last = await ctx.store.get(cooldownKey(userId, binding));
  } catch (error) {
    throw storeFailure(error);
  }
  if (last === null) return 0;
  const waitMs = Number(last) + ctx.cooldownMs - ctx.config.now();
  return waitMs > 0 ? Math.min(ctx.config.resendCooldownSeconds, Math.ceil(waitMs / 1000)) : 0;
}

/**
 * Sends a new code, which voids the previous one of this person. Throws `resend_cooldown`
 * (this sign-in sent one moments ago), `sms_quota` (an `SmsQuotaError`; both with
 * `retryAfterSeconds`), `sms_failed` or `store_unavailable`.
 *
 * The cooldown and both hourly caps are taken *before* the send and given back when it
 * fails: checking first and counting after success would let a parallel burst pass the
 * checks together and send past the cap. The price is that while one send is in flight a
 * parallel request may be refused although that send then fails, which errs on the safe side.
 */
/**
 * The cooldown and both hourly caps, taken together (one round trip): when one refuses, those
 * taken are given back and its refusal is thrown, the cooldown's first.
 */
async function reserveSend(ctx: SmsContext, request: SmsRequest, giveBack: Array<() => Promise<unknown>>): Promise<void> {
  const { perAccount, perNumber } = ctx;
  const { userId } = request;
  const numberKey = phoneKey(ctx, request.phone);
  const [cooldown, account, number] = await Promise.allSettled([
    claimCooldown(ctx, userId, request.binding, request.newBinding).catch((error: unknown) => Promise.reject(storeFailure(error))),
    reserve(perAccount, userId, 'account'),
    reserve(perNumber, numberKey, 'number'),
  ]);
  if (cooldown.status === 'fulfilled') giveBack.push(cooldown.value);
  if (account.status === 'fulfilled') giveBack.push(() => perAccount.reward(userId, 1));
  if (number.status === 'fulfilled') giveBack.push(() => perNumber.reward(numberKey, 1));
  const refused = [cooldown, account, number].find((outcome) => outcome.status === 'rejected');
  if (refused) throw refused.reason;
}

async function send(ctx: SmsContext, request: SmsRequest): Promise<SmsSent> {
  const { config } = ctx;
  const { userId, phone } = request;
  const giveBack: Array<() => Promise<unknown>> = [];
  let sent = false;
  try {
    await reserveSend(ctx, request, giveBack);
    const code = newSmsCode();
    const id = randomId();
    const sentAt = config.now();
    try {
      await config.sms.send(phone, request.body(code));
    } catch (error) {
      throw isTwoFactorError(error) && error.code === 'sms_failed'
        ? error
        : new TwoFactorError('sms_failed', 'the text-message sender failed', { cause: error });
    }
    sent = true;
    // Written after the provider accepted the message, so a failed send leaves the previous
    // code usable; one key per person, so this code voids the one before.
    const record: CodeRecord = { id, hash: ctx.secrets.hash(hashInput(userId, id, code)), binding: request.binding, phone: phoneKey(ctx, phone), issuedAt: sentAt };
    try {
      await ctx.store.set(codeKey(userId), JSON.stringify(record), config.smsCodeTtlSeconds);
    } catch (error) {
      throw storeFailure(error);
    }
    return { sentAt, codeId: id };
  } catch (error) {
    if (!sent) await giveBackAll(ctx, giveBack);
    throw error;
  }
}

async function giveBackAll(ctx: SmsContext, steps: ReadonlyArray<() => Promise<unknown>>): Promise<void> {
  for (const step of [...steps].reverse()) {
    try {
      await step();
    } catch (error) {
      // Left consumed: the person waits longer, nothing is sent more often.
      ctx.config.logger.error(`second factor: could not give back a text-message reservation: ${error instanceof Error ? error.message : typeof error}`);
    }
  }
}

/** One try of a code, or `spent` when it had its tries. */
async function tryCode(ctx: SmsContext, userId: string, codeId: string): Promise<'taken' | 'spent'> {
  try {
    await ctx.triesPerCode.consume(`${userId}:${codeId}`);
    return 'taken';
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return 'spent';
    throw storeFailure(rejection);
  }
}

/**
 * The live code and, when the session knows its id, a try of it: issued in one tick, so they
 * travel with whatever else the caller sends then (the attempt's reservation).
 */
function lookup(ctx: SmsContext, userId: string, codeId: string | undefined): Promise<SmsLookup> {
  const raw = ctx.store.get(codeKey(userId)).catch((error: unknown) => Promise.reject(storeFailure(error)));
  const tried = codeId === undefined ? Promise.resolve(undefined) : tryCode(ctx, userId, codeId);
  return Promise.all([raw, tried]).then(([value, attempt]) => ({ raw: value, tried: attempt, codeId }));
}

/**
 * Checks a code for the person's pending session and number, and on a match consumes it (and,
 * given `count`, resets the failures in the same step). `looked` is the lookup issued before;
 * without it the check reads for itself. The caller counts the attempt (attempts.attempt).
 */
async function check(ctx: SmsContext, userId: string, expected: { binding: string | undefined; phone: string }, code: string, options: { looked?: SmsLookup; count?: FailureCount } = {}): Promise<SmsCheck> {
  const { config } = ctx;
  const { raw, tried, codeId } = options.looked ?? (await lookup(ctx, userId, undefined));
  const record = raw === null ? undefined : parseRecord(raw);
  if (raw === null || !record) return 'none';
  if (expected.binding === undefined || !constantTimeEqual(record.binding, expected.binding) || !constantTimeEqual(record.phone, phoneKey(ctx, expected.phone))) {
    return 'wrong';
  }
  if (config.now() - record.issuedAt >= ctx.ttlMs) return 'expired';
  // The try taken up front counts only if it was of this code (a resend may have replaced it).
  const attempt = tried !== undefined && codeId === record.id ? tried : await tryCode(ctx, userId, record.id);
  if (attempt === 'spent') return 'spent';
  if (!ctx.secrets.matches(hashInput(userId, record.id, code), record.hash)) return 'wrong';
  // The match was against what we read; the take decides: of parallel copies only one removes
  // exactly that record, and a newer code that replaced it is left alone (ours was void).
  let taken: boolean;
  try {
    taken = await ctx.store.takeIfEqual(codeKey(userId), raw, options.count);
  } catch (error) {
    throw storeFailure(error);
  }
  if (taken && options.count) options.count.reset = true;
  return taken ? 'ok' : 'wrong';
}

/**
 * Deletes the person's live code, if any: used when the factor is reset or changed, so that a
 * code sent before cannot be used after. Throws `store_unavailable`.
 */
async function clear(ctx: SmsContext, userId: string): Promise<void> {
  try {
    await ctx.store.delete(codeKey(userId));
  } catch (error) {
    throw storeFailure(error);
  }
}

/**
 * Text-message codes over the store: sending (cooldown, hourly caps, one live code per person)
 * and checking (expiry, binding, tries, single use). No HTTP, no session.
 *
 * The resend cooldown belongs to one sign-in (the request's `binding`), not to the person: a
 * new password sign-in always gets its text, even moments after an enrolment or another
 * sign-in texted them. What bounds texts across sign-ins is the hourly caps, which every send
 * takes from whatever its binding. (Skipping the cooldown for purpose `login` instead would
 * leave the rule to a branch a later change can lose; keyed by binding it is the data's shape.)
 */
export function createSmsCodes(config: Config) {
  const ctx = createContext(config);
  return {
    send: (request: SmsRequest): Promise<SmsSent> => send(ctx, request),
    lookup: (userId: string, codeId: string | undefined): Promise<SmsLookup> => lookup(ctx, userId, codeId),
    check: (userId: string, expected: { binding: string | undefined; phone: string }, code: string, options?: { looked?: SmsLookup; count?: FailureCount }): Promise<SmsCheck> =>
      check(ctx, userId, expected, code, options),
    cooldownSeconds: (userId: string, binding: string | undefined): Promise<number> => cooldownSeconds(ctx, userId, binding),
    clear: (userId: string): Promise<void> => clear(ctx, userId),
  };
}

export type SmsCodes = ReturnType<typeof createSmsCodes>;

function parseRecord(raw: string): CodeRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<CodeRecord>;
    if (typeof value.id === 'string' && typeof value.hash === 'string' && typeof value.binding === 'string' && typeof value.phone === 'string' && typeof value.issuedAt === 'number') {
      return value as CodeRecord;
    }
  } catch {
    // An unreadable record is treated as no code.
  }
  return undefined;
}
