import type { Config } from '../options.js';
import { checkTotp } from '../factors/totp.js';
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

/**
 * An authenticator code: right and accepted (`ok`), not right for any step in the drift window
 * (`wrong`), or right for a step already claimed (`used`: a replay, or the code before the one
 * just used). `used` is a failed attempt like `wrong`; only the words on the page differ.
 */
export type TotpCheck = 'ok' | 'wrong' | 'used';

/** Per-person operations over the store: pure logic, no HTTP. */
export function createAccounts(config: Config, policy: Policy) {
  const { store, secrets } = config;
  const stepKey = (userId: string) => `totp-step:{${userId}}`;

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
   * A TOTP code is right when it matches within one step of drift AND its time step is newer
   * than any accepted before for this person: the claim is one atomic store operation, so of
   * parallel copies of one code exactly one wins, and a used code never works again anywhere.
   */
  async function acceptTotp(userId: string, secret: string, code: string): Promise<TotpCheck> {
    const step = await checkTotp(secret, code, config.now());
    if (step === undefined) return 'wrong';
    return (await store.setIfGreater(stepKey(userId), step)) ? 'ok' : 'used';
  }

  async function verifyTotp(userId: string, record: UserRecord, code: string): Promise<TotpCheck> {
    if (record.method !== 'totp' || !record.secret) return 'wrong';
    return acceptTotp(userId, secrets.open(record.secret, userId), code);
  }

  async function saveTotpEnrolment(userId: string, sealedSecret: string, generation: number): Promise<UserRecord> {
    const record: UserRecord = {
      generation,
      method: 'totp',
      factorId: randomId(),
      secret: sealedSecret,
      enrolledAt: config.now(),
    };
    await store.saveUser(userId, record);
    return record;
  }

  /** The phone arrives sealed for this user (secrets.seal(e164, userId)); last4 is for the masked display. */
  async function saveSmsEnrolment(userId: string, sealedPhone: string, phoneLast4: string, generation: number): Promise<UserRecord> {
    const record: UserRecord = {
      generation,
      method: 'sms',
      factorId: randomId(),
      phone: sealedPhone,
      phoneLast4,
      enrolledAt: config.now(),
    };
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

  return { standing, acceptTotp, verifyTotp, saveTotpEnrolment, saveSmsEnrolment, recordSkip, requestEnable, stepKey };
}

export type Accounts = ReturnType<typeof createAccounts>;
