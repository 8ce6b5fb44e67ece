import type { Config } from '../options.js';
import { randomId } from '../secrets.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
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
}

/** What a factor writes to the record when it is enrolled: its method and its own fields. */
export type EnrolledFactor = Partial<Omit<UserRecord, 'generation' | 'factorId' | 'enrolledAt'>> & { readonly method: FactorMethod };

/** Per-person operations over the store: pure logic, no HTTP. */
export function createAccounts(config: Config, policy: Policy) {
  const { store } = config;

  async function standing(userId: string): Promise<Standing> {
    const [record, { generation }] = await Promise.all([store.getUser(userId), policy.current()]);
    // A record of an older generation (2FA was switched off and on since) counts as none.
    const current = record !== null && record.generation === generation;
    return {
      record,
      method: current ? record.method : undefined,
      skipped: current && record.skippedAt !== undefined && record.method === undefined,
      enableRequested: current && record.enableRequestedAt !== undefined && record.method === undefined,
      generation,
    };
  }

  /**
   * A confirmed enrolment of any factor replaces the record: a new `factorId` (remembered
   * devices and recovery codes of the old one are void with it) and the factor's own fields.
   */
  async function saveEnrolment(userId: string, generation: number, factor: EnrolledFactor): Promise<UserRecord> {
    const record: UserRecord = { generation, factorId: randomId(), enrolledAt: config.now(), ...factor };
    await store.saveUser(userId, record);
    return record;
  }

  /** "Skip for now": remembered on the account for the current generation. */
  async function recordSkip(userId: string, generation: number): Promise<void> {
    await store.saveUser(userId, { generation, skippedAt: config.now() });
  }

  /** "Enable 2FA" after a skip: the skip is cleared and the next sign-in enrols. */
  async function requestEnable(userId: string, generation: number): Promise<void> {
    await store.saveUser(userId, { generation, enableRequestedAt: config.now() });
  }

  return { standing, saveEnrolment, recordSkip, requestEnable };
}

export type Accounts = ReturnType<typeof createAccounts>;
