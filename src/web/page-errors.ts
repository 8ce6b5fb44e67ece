import type { TwoFactorError } from '../errors.js';
import type { PhoneProblem } from '../factors/phone.js';
import type { SmsCheck } from '../factors/sms.js';
import { errorMessageKey, type MessageKey } from './messages.js';
import type { PageData } from './render.js';

export type PageError = NonNullable<PageData['error']>;

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

export function errorFor(error: TwoFactorError): PageError {
  const seconds = error.retryAfterSeconds;
  return { key: errorMessageKey(error.code), ...(seconds === undefined ? {} : { params: { seconds, minutes: Math.ceil(seconds / 60) } }) };
}
