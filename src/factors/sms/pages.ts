import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import type { UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import { readCode, readField } from '../../web/input.js';
import { errorFor, type PageError } from '../../web/page-errors.js';
import type { FactorContext, Person } from '../contract.js';
import { isSmsSendRefusal, type SmsChallenge } from './challenge.js';
import type { SmsCheck, SmsCodes } from './codes.js';
import { lastSendError, phoneProblemKeys, sendRefusalError, smsCheckError } from './errors.js';
import { maskPhone, normaliseUsPhone, type PhoneCheck } from './phone.js';

/** What the text-message pages share. */
export interface SmsPages {
  readonly context: FactorContext;
  readonly codes: SmsCodes;
  readonly challenge: SmsChallenge;
}

const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/** Sends a code unless the account is locked. True when it went out; otherwise the page has been answered. */
export async function sendCodeUnlessLocked(
  { context }: SmsPages,
  { req, res, userId, send, refused }: { req: Request; res: Response; userId: string; send: () => Promise<void>; refused: (status: number, error: PageError) => void | Promise<void> },
): Promise<boolean> {
  const locked = await context.attempts.lockedSeconds(userId);
  if (locked > 0) {
    context.renderLocked(req, res, locked);
    return false;
  }
  try {
    await send();
  } catch (error) {
    if (!isSmsSendRefusal(error)) throw error;
    if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
    await refused(error.status, sendRefusalError(error));
    return false;
  }
  return true;
}

/**
 * A code from the form, checked for this session and number: a wrong one is a failed attempt
 * like any other, however many codes were sent, and is shown with why it was refused.
 */
export function checkSmsCode(
  { context, codes }: SmsPages,
  { req, res, who, phone, reason, rerender }: { req: Request; res: Response; who: Person; phone: string; reason?: string; rerender: (status: 400 | 401, error: PageError) => Promise<void> },
): Promise<boolean> {
  let result = 'none' as SmsCheck;
  const { userId, state } = who;
  return context.codeChecks.checkSubmittedCode({
    req, res, userId, method: 'sms', reason,
    read: () => readCode(body(req).code),
    evaluate: async (code) => (result = await codes.check(userId, { binding: state.sms?.binding, phone }, code)) === 'ok',
    rerender: (status, error) => rerender(status, error ? errorFor(error) : smsCheckError(result)),
  });
}

/** The number typed on a phone form, read and checked (US mobile numbers only). */
export function typedPhone(req: Request): { typed: string; phone: PhoneCheck } {
  const typed = readField(body(req).phone, 64) ?? '';
  return { typed, phone: normaliseUsPhone(typed) };
}

/** The phone-number problem as the form shows it. */
export const phoneError = (phone: PhoneCheck & { ok: false }): PageError => ({ key: phoneProblemKeys[phone.problem] });

/** What the code pages share: the masked number, whether a code went out, this sign-in's countdown. */
export async function codePage(pages: SmsPages, who: Person, last4: string | undefined, error: PageError | undefined): Promise<Record<string, unknown>> {
  const { config } = pages.context;
  const sms = who.state.sms;
  const shown = error ?? lastSendError(sms, config.now());
  return {
    masked: maskPhone(last4 ?? ''),
    sent: sms?.sentAt !== undefined,
    resendIn: await pages.codes.cooldownSeconds(who.userId, sms?.binding),
    codeMinutes: Math.ceil(config.smsCodeTtlSeconds / 60),
    ...(shown ? { error: shown } : {}),
  };
}

/** The sealed number of a phone enrolment in progress, or `undefined` (none, or a stale tab). */
export function pendingPhone(who: Person): { sealed: string; last4: string } | undefined {
  const enrolment = who.state.enrolment;
  return enrolment?.method === 'sms' && enrolment.last4 ? { sealed: enrolment.sealed, last4: enrolment.last4 } : undefined;
}

// --- verification at sign-in ------------------------------------------------------------------

export async function renderVerify(req: Request, res: Response, pages: SmsPages, pending: Person, record: UserRecord, status = 200, error?: PageError): Promise<void> {
  pages.context.render(req, res, status, 'verify-sms', { title: 'page.title.verify', ...(await codePage(pages, pending, record.phoneLast4, error)) });
}

/** POST /verify for a person enrolled with text messages. */
export async function verify(req: Request, res: Response, pending: Person, record: UserRecord, pages: SmsPages): Promise<void> {
  const { config, completeVerified } = pages.context;
  if (!record.phone) throw new TwoFactorError('store_unavailable', 'an SMS enrolment without a phone number');
  const right = await checkSmsCode(pages, {
    req, res, who: pending, phone: config.secrets.open(record.phone, pending.userId),
    rerender: (status, error) => renderVerify(req, res, pages, pending, record, status, error),
  });
  if (!right) return;
  config.emit({ type: 'verified', userId: pending.userId, method: 'sms' });
  await completeVerified(req, res, record);
}
