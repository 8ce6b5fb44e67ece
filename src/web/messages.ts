import type { ErrorCode } from '../errors.js';

/**
 * Every string the pages show, one table per locale. Pages and tests refer to keys; hosts
 * override any string by key. `{name}` placeholders are filled in, HTML-escaped by the views.
 */
export const en = {
  'page.title.choose': 'Set up two-step verification',
  'page.title.enrolTotp': 'Set up your authenticator app',
  'page.title.verify': 'Two-step verification',
  'page.title.locked': 'Verification locked',
  'page.title.error': 'Something went wrong',

  'choose.intro': 'Your password was right. To protect your account, add a second step to your sign-in.',
  'choose.legend': 'How would you like to get your codes?',
  'choose.totp': 'Authenticator app (recommended)',
  'choose.totp.hint': 'Use an app such as Google Authenticator, Microsoft Authenticator or 1Password. Works without a phone signal.',
  'choose.continue': 'Continue',

  'totp.step1': 'Scan this QR code with your authenticator app.',
  'totp.qrAlt': 'QR code for adding {issuer} to your authenticator app',
  'totp.manual': 'Can’t scan it? Enter this key in the app instead:',
  'totp.account': 'Account: {account}',
  'totp.step2': 'Enter the 6-digit code the app shows to finish.',
  'totp.confirm': 'Confirm and continue',
  'totp.restart': 'Choose another method',

  'verify.totp.intro': 'Enter the 6-digit code from your authenticator app.',
  'verify.submit': 'Verify',

  'code.label': '6-digit code',
  'code.hint': 'Digits only; spaces are ignored.',

  'locked.body': 'Too many wrong codes were entered. For your security, verification is locked for about {minutes} minutes. You can try again after that.',
  'signOut': 'Sign out',
  'signInAgain': 'Sign in again',
  'tryAgain': 'Go back and try again',
  'errorSummary': 'There is a problem',
  'skipLink': 'Skip to main content',

  'error.invalid_option': 'The sign-in is not configured correctly.',
  'error.invalid_code': 'That code didn’t work. Check the code and try again.',
  'error.malformed_code': 'Enter the 6-digit code, digits only.',
  'error.locked': 'Too many wrong codes. Verification is locked for about {minutes} minutes.',
  'error.csrf': 'This form has expired or was not sent from this site. Go back, reload the page and try again.',
  'error.payload_too_large': 'What was sent is far larger than this form accepts.',
  'error.bad_request': 'The form could not be read. Go back and try again.',
  'error.not_pending': 'Your sign-in has expired or was not started. Please sign in again.',
  'error.store_unavailable': 'We can’t verify your sign-in right now. Please try again in a few minutes.',
  'error.sms_failed': 'We couldn’t send the text message. Please try again.',
  'error.resend_cooldown': 'Please wait {seconds} seconds before asking for a new code.',
  'error.sms_quota': 'Too many text messages were sent to this account or number in the last hour. Try again later or use another method.',
  'error.invalid_phone': 'Enter a valid US phone number.',
  'error.forbidden': 'You can’t do that.',
  'error.not_found': 'That page doesn’t exist, or you can’t see it.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Readonly<Record<MessageKey, string>>;

export function errorMessageKey(code: ErrorCode): MessageKey {
  return `error.${code}`;
}

/** Fills `{name}` placeholders; unknown placeholders stay as they are. */
export function format(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in params ? String(params[name]) : match));
}
