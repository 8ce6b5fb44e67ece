import type { Config } from '../../options.js';
import type { FailureCount } from '../../flow/attempts.js';
import type { UserRecord } from '../../store/types.js';
import type { MessageKey } from '../../web/messages.js';
import type { PageError } from '../../web/page-errors.js';
import { checkTotp } from './otp.js';

/**
 * An authenticator code: right and accepted (`ok`), not right for any step in the drift window
 * (`wrong`), or right for a step already claimed (`used`: a replay, or the code before the one
 * just used). `used` is a failed attempt like `wrong`; only the words on the page differ.
 */
export type TotpCheck = 'ok' | 'wrong' | 'used';

/** Authenticator codes over the store: each time step is accepted at most once per person. */
export function createTotpClaims(config: Config) {
  const { store, secrets } = config;
  const stepKey = (userId: string) => `totp-step:{${userId}}`;

  /**
   * A TOTP code is right when it matches within one step of drift AND its time step is newer
   * than any accepted before for this person: the claim is one atomic store operation, so of
   * parallel copies of one code exactly one wins, and a used code never works again anywhere.
   * The claim also resets the person's failure count when it wins (one round trip for both:
   * the step and the count share the person's hash tag).
   */
  async function accept(userId: string, secret: string, code: string, count?: FailureCount): Promise<TotpCheck> {
    const step = await checkTotp(secret, code, config.now());
    if (step === undefined) return 'wrong';
    if (!(await store.setIfGreater(stepKey(userId), step, count))) return 'used';
    if (count) count.reset = true;
    return 'ok';
  }

  /** A code against the person's enrolled secret. */
  async function verify(userId: string, record: UserRecord | null, code: string, count?: FailureCount): Promise<TotpCheck> {
    if (record?.method !== 'totp' || !record.secret) return 'wrong';
    return accept(userId, secrets.open(record.secret, userId), code, count);
  }

  /**
   * The last accepted step goes with the factor: a new secret enrolled within the same 30 s
   * would otherwise have its first code refused as a replay.
   */
  async function clear(userId: string): Promise<void> {
    await store.delete(stepKey(userId));
  }

  return { accept, verify, clear };
}

export type TotpClaims = ReturnType<typeof createTotpClaims>;

const totpCheckKeys: Readonly<Record<Exclude<TotpCheck, 'ok'>, MessageKey>> = {
  wrong: 'error.invalid_code',
  used: 'totp.error.used',
};

/**
 * Why an authenticator code was refused. "Already used" only for a code that was right for a
 * step already claimed: only someone who typed the right code sees it, so it tells a guesser
 * nothing. Both count as a failed attempt.
 */
export function totpCheckError(check: TotpCheck): PageError {
  return { key: totpCheckKeys[check === 'ok' ? 'wrong' : check] };
}
