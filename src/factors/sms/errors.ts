import type { TwoFactorError } from '../../errors.js';
import type { SecondFactorSession } from '../../flow/session.js';
import type { MessageKey } from '../../web/messages.js';
import { errorFor, type PageError } from '../../web/page-errors.js';
import { errorMessageKey } from '../../web/messages.js';
import { SmsQuotaError, type SmsCap, type SmsCheck } from './codes.js';
import type { PhoneProblem } from './phone.js';

export const phoneProblemKeys: Readonly<Record<PhoneProblem, MessageKey>> = {
  missing: 'phone.error.missing',
  invalid: 'phone.error.invalid',
  not_us: 'phone.error.notUs',
  short_code: 'phone.error.shortCode',
  premium: 'phone.error.premium',
  toll_free: 'phone.error.tollFree',
  special: 'phone.error.special',
};

const smsCheckKeys: Readonly<Record<Exclude<SmsCheck, 'ok'>, MessageKey>> = {
  wrong: 'error.invalid_code',
  expired: 'sms.error.expired',
  spent: 'sms.error.spent',
  none: 'sms.error.none',
};

/** Why a text-message code was refused, for the page that asked for it. */
export function smsCheckError(check: SmsCheck): PageError {
  return { key: smsCheckKeys[check === 'ok' ? 'wrong' : check] };
}

const quotaKeys: Readonly<Record<SmsCap, MessageKey>> = {
  account: 'sms.error.quotaAccount',
  number: 'sms.error.quotaNumber',
};

/** An hourly cap that refused a text: which one, and in how many minutes it lifts. */
function quotaError(cap: SmsCap, seconds: number): PageError {
  return { key: quotaKeys[cap], params: { seconds, minutes: Math.max(1, Math.ceil(seconds / 60)) }, general: true };
}

/**
 * A send that was refused or failed: nothing the person typed is wrong, so no field is marked
 * invalid. A cap names itself and when it lifts.
 */
export function sendRefusalError(error: TwoFactorError): PageError {
  if (error instanceof SmsQuotaError) return quotaError(error.cap, error.retryAfterSeconds ?? 60);
  return { ...errorFor(error), general: true };
}

/**
 * What the last send of this sign-in left for the code page to say (`now`: config.now()): a
 * failed send, or a cap that has not lifted yet. A cooldown needs no alert: the Resend button
 * counts it down.
 */
export function lastSendError(sms: SecondFactorSession['sms'], now: number): PageError | undefined {
  if (sms?.failure === 'sms_failed') return { key: errorMessageKey('sms_failed'), general: true };
  if (sms?.failure !== 'sms_quota') return undefined;
  if (!sms.quota) return { key: errorMessageKey('sms_quota'), general: true };
  const seconds = Math.ceil((sms.quota.until - now) / 1000);
  return seconds > 0 ? quotaError(sms.quota.cap, seconds) : undefined;
}
