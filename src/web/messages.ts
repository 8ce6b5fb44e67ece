import type { ErrorCode } from '../errors.js';
import { adminMessages } from '../admin/messages.js';
import { recoveryMessages } from '../factors/recovery/messages.js';
import { smsMessages } from '../factors/sms/messages.js';
import { totpMessages } from '../factors/totp/messages.js';
import { passkeyMessages } from '../factors/passkey/messages.js';

/**
 * Every string the pages show, one table per locale. Pages and tests refer to keys; hosts
 * override any string by key. `{name}` placeholders are filled in, HTML-escaped by the views.
 */
export const en = {
  ...adminMessages,
  ...totpMessages,
  ...smsMessages,
  ...recoveryMessages,
  ...passkeyMessages.en,
  'page.title.choose': 'Set up two-step verification',
  'page.title.verify': 'Two-step verification',
  'page.title.locked': 'Verification locked',
  'page.title.error': 'Something went wrong',
  'page.title.enrolled': 'You’re all set',
  'page.title.enable': 'Turn on two-step verification',
  'page.title.policy': 'Two-step verification for the portal',

  'choose.intro': 'Your password was right. To protect your account, add a second step to your sign-in.',
  'choose.legend': 'How would you like to get your codes?',
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


  'verify.submit': 'Verify',
  'verify.required': 'Complete two-step verification first.',


  'page.title.settings': 'Two-step verification settings',


  'remember.label': 'Remember this device for {days} days',
  'remember.hint': 'This browser won’t ask for your second step. Don’t tick this on a shared or public computer.',

  'settings.heading.method': 'How you sign in',
  'settings.heading.recovery': 'Recovery codes',
  'settings.recovery.left': 'You have {count} of {total} recovery codes left.',
  'settings.recovery.low': 'You are running low. Make new codes so that you can still get in if you lose your phone.',
  'settings.recovery.regenerate': 'Make new recovery codes',
  'settings.recovery.regenerate.hint': 'Your current codes stop working, and 10 new ones are shown once.',
  'settings.heading.confirm': 'Confirm it’s you',
  'settings.confirm.intro': 'To change these settings, enter a current code first. You won’t be asked again for {minutes} {minutes|minute|minutes}.',
  'settings.confirm.submit': 'Confirm',
  'settings.confirm.send': 'Text me a code',
  'settings.confirm.locked': 'Too many wrong codes were entered. You can try again in about {minutes} {minutes|minute|minutes}.',
  'settings.confirmFirst': 'For your security, confirm it’s you with a current code first.',
  'settings.heading.change': 'Change how you sign in',
  'settings.change.legend': 'Switch to',
  'settings.change.hint': 'Your current method keeps working until the new one is confirmed with a code. You then get new recovery codes, and remembered devices are forgotten.',
  'settings.change.submit': 'Continue',
  'settings.keepCurrent': 'Cancel and keep my current method',
  'settings.heading.disable': 'Turn off two-step verification',
  'settings.disable.hint': 'Your sign-ins will ask only for your password. Your recovery codes and remembered devices stop working.',
  'settings.disable.submit': 'Turn off two-step verification',
  'settings.off': 'Two-step verification is off for your account.',
  'settings.offPortal': 'Two-step verification isn’t used on this portal right now.',
  'settings.enable': 'Turn on two-step verification',
  'settings.disabled': 'Two-step verification is now off. Your sign-ins ask only for your password.',
  'settings.back': 'Back',

  'sessions.heading': 'Where you’re signed in',
  'sessions.intro': 'Browsers signed in to your account now. Last seen is when the browser last opened these settings or signed in.',
  'sessions.device': '{browser} on {os}',
  'sessions.unknownDevice': 'Unknown browser',
  'sessions.thisDevice': 'This device',
  'sessions.signedIn': 'Signed in {when}',
  'sessions.lastSeen': 'Last seen {when}',
  'sessions.end': 'Sign out this session',
  'sessions.endOthers': 'Sign out everywhere else',
  'sessions.endOthers.hint': 'Signs out {count} other {count|session|sessions}. This device stays signed in.',
  'sessions.confirmToEnd': 'To sign out other sessions or forget devices, confirm it’s you first (above).',
  'sessions.ended': 'That session is signed out.',
  'sessions.endedOthers': 'You are signed out everywhere else.',
  'devices.heading': 'Remembered devices',
  'devices.intro': 'These browsers can sign in without a code until they are forgotten.',
  'devices.since': 'Remembered {when}',
  'devices.forget': 'Forget this device',
  'devices.forgotten': 'That device is forgotten: it will be asked for a code at its next sign-in.',

  'code.label': '6-digit code',
  'code.hint': 'Digits only; spaces are ignored.',

  'locked.body': 'Too many wrong codes were entered. For your security, verification is locked for about {minutes} {minutes|minute|minutes}. You can try again after that.',
  'signOut': 'Sign out',
  'backHome': 'Back to {name}',
  'signInAgain': 'Sign in again',
  'tryAgain': 'Go back and try again',
  'errorSummary': 'There is a problem',
  'skipLink': 'Skip to main content',

  'error.invalid_option': 'The sign-in is not configured correctly.',
  'error.invalid_code': 'That code didn’t work. Check the code and try again.',
  'error.malformed_code': 'Enter the 6-digit code, digits only.',
  'error.locked': 'Too many wrong codes. Verification is locked for about {minutes} {minutes|minute|minutes}.',
  'error.csrf': 'This form has expired or was not sent from this site. Go back, reload the page and try again.',
  'error.payload_too_large': 'What was sent is far larger than this form accepts.',
  'error.bad_request': 'The form could not be read. Go back and try again.',
  'error.not_pending': 'Your sign-in has expired or was not started. Please sign in again.',
  'error.store_unavailable': 'We can’t verify your sign-in right now. Please try again in a few minutes.',
  'error.sms_failed': 'We couldn’t send the text message. Please try again.',
  'error.resend_cooldown': 'Please wait {seconds} {seconds|second|seconds} before asking for a new code.',
  'error.sms_quota': 'Too many text messages were sent to this account or number in the last hour. Try again later or use another method.',
  'error.invalid_phone': 'Enter a valid US phone number.',
  'error.forbidden': 'You can’t do that.',
  'error.not_found': 'That page doesn’t exist, or you can’t see it.',
  'error.session_missing': 'The sign-in is not configured correctly.',
  'error.session_misconfigured': 'The sign-in is not configured correctly.',
  'error.session_store_unavailable': 'We can’t verify your sign-in right now. Please try again in a few minutes.',
  'error.mount_order': 'The sign-in is not configured correctly.',
  'error.base_path_mismatch': 'The sign-in is not configured correctly.',
  'error.policy_locked': 'This setting is made by the operator in configuration and can’t be changed here.',
  'policy.setBy': 'Last changed by {name} on {date}.',
  'policy.locked': 'Set by the operator in configuration: it can’t be changed on this page.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Readonly<Record<MessageKey, string>>;

export function errorMessageKey(code: ErrorCode): MessageKey {
  return `error.${code}`;
}

/** Fills `{name}` placeholders; unknown placeholders stay as they are. */
export function format(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  // `{name}` is the value; `{name|one|other}` is the word that agrees with it ("1 minute",
  // "2 minutes"), the one/other rule of English and Spanish.
  return template.replace(/\{(\w+)(?:\|([^|{}]*)\|([^|{}]*))?\}/g, (match, name: string, one?: string, other?: string) => {
    if (!(name in params)) return match;
    if (one === undefined || other === undefined) return String(params[name]);
    return Number(params[name]) === 1 ? one : other;
  });
}
