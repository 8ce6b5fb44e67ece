import type { Config } from '../options.js';
import type { AttemptLimiter } from './attempts.js';
import type { RememberedDevices } from './remember-device.js';

/** What an admin does to another person's second factor: pure store logic, no HTTP, no checks. */
export function createReset(deps: {
  config: Config;
  attempts: AttemptLimiter;
  devices: RememberedDevices;
  /** Removes every factor's state beside the record (factors/index.ts clearAll). */
  clearFactors: (userId: string) => Promise<void>;
}) {
  const { config, attempts, devices, clearFactors } = deps;

  /**
   * Back to "never enrolled": the record goes (method, secret, phone, recovery codes, skip
   * and enable requests), and with it its `factorId`, to which remembered devices are bound.
   * Each step is idempotent, so after a store failure the admin simply tries again.
   */
  async function resetFactor(userId: string): Promise<void> {
    // The record first: once it is gone no sign-in can verify with the old factor, whatever
    // of the rest is still to be cleared.
    await config.store.deleteUser(userId);
    await clearBesideRecord(userId);
  }

  /**
   * Everything of the factor that lives beside the record, once the record no longer holds
   * it (deleted by a reset; replaced by a review lock after "This wasn't me"). Idempotent.
   */
  async function clearBesideRecord(userId: string): Promise<void> {
    // What each factor keeps beside the record (a claimed TOTP step, a live text code): a new
    // enrolment starts clean.
    await clearFactors(userId);
    await attempts.clear(userId);
    // Void already (bound to the old factorId); deleted so nothing of the old factor stays.
    await devices.forgetAll(userId);
  }

  /** Clears failed attempts and any lock, and nothing else. */
  async function unlock(userId: string): Promise<void> {
    await attempts.clear(userId);
  }

  return { resetFactor, clearBesideRecord, unlock };
}

export type Reset = ReturnType<typeof createReset>;
