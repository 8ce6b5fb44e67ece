import { randomInt } from 'node:crypto';
import { TwoFactorError } from '../../errors.js';
import type { Config } from '../../options.js';
import { constantTimeEqual } from '../../secrets.js';
import type { UserRecord } from '../../store/types.js';

/** How many codes a set holds. */
export const RECOVERY_CODE_COUNT = 10;
/** At or below this many left, the pages nudge the person to make new ones. */
export const RECOVERY_CODES_LOW = 3;

/** Lower-case letters and digits without the look-alikes 0/o, 1/l/i. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 10;
const shape = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

/**
 * A spent code's claim must outlive every record that could still list its hash: the record
 * is rewritten after the claim, and a rewrite can lose to a parallel one. The claim, not the
 * list, is what refuses a second use.
 */
const CLAIM_TTL_SECONDS = 5 * 366 * 24 * 60 * 60;

/**
 * Stored hashes are the first 128 bits of the keyed hash (22 base64url characters): plenty
 * against guessing a 49-bit code through a 10-attempt lock, and half the bytes of a person's
 * record. Sets issued before were kept whole (43 characters) and still work until replaced.
 */
const HASH_LENGTH = 22;

/**
 * The stored hash that `full` (a code's whole keyed hash) matches, in the form it is stored in,
 * or `undefined`. Every stored hash is compared, in constant time, without stopping at a match.
 */
function storedFormOf(full: string, stored: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const each of stored) {
    const candidate = each.length === full.length ? full : full.slice(0, HASH_LENGTH);
    if (constantTimeEqual(candidate, each)) found = each;
  }
  return found;
}

/** One code as shown: ten characters (about 49 random bits) in two groups, `abcde-fghjk`. */
export function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * A code as typed: case, spaces and dashes are ignored. `undefined` when it cannot be a
 * recovery code at all (such input is not an attempt).
 */
export function readRecoveryCode(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const code = value.toLowerCase().replace(/[\s-]/g, '');
  return shape.test(code) ? code : undefined;
}

/**
 * Recovery codes over the store. Only keyed hashes are kept, in the person's record, each
 * bound to the user and to the enrolment (`factorId`): a reset, a re-enrolment or a method
 * change voids them with the enrolment.
 */
export function createRecoveryCodes(config: Config) {
  const { store, secrets } = config;
  const fullHashOf = (userId: string, factorId: string, code: string) => secrets.hash(`recovery:${userId}:${factorId}:${code}`);
  const hashOf = (userId: string, factorId: string, code: string) => fullHashOf(userId, factorId, code).slice(0, HASH_LENGTH);
  const claimKey = (userId: string, factorId: string, hash: string) => `recovery-used:{${userId}}:${factorId}:${hash}`;

  /**
   * A new set for the person's current enrolment, replacing any earlier set. Returns the codes
   * to show once: they are not kept anywhere in clear.
   */
  async function issue(userId: string, record: UserRecord): Promise<string[]> {
    const { factorId } = record;
    if (!record.method || !factorId) throw new TwoFactorError('forbidden', 'recovery codes need an enrolled method');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const recoveryCodes = codes.map((code) => hashOf(userId, factorId, readRecoveryCode(code)!));
    await store.saveUser(userId, { ...record, recoveryCodes });
    return codes;
  }

  /**
   * Spends `code` (as read by `readRecoveryCode`) when it is one of the record's, and returns
   * how many are left; `undefined` when it was not spent. Of parallel uses of one code exactly
   * one spends it. The caller counts the attempt around this.
   */
  async function consume(userId: string, record: UserRecord, code: string): Promise<number | undefined> {
    const { factorId } = record;
    if (!record.method || !factorId) return undefined;
    const hash = storedFormOf(fullHashOf(userId, factorId, code), record.recoveryCodes ?? []);
    if (hash === undefined) return undefined;
    if (!(await store.setIfAbsent(claimKey(userId, factorId, hash), String(config.now()), CLAIM_TTL_SECONDS))) return undefined;
    // Rewritten from a fresh read, and only while it is the same enrolment: a reset or method
    // change that happened meanwhile must not be undone by writing back the old record.
    const fresh = await store.getUser(userId);
    if (fresh?.factorId !== factorId) return 0;
    const recoveryCodes = (fresh.recoveryCodes ?? []).filter((stored) => stored !== hash);
    await store.saveUser(userId, { ...fresh, recoveryCodes });
    return recoveryCodes.length;
  }

  /** Codes left in the person's set. */
  function left(record: UserRecord | null): number {
    return record?.method && record.factorId ? (record.recoveryCodes?.length ?? 0) : 0;
  }

  return { issue, consume, left };
}

export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
