import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import type { UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import { readCode, readField } from '../../web/input.js';
import { errorFor, type PageError } from '../../web/page-errors.js';
import { enrolledWith, type EnrolmentRead, type FactorContext, type Person } from '../contract.js';
import { isSmsSendRefusal, type SmsChallenge } from './challenge.js';
import type { SmsCheck, SmsCodes, SmsLookup } from './codes.js';
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
  { req, res, who, phone, alongside, reason, rerender }: {
    req: Request; res: Response; who: Person; reason?: string;
    /** The number the code went to: given, or read with the attempt (`undefined`: no longer enrolled with it). */
    phone: string | (() => Promise<string | undefined>);
    alongside?: () => Promise<unknown>;
    rerender: (status: 400 | 401, error: PageError) => Promise<void>;
  },
): Promise<boolean> {
  let result = 'none' as SmsCheck;
  const { userId, state } = who;
  let looked: Promise<SmsLookup> | undefined;
  return context.codeChecks.checkSubmittedCode({
    req, res, userId, method: 'sms', reason,
    read: () => readCode(body(req).code),
    // The code and its try are read with the attempt's reservation (and the record, if asked).
    alongside: () => Promise.all([(looked = codes.lookup(userId, state.sms?.codeId)), alongside?.()]),
    evaluate: async (code, count) => {
      const number = typeof phone === 'string' ? phone : await phone();
      if (number === undefined) return false;
      return (result = await codes.check(userId, { binding: state.sms?.binding, phone: number }, code, { looked: await looked, count })) === 'ok';
    },
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

/**
 * Seconds before "Resend" may send again, from when this sign-in's last code went out: the
 * cooldown is this sign-in's own, so the session knows it; the store decides at the POST.
 */
function resendSeconds(config: FactorContext['config'], sentAt: number | undefined): number {
  if (sentAt === undefined) return 0;
  const waitMs = sentAt + config.resendCooldownSeconds * 1000 - config.now();
  return waitMs > 0 ? Math.min(config.resendCooldownSeconds, Math.ceil(waitMs / 1000)) : 0;
}

/** What the code pages share: the masked number, whether a code went out, this sign-in's countdown. */
export function codePage(pages: SmsPages, who: Person, last4: string | undefined, error: PageError | undefined): Record<string, unknown> {
  const { config } = pages.context;
  const sms = who.state.sms;
  const shown = error ?? lastSendError(sms, config.now());
  return {
    masked: maskPhone(last4 ?? ''),
    sent: sms?.sentAt !== undefined,
    resendIn: resendSeconds(config, sms?.sentAt),
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

export async function renderVerify(req: Request, res: Response, pages: SmsPages, pending: Person, status = 200, error?: PageError): Promise<void> {
  pages.context.render(req, res, status, 'verify-sms', { title: 'page.title.verify', ...codePage(pages, pending, await maskedDigits(pages, pending), error) });
}

/**
 * The last four digits for the masked number: noted by the password step's text. A sign-in
 * that found the account locked sent none, so its first code page reads them once.
 */
async function maskedDigits({ context }: SmsPages, pending: Person): Promise<string | undefined> {
  const noted = pending.state.sms?.last4;
  if (noted !== undefined) return noted;
  const last4 = (await context.accounts.standing(pending.userId)).record?.phoneLast4;
  if (last4 !== undefined && pending.state.sms) pending.state.sms.last4 = last4;
  return last4;
}

/** POST /verify for a person enrolled with text messages: the record is read with the attempt's reservation. */
export async function verify(req: Request, res: Response, pending: Person, read: EnrolmentRead, pages: SmsPages): Promise<void> {
  const { config, completeVerified } = pages.context;
  const right = await checkSmsCode(pages, {
    req, res, who: pending, alongside: read,
    phone: async () => {
      const record = await enrolledWith(read, 'sms');
      return record.phone ? config.secrets.open(record.phone, pending.userId) : undefined;
    },
    rerender: (status, error) => renderVerify(req, res, pages, pending, status, error),
  });
  if (!right) return;
  config.emit({ type: 'verified', userId: pending.userId, method: 'sms' });
  await completeVerified(req, res, (await read()).record!);
}
