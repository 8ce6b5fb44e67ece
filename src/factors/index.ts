import type { Config } from '../options.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { UserRecord } from '../store/types.js';
import type { Factor } from './contract.js';
import { passkeyFactor } from './passkey/index.js';
import { smsFactor } from './sms/index.js';
import { totpFactor } from './totp/index.js';

/**
 * The factors a person may enrol, in the order the method choice offers them (the first is
 * the recommended one; passkeys, when the host configured them, come next). A new factor is a
 * folder beside these and one line here.
 */
export function createFactors(config: Config): readonly Factor[] {
  const passkey = passkeyFactor(config);
  return passkey ? [totpFactor(config), passkey, smsFactor(config)] : [totpFactor(config), smsFactor(config)];
}

/** The factor of a method, if this version has it. */
export function findFactor(factors: readonly Factor[], method: string | undefined): Factor | undefined {
  return factors.find((factor) => factor.id === method);
}

/** The password step's hook for the gate: the enrolled factor's `atSignIn` (a text is sent). */
export function atSignIn(factors: readonly Factor[]) {
  return async (state: SecondFactorSession, record: UserRecord | null, locale: string): Promise<void> => {
    const factor = record ? findFactor(factors, record.method) : undefined;
    if (record && factor?.atSignIn) await factor.atSignIn(state, record, locale);
  };
}

/** Clears what every factor keeps beside the record: after a reset, nothing of any remains. */
export async function clearAll(factors: readonly Factor[], userId: string): Promise<void> {
  for (const factor of factors) await factor.clear(userId);
}
