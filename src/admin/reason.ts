import type { MessageKey } from '../web/messages.js';

/** Why a reset's reason was refused; the page picks its message by it, the API answers it. */
export type ReasonProblem = 'missing' | 'too_short' | 'too_long' | 'control_characters';

export type ReasonCheck = { readonly ok: true; readonly reason: string } | { readonly ok: false; readonly problem: ReasonProblem };

export const REASON_MIN_LENGTH = 3;
export const REASON_MAX_LENGTH = 200;
/** Longer raw values are not even trimmed: no form of ours sends that much. */
const RAW_MAX_LENGTH = 2000;

// C0 and C1 controls (line breaks and tabs included: the reason is one line in the audit
// list, the CSV and a notification), and the bidi overrides that make a line read in an
// order other than the stored one.
const controlCharacters = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

/**
 * The reason an admin gave for a reset, as a form or JSON body field: trimmed, 3..200
 * characters (code points, so an accented name counts once), one plain line.
 */
export function readResetReason(value: unknown): ReasonCheck {
  // An array or object (`reason[]=…`, JSON) is no reason either.
  if (typeof value !== 'string') return { ok: false, problem: 'missing' };
  if (value.length > RAW_MAX_LENGTH) return { ok: false, problem: 'too_long' };
  const reason = value.trim();
  if (reason === '') return { ok: false, problem: 'missing' };
  // Checked before trimming too: a line break at the end is refused, not quietly dropped.
  if (controlCharacters.test(value)) return { ok: false, problem: 'control_characters' };
  const length = [...reason].length;
  if (length < REASON_MIN_LENGTH) return { ok: false, problem: 'too_short' };
  if (length > REASON_MAX_LENGTH) return { ok: false, problem: 'too_long' };
  return { ok: true, reason };
}

/** The confirm page's message for each problem. */
export const reasonProblemMessage: Readonly<Record<ReasonProblem, MessageKey>> = {
  missing: 'admin.reason.missing',
  too_short: 'admin.reason.tooShort',
  too_long: 'admin.reason.tooLong',
  control_characters: 'admin.reason.control',
};

/** What the refused field shows again: what was typed, as one line, when it is not huge. */
export function reasonToShowAgain(value: unknown): string {
  if (typeof value !== 'string' || value.length > RAW_MAX_LENGTH) return '';
  return value.replace(new RegExp(controlCharacters.source, 'gu'), ' ');
}
