import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { newFactorId } from '../secrets.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
import type { AttemptLimiter } from './attempts.js';
import type { Policy } from './policy.js';

/** The person's second-factor standing, as the pages need it. */
export interface Standing {
  readonly record: UserRecord | null;
  /** The enrolled method, when the enrolment belongs to the current generation. */
  readonly method: FactorMethod | undefined;
  /** "Skip for now" chosen in the current generation. */
  readonly skipped: boolean;
  /** The person asked to enable 2FA after skipping: enrol, and offer no skip. */
  readonly enableRequested: boolean;
  /** The switch's current enrolment generation: new records are written with it. */
  readonly generation: number;
  /**
   * The person said "This wasn't me" (see needsReview): nothing may be proved or enrolled
   * until an admin reset. Whatever the generation: switching 2FA off and on is no review.
   */
  readonly needsReview: boolean;
}

/** Locked for review: the record says the person reported a change that was not theirs. */
export const needsReview = (record: UserRecord | null): boolean => record?.reviewRequiredAt !== undefined;

/** The refusal of everything second-factor while the account waits for an admin's review (423). */
export function refuseUnderReview(userId: string): never {
  throw new TwoFactorError('review_required', `second factor of ${userId} is locked until an admin reviews it ("This wasn't me")`);
}

/** What a factor writes to the record when it is enrolled: its method and its own fields. */
export type EnrolledFactor = Partial<Omit<UserRecord, 'generation' | 'factorId' | 'enrolledAt'>> & { readonly method: FactorMethod };

/** Per-person operations over the store: pure logic, no HTTP. */
export function createAccounts(config: Config, policy: Policy) {
  const { store } = config;

  async function standing(userId: string): Promise<Standing> {
    const [record, { generation }] = await Promise.all([store.getUser(userId), policy.current()]);
    return standingOf(record, generation);
  }

  /** The standing and the account's lock: the password step's one read of the person. */
  async function standingAndLock(userId: string, attempts: AttemptLimiter): Promise<{ standing: Standing; lockedSeconds: number }> {
    const [{ record, lockedSeconds }, { generation }] = await Promise.all([attempts.recordAndLock(userId), policy.current()]);
    return { standing: standingOf(record, generation), lockedSeconds };
  }

  function standingOf(record: UserRecord | null, generation: number): Standing {
    // A record of an older generation (2FA was switched off and on since) counts as none.
    const current = record !== null && record.generation === generation;
    return {
      record,
      method: current ? record.method : undefined,
      skipped: current && record.skippedAt !== undefined && record.method === undefined,
      enableRequested: current && record.enableRequestedAt !== undefined && record.method === undefined,
      generation,
      needsReview: needsReview(record),
    };
  }

  /**
   * A confirmed enrolment of any factor replaces the record: a new `factorId` (remembered
   * devices and recovery codes of the old one are void with it) and the factor's own fields.
   */
  async function saveEnrolment(userId: string, generation: number, factor: EnrolledFactor): Promise<UserRecord> {
    await keepReviewLock(userId);
    const record: UserRecord = { generation, factorId: newFactorId(), enrolledAt: config.now(), ...factor };
    await store.saveUser(userId, record);
    return record;
  }

  /** "Skip for now": remembered on the account for the current generation. */
  async function recordSkip(userId: string, generation: number): Promise<void> {
    await keepReviewLock(userId);
    await store.saveUser(userId, { generation, skippedAt: config.now() });
  }

  /** "Enable 2FA" after a skip: the skip is cleared and the next sign-in enrols. */
  async function requestEnable(userId: string, generation: number): Promise<void> {
    await keepReviewLock(userId);
    await store.saveUser(userId, { generation, enableRequestedAt: config.now() });
  }

  /**
   * Each write below replaces the record, and with it a review lock: a sign-in that was
   * already pending when the person said "This wasn't me" (pending sessions are not indexed,
   * so not ended) must not enrol over the lock. One read on these rare writes, never on a
   * sign-in with a code. A lock that lands between this read and the write is lost (a window
   * of one store round trip); that enrolment is then notified like any, with a new link.
   */
  async function keepReviewLock(userId: string): Promise<void> {
    if (needsReview(await store.getUser(userId))) refuseUnderReview(userId);
  }

  return { standing, standingAndLock, saveEnrolment, recordSkip, requestEnable };
}

export type Accounts = ReturnType<typeof createAccounts>;
