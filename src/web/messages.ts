import type { ErrorCode } from '../errors.js';
import { adminMessages } from '../admin/messages.js';

/**
 * Every string the pages show, one table per locale. Pages and tests refer to keys; hosts
 * override any string by key. `{name}` placeholders are filled in, HTML-escaped by the views.
 */
export const en = {
  ...adminMessages,
  'page.title.choose': 'Set up two-step verification',
  'page.title.enrolTotp': 'Set up your authenticator app',
  'page.title.verify': 'Two-step verification',
  'page.title.locked': 'Verification locked',
  'page.title.error': 'Something went wrong',
  'page.title.enrolled': 'You’re all set',
  'page.title.enable': 'Turn on two-step verification',
  'page.title.policy': 'Two-step verification for the portal',

  'choose.intro': 'Your password was right. To protect your account, add a second step to your sign-in.',
  'choose.legend': 'How would you like to get your codes?',
  'choose.totp': 'Authenticator app (recommended)',
  'choose.totp.hint': 'Use an app such as Google Authenticator, Microsoft Authenticator or 1Password. Works without a phone signal.',
  'choose.continue': 'Continue',
  'choose.skip': 'Skip for now',
  'choose.skip.hint': 'Your organisation lets you set this up later. You won’t be asked again at sign-in; you can turn it on any time.',

  'enrolled.signInAgain': 'Two-step verification is set up. Please sign in again with your password and a code.',
  'enable.body': 'Two-step verification adds a code to your sign-in. When you continue, you will be signed out, and at your next sign-in you will set it up.',
  'enable.confirm': 'Sign out and set up',
  'enable.decline': 'No thanks',
  'enable.alreadyOn': 'Two-step verification is already on for your account.',
  'enable.signedOut': 'You are signed out. At your next sign-in you will set up two-step verification.',
  'continue': 'Continue',

  'policy.current': 'Current setting: {mode}.',
  'policy.legend': 'Who must use two-step verification?',
  'policy.mode.required': 'Required for everyone',
  'policy.mode.required.hint': 'Everyone sets it up at their next sign-in.',
  'policy.mode.optional': 'Optional',
  'policy.mode.optional.hint': 'People may choose “Skip for now” (roles your portal requires must still enrol).',
  'policy.mode.off': 'Off',
  'policy.mode.off.hint': 'No second step is asked. Turning it on again later makes everyone set it up again.',
  'policy.save': 'Save',
  'policy.saved': 'Saved. Two-step verification is now: {mode}.',

  'totp.step1': 'Scan this QR code with your authenticator app.',
  'totp.qrAlt': 'QR code for adding {issuer} to your authenticator app',
  'totp.manual': 'Can’t scan it? Enter this key in the app instead:',
  'totp.account': 'Account: {account}',
  'totp.step2': 'Enter the 6-digit code the app shows to finish.',
  'totp.confirm': 'Confirm and continue',
  'totp.restart': 'Choose another method',

  'verify.totp.intro': 'Enter the 6-digit code from your authenticator app.',
  'verify.submit': 'Verify',

  'page.title.enrolSms': 'Get codes by text message',
  'choose.sms': 'Text message (US only)',
  'choose.sms.hint': 'We text a 6-digit code to your US mobile phone each time you sign in.',
  'sms.phone.label': 'US mobile phone number',
  'sms.phone.hint': 'For example (415) 555-0123. We’ll text a code to this number; message and data rates may apply.',
  'sms.send': 'Text me a code',
  'sms.sentTo': 'Code sent to {number}.',
  'sms.notSent': 'No code has been sent to {number} for this sign-in yet. Ask for one below.',
  'sms.enterCode': 'Enter the 6-digit code from the text message. It works for {minutes} minutes.',
  'sms.resend': 'Send a new code',
  'sms.resendWait': 'You can ask for a new code in {seconds} seconds.',
  'sms.confirm': 'Confirm and continue',
  'sms.changeNumber': 'Use a different number',
  'sms.body': 'Your {issuer} code is {code}',
  'sms.error.expired': 'That code has expired. Ask for a new code below.',
  'sms.error.spent': 'That code was tried too many times. Ask for a new code below.',
  'sms.error.none': 'No code is waiting for this sign-in. Ask for a new code below.',
  'phone.error.missing': 'Enter your US mobile phone number.',
  'phone.error.invalid': 'That isn’t a valid US phone number. Enter all 10 digits with the area code, for example (415) 555-0123.',
  'phone.error.notUs': 'Only US phone numbers can get codes by text message. Enter a US number, or choose the authenticator app.',
  'phone.error.shortCode': 'That is a short code, not a phone number. Enter your 10-digit mobile number.',
  'phone.error.premium': 'Premium-rate and shared-cost numbers (such as 900 numbers) can’t get sign-in codes. Enter your mobile number.',
  'phone.error.tollFree': 'Toll-free numbers (such as 800 or 888 numbers) can’t get sign-in codes. Enter your mobile number.',
  'phone.error.special': 'That number can’t get text messages (it is not a phone line of its own). Enter your mobile number.',

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
