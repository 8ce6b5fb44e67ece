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

  // "This wasn't me" (web/not-me-routes.ts) and the lock until review.
  'page.title.notMe': 'Was this you?',
  'page.title.notMeDone': 'Your account is secured',
  'page.title.notMeRefused': 'This link can’t be used',
  'notMe.cause.enrolled': 'Two-step verification was set up on your account on {when}.',
  'notMe.cause.method_changed': 'The second step of your sign-in was changed on {when}.',
  'notMe.cause.reset': 'An administrator reset your two-step verification on {when}.',
  'notMe.explain': 'If this wasn’t you, someone may know your password. Securing your account signs you out everywhere, removes the second step that was set up, forgets your remembered devices and locks two-step verification until an administrator reviews your account.',
  'notMe.confirm': 'This wasn’t me — secure my account',
  'notMe.wasMe': 'If this was you, there is nothing to do: close this page.',
  'notMe.done': 'Your account is secured: an administrator will review it.',
  'notMe.done.next': 'You were signed out everywhere. Change your password as soon as you can; until the review, you can’t sign in with two-step verification.',
  'notMe.refused.next': 'If you still think someone else changed your sign-in, contact your administrator.',
  'error.review_required': 'Two-step verification is locked until an administrator reviews your account. Please contact your administrator.',
  'error.not_me_invalid': 'This link is not valid: check that you opened the whole link from the message. Nothing was changed.',
  'error.not_me_gone': 'This link was already used or has expired. Nothing was changed.',

  // Deadlines and firm policies (policy page, skip offer).
  'page.title.policyFirm': 'Two-step verification for your firm',
  'choose.skip.until': 'You can skip until {date} ({days} {days|day|days} left).',
  'choose.skip.hintDeadline': 'Your organisation lets you set this up later: after that day, you will set it up at sign-in.',
  'choose.skip.untilToday': 'You can skip until today, {date}: this is the last day.',
  'policy.deadline.legend': 'Until when may people skip?',
  'policy.deadline.none': 'No deadline',
  'policy.deadline.byDate': 'Until the end of a date',
  'policy.deadline.dateLabel': 'Last day (YYYY-MM-DD, in {zone})',
  'policy.deadline.byDays': 'For a number of days from each person’s first sign-in',
  'policy.deadline.daysLabel': 'Days',
  'policy.deadline.hint': 'After the deadline, “Skip for now” is no longer offered and two-step verification is required.',
  'policy.deadline.date': 'People may skip until the end of {date} ({zone}).',
  'policy.deadline.days': 'People may skip for {days} {days|day|days} from their first sign-in.',
  'policy.error.date': 'Enter the last day as a real date, YYYY-MM-DD. Nothing was changed.',
  'policy.error.days': 'Enter a whole number of days from 1 to {max}. Nothing was changed.',
  'policy.error.looser': 'A firm’s setting can be stricter than the portal’s, never looser. The portal asks for: {floor}. Nothing was changed.',
  'policy.error.looserFirm': 'A firm’s setting can be stricter than the firm above it, never looser. That firm asks for: {floor}. Nothing was changed.',
  'policy.firm.title': 'Your firm: {firm}',
  'policy.firm.intro': 'This applies to everyone in your firm and its client companies. It can make two-step verification stricter than the portal, never looser.',
  'policy.firm.current': 'Your firm’s setting: {mode}.',
  'policy.firm.legend': 'Who in your firm must use two-step verification?',
  'policy.firm.inherit': 'Same as the portal',
  'policy.firm.inherit.hint': 'Your firm follows the portal’s setting.',
  'policy.firm.optional.hint': 'People may choose “Skip for now”, until the deadline if you set one.',
  'policy.firm.required.hint': 'Everyone in your firm sets it up at their next sign-in.',
  'policy.firm.save': 'Save the firm’s setting',
  'policy.portal.title': 'The portal',
  'policy.preview.title': 'Check this change before you save it',
  'policy.preview.asOf': 'Counted as once the deadline has passed ({date} is the last day to skip): until then these people may still skip.',
  'policy.preview.body': 'This makes two-step verification stricter. The new setting would be: {mode}.',
  'policy.preview.save': 'Save this change',
  'policy.preview.cancel': 'Cancel',
  'policy.lookup.title': 'The setting for one person',
  'policy.lookup.label': 'Person',
  'policy.lookup.submit': 'Show',
  'policy.lookup.result': '{name}: {mode}',
  'policy.lookup.skipUntil': 'They can skip until {date}.',
  'policy.lookup.unknown': 'No one you can manage has that id.',
  'policy.person.off': 'not asked',
  'policy.person.optional': 'optional',
  'policy.person.required': 'required',
  'policy.because.portal': 'Because of the portal’s setting.',
  'policy.because.role': 'Because of the rule for the role {role}.',
  'policy.because.firm': 'Because of the policy of the firm {firm}.',
  'policy.because.deadline': 'Because the deadline to skip has passed ({by}).',
  'policy.link.firm': 'Your firm’s two-step verification policy',
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
