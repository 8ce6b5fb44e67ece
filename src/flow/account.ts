import type { Config } from '../options.js';
import { checkTotp } from '../factors/totp.js';
import { randomId } from '../secrets.js';
import type { FactorMethod, UserRecord } from '../store/types.js';

/** The person's second-factor standing, as the pages need it. */
export interface Standing {
  readonly record: UserRecord | null;
  /** The enrolled method, when the enrolment is current. */
  readonly method: FactorMethod | undefined;
}

/** Per-person operations over the store: pure logic, no HTTP. */
export function createAccounts(config: Config) {
  const { store, secrets } = config;
  const stepKey = (userId: string) => `totp-step:{${userId}}`;

  async function standing(userId: string): Promise<Standing> {
    const record = await store.getUser(userId);
    return { record, method: record?.method };
  }

  /**
   * A TOTP code is right when it matches within one step of drift AND its time step is newer
   * than any accepted before for this person: the claim is one atomic store operation, so of
   * parallel copies of one code exactly one wins, and a used code never works again anywhere.
   */
  async function acceptTotp(userId: string, secret: string, code: string): Promise<boolean> {
    const step = await checkTotp(secret, code, config.now());
    if (step === undefined) return false;
    return store.setIfGreater(stepKey(userId), step);
  }

  async function verifyTotp(userId: string, record: UserRecord, code: string): Promise<boolean> {
    if (record.method !== 'totp' || !record.secret) return false;
    return acceptTotp(userId, secrets.open(record.secret, userId), code);
  }

  async function saveTotpEnrolment(userId: string, sealedSecret: string, previous: UserRecord | null): Promise<UserRecord> {
    const record: UserRecord = {
      generation: previous?.generation ?? 0,
      method: 'totp',
      factorId: randomId(),
      secret: sealedSecret,
      enrolledAt: config.now(),
    };
    await store.saveUser(userId, record);
    return record;
  }

  return { standing, acceptTotp, verifyTotp, saveTotpEnrolment, stepKey };
}

export type Accounts = ReturnType<typeof createAccounts>;
