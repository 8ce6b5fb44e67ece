import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import { asyncHandler } from '../../http.js';
import { readCode } from '../../web/input.js';
import { errorFor, type PageError } from '../../web/page-errors.js';
import type { UserRecord } from '../../store/types.js';
import type { FailureCount } from '../../flow/attempts.js';
import { enrolledWith, type EnrolmentRead, type FactorContext, type Person } from '../contract.js';
import { totpCheckError, type TotpCheck, type TotpClaims } from './claims.js';
import { groupForTyping, newTotpSecret, totpQrSvg, totpUri } from './otp.js';

/** What the authenticator-app pages share. */
export interface TotpPages {
  readonly context: FactorContext;
  readonly claims: TotpClaims;
}

const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/**
 * A code from the form, counted against the account: a wrong or already used code is a failed
 * attempt, and the page says which (see totpCheckError for why "already used" tells a guesser nothing).
 */
export function checkTotpCode(
  { context }: TotpPages,
  submitted: {
    req: Request; res: Response; userId: string; reason?: string;
    accept: (code: string, count: FailureCount) => Promise<TotpCheck>;
    alongside?: () => Promise<unknown>;
    rerender: (status: 400 | 401, error: PageError) => void | Promise<void>;
  },
): Promise<boolean> {
  let result = 'wrong' as TotpCheck;
  const { req, accept, rerender } = submitted;
  return context.codeChecks.checkSubmittedCode({
    ...submitted,
    method: 'totp',
    read: () => readCode(body(req).code),
    evaluate: async (code, count) => (result = await accept(code, count)) === 'ok',
    rerender: (status, error) => rerender(status, error ? errorFor(error) : totpCheckError(result)),
  });
}

/**
 * A new secret, sealed in the session until the person proves they stored it by entering a
 * code: nothing is saved for the account before that.
 */
export function startTotpEnrolment(who: Person, pages: TotpPages): void {
  who.state.enrolment = { method: 'totp', sealed: pages.context.config.secrets.seal(newTotpSecret(), who.userId) };
}

/** The secret of the enrolment in progress, or `undefined` when none is (a stale tab). */
export function pendingSecret(who: Person, pages: TotpPages): { sealed: string; secret: string } | undefined {
  const enrolment = who.state.enrolment;
  if (enrolment?.method !== 'totp') return undefined;
  return { sealed: enrolment.sealed, secret: pages.context.config.secrets.open(enrolment.sealed, who.userId) };
}

/** The QR code and typed key of the enrolment in progress, for the enrol-totp view. */
export async function enrolmentView(who: Person, pages: TotpPages, secret: string): Promise<Record<string, unknown>> {
  const { config } = pages.context;
  const accountName = config.accountName(who.user);
  return { qrSvg: await totpQrSvg(totpUri(config.issuer, accountName, secret)), groupedKey: groupForTyping(secret), accountName };
}

// --- at sign-in ---------------------------------------------------------------------------

async function renderEnrolment(req: Request, res: Response, pending: Person, pages: TotpPages, status = 200, error?: PageError): Promise<void> {
  const { config, render } = pages.context;
  const enrolment = pendingSecret(pending, pages);
  if (!enrolment) {
    res.redirect(303, `${config.basePath}/enrol`);
    return;
  }
  render(req, res, status, 'enrol-totp', { title: 'page.title.enrolTotp', ...(await enrolmentView(pending, pages, enrolment.secret)), ...(error ? { error } : {}) });
}

/** GET /enrol/totp: the QR code and key; someone enrolled meanwhile verifies instead. */
export function showEnrolment(pages: TotpPages) {
  const { pendingToEnrol } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await pendingToEnrol(req, res);
    if (!pending) return;
    await renderEnrolment(req, res, pending, pages);
  });
}

/** POST /enrol/totp: the first code from the new secret saves the enrolment. */
export function confirmEnrolment(pages: TotpPages) {
  const { config, accounts, requirePending } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { userId, state } = pending;
    const enrolment = pendingSecret(pending, pages);
    if (!enrolment) {
      res.redirect(303, `${config.basePath}/enrol`);
      return;
    }
    const { method, generation } = await accounts.standing(userId);
    if (method) throw new TwoFactorError('forbidden', 'already enrolled');
    const right = await checkTotpCode(pages, {
      req, res, userId, reason: 'enrolment',
      accept: (code, count) => pages.claims.accept(userId, enrolment.secret, code, count),
      rerender: (status, error) => renderEnrolment(req, res, pending, pages, status, error),
    });
    if (!right) return;
    await accounts.saveEnrolment(userId, generation, { method: 'totp', secret: enrolment.sealed });
    delete state.enrolment;
    config.emit({ type: 'enrolled', userId, method: 'totp' });
    await pages.context.finishEnrolment(req, res);
  });
}

function renderVerify(req: Request, res: Response, pages: TotpPages, status = 200, error?: PageError): void {
  pages.context.render(req, res, status, 'verify', { title: 'page.title.verify', ...(error ? { error } : {}) });
}

/** The verify page: a code field, "remember this device", the recovery-code link. */
export async function showVerify(req: Request, res: Response, pages: TotpPages): Promise<void> {
  renderVerify(req, res, pages);
}

/**
 * POST /verify for a person enrolled with an authenticator app: the record is read with the
 * attempt's reservation, and a right code's claim clears the failures: three round trips.
 */
export async function verify(req: Request, res: Response, pending: Person, read: EnrolmentRead, pages: TotpPages): Promise<void> {
  const { userId } = pending;
  const right = await checkTotpCode(pages, {
    req, res, userId, alongside: read,
    accept: async (code, count) => pages.claims.verify(userId, await enrolledWith(read, 'totp'), code, count),
    rerender: (status, error) => renderVerify(req, res, pages, status, error),
  });
  if (!right) return;
  pages.context.config.emit({ type: 'verified', userId, method: 'totp' });
  await pages.context.completeVerified(req, res, (await read()).record!);
}
