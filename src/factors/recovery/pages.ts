import type { Request, Response, Router } from 'express';
import type { Config } from '../../options.js';
import { TwoFactorError } from '../../errors.js';
import type { Standing } from '../../flow/account.js';
import type { Gate } from '../../flow/gate.js';
import { randomId } from '../../secrets.js';
import { asyncHandler, wantsJson } from '../../http.js';
import { readField } from '../../web/input.js';
import type { MessageKey } from '../../web/messages.js';
import type { Render } from '../../web/render.js';
import type { FactorContext } from '../contract.js';
import { RECOVERY_CODES_LOW, readRecoveryCode, type RecoveryCodes } from './codes.js';

/** Where the codes page leads: a POST that finishes a sign-in, or a link back to settings. */
export type AfterCodes = { readonly continueAction: string } | { readonly doneHref: string };

/** The POSTs of a first enrolment whose answer is the codes page: a reload sends them again. */
const CODES_PAGE_POSTS = ['/enrol/totp', '/enrol/sms/confirm'];

/**
 * Instead of codes, on a reload or a way back: they were shown once, and new ones are made on
 * the settings page (which voids these). No bare error, and nothing issued again.
 */
export function renderCodesShownOnce(config: Config, render: Render, req: Request, res: Response): void {
  render(req, res, 200, 'recovery-codes', {
    title: 'page.title.recoveryCodes',
    shownAlready: true,
    settingsHref: `${config.basePath}/settings`,
  });
}

/**
 * Mount before the CSRF check. Reloading the codes page of an enrolment re-sends its POST: while
 * the sign-in is pending the enrolment is already saved, and once it finished the form's token
 * died with the old session id, so the person would meet a "form expired" error. Both go to the
 * GET page that says the codes were shown once. A redirect to a GET changes nothing, so it needs
 * no CSRF token.
 */
export function redirectCodesPageReloads(router: Router, config: Config): void {
  router.post(CODES_PAGE_POSTS, (req, res, next) => {
    const state = req.session?.secondFactor;
    if (state?.state === 'done' || state?.recoveryCodesShown) {
      res.redirect(303, `${config.basePath}/recovery-codes`);
      return;
    }
    next();
  });
}

/**
 * The page that shows a new set of recovery codes, once. The download is a `data:` link with
 * a `download` attribute: no script, nothing kept on the server to serve it from later.
 */
export function renderRecoveryCodes(config: Config, render: Render, req: Request, res: Response, codes: readonly string[], next: AfterCodes): void {
  const t = config.i18n.translator(config.i18n.localeOf(req));
  const date = new Date(config.now()).toISOString().slice(0, 10);
  const text = [
    t('recovery.file.heading', { issuer: config.issuer }),
    t('recovery.file.made', { date }),
    t('recovery.file.note'),
    '',
    ...codes,
    '',
  ].join('\r\n');
  const slug = config.issuer.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'account';
  render(req, res, 200, 'recovery-codes', {
    title: 'page.title.recoveryCodes',
    codes,
    download: { href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`, filename: `${slug}-recovery-codes.txt` },
    ...next,
  });
}

/** What the recovery-code pages need: the factor context, the codes, and the gate to finish. */
export interface RecoveryPages {
  readonly context: FactorContext;
  readonly recovery: RecoveryCodes;
  readonly gate: Gate;
}

/**
 * Ends a confirmed enrolment (first or again after a reset): a new set of codes, shown once.
 * The enrolment code proved the factor, so the sign-in is verified; it completes on "Continue".
 */
export async function showAfterEnrolment(req: Request, res: Response, { context, recovery }: RecoveryPages): Promise<void> {
  const { config, accounts, render, requirePending } = context;
  const { state, userId } = await requirePending(req);
  const { record } = await accounts.standing(userId);
  if (!record) throw new TwoFactorError('store_unavailable', 'the new enrolment could not be read back');
  const codes = await recovery.issue(userId, record);
  state.verifiedAt = config.now();
  state.recoveryCodesShown = true;
  renderRecoveryCodes(config, render, req, res, codes, { continueAction: `${config.basePath}/recovery-codes/continue` });
}

/** GET /recovery-codes: a reload or a way back. The codes were shown once and are not shown again. */
export function showCodesAgain({ context }: RecoveryPages) {
  const { config, render, requirePending } = context;
  return asyncHandler(async (req, res) => {
    if (req.session?.secondFactor?.state === 'done') {
      renderCodesShownOnce(config, render, req, res);
      return;
    }
    const pending = await requirePending(req);
    if (!pending.state.recoveryCodesShown) {
      res.redirect(303, config.basePath);
      return;
    }
    render(req, res, 200, 'recovery-codes', { title: 'page.title.recoveryCodes', shownAlready: true, continueAction: `${config.basePath}/recovery-codes/continue` });
  });
}

/** POST /recovery-codes/continue: the sign-in finishes, or (by policy) asks to sign in again. */
export function continueAfterCodes({ context, gate }: RecoveryPages) {
  const { config, render, requirePending, policy } = context;
  return asyncHandler(async (req, res) => {
    const { state } = await requirePending(req);
    if (!state.recoveryCodesShown) {
      res.redirect(303, config.basePath);
      return;
    }
    delete state.recoveryCodesShown;
    if (!policy.reauthenticateAfterEnrolment) {
      await gate.complete(req, res);
      return;
    }
    await gate.signOut(req);
    render(req, res, 200, 'notice', { title: 'page.title.enrolled', message: 'enrolled.signInAgain', link: { href: config.loginPath, label: 'signInAgain' } });
  });
}

const renderEntry = (req: Request, res: Response, { context }: RecoveryPages, status = 200, error?: MessageKey) =>
  context.render(req, res, status, 'recovery', { title: 'page.title.recovery', ...(error ? { error: { key: error } } : {}) });

/** GET /recovery: "Use a recovery code" instead of the factor. */
export function showEntry(pages: RecoveryPages) {
  const { config, requirePending, renderLocked } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    // From the session, as the verify page: the code POST asks the store.
    if (!pending.state.enrolled) {
      res.redirect(303, `${config.basePath}/enrol`);
      return;
    }
    const locked = await pages.context.attempts.lockedSecondsNoted(pending.userId, pending.state);
    if (locked > 0) renderLocked(req, res, locked);
    else renderEntry(req, res, pages);
  });
}

/** POST /recovery: a right code is spent and finishes the sign-in; a wrong one is a failed attempt. */
export function useCode(pages: RecoveryPages) {
  const { config, accounts, requirePending, codeChecks } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { userId, state } = pending;
    if (!state.enrolled) {
      res.redirect(303, `${config.basePath}/enrol`);
      return;
    }
    let left = 0;
    let standing: Standing | undefined;
    // A wrong or spent recovery code is a failed attempt like a wrong six-digit code; the record
    // is read with the attempt's reservation.
    const right = await codeChecks.checkSubmittedCode({
      req, res, userId, method: state.enrolled, reason: 'recovery_code',
      read: () => readRecoveryCode((req.body as Record<string, unknown>).recoveryCode),
      alongside: async () => (standing = await accounts.standing(userId)),
      evaluate: async (code) => {
        const record = standing?.method ? standing.record : null;
        if (!record) return false;
        const remaining = await pages.recovery.consume(userId, record, code);
        if (remaining !== undefined) left = remaining;
        return remaining !== undefined;
      },
      rerender: (status) => renderEntry(req, res, pages, status, status === 400 ? 'recovery.error.malformed' : 'recovery.error.invalid'),
    });
    if (!right) return;
    state.verifiedAt = config.now();
    config.emit({ type: 'recovery_code_used', userId, method: standing!.method! });
    await showSignedInWithCode(req, res, pages, left);
  });
}

/** After a recovery code: how many are left, and a nudge to make new ones when few are. */
async function showSignedInWithCode(req: Request, res: Response, pages: RecoveryPages, left: number): Promise<void> {
  const { config, render } = pages.context;
  const target = await pages.gate.finish(req);
  if (wantsJson(req)) {
    res.json({ status: 'done', next: target, recoveryCodesLeft: left });
    return;
  }
  render(req, res, 200, 'recovery-used', { title: 'page.title.recoveryUsed', left, low: left <= RECOVERY_CODES_LOW, next: target, settings: `${config.basePath}/settings` });
}

declare module 'express-session' {
  interface SessionData {
    /** The one "Make new recovery codes" form that may still issue a set (see issueToken). */
    secondFactorRecoveryIssue?: string;
  }
}

/**
 * A form of its own for "Make new recovery codes", for the settings page: a reload of the codes
 * page re-sends that form, and must not void the codes just saved by issuing another set.
 */
export function issueToken(req: Request): string {
  return (req.session.secondFactorRecoveryIssue = randomId());
}

/** POST /settings/recovery-codes: a new set, voiding the old, once per settings page shown. */
export function regenerate({ context, recovery }: RecoveryPages) {
  const { config, render, settings } = context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    const current = await settings.enrolled(res, who);
    if (!current) return;
    const form = readField((req.body as Record<string, unknown>).issue, 64);
    if (!form || form !== req.session.secondFactorRecoveryIssue) {
      renderCodesShownOnce(config, render, req, res);
      return;
    }
    delete req.session.secondFactorRecoveryIssue;
    const shown = await recovery.issue(who.userId, current.record);
    config.emit({ type: 'recovery_codes_regenerated', userId: who.userId, method: current.method });
    renderRecoveryCodes(config, render, req, res, shown, { doneHref: settings.path });
  });
}

/**
 * Recovery codes, the fallback of every factor: the codes page that ends a new enrolment
 * ("Continue" then finishes the sign-in), "Use a recovery code" instead of the factor, and new
 * codes from settings. Returns the step that ends an enrolment.
 */
export function mountRecovery(router: Router, pages: RecoveryPages): { showAfterEnrolment(req: Request, res: Response): Promise<void> } {
  router.get('/recovery-codes', showCodesAgain(pages));
  router.post('/recovery-codes/continue', continueAfterCodes(pages));
  router.get('/recovery', showEntry(pages));
  router.post('/recovery', useCode(pages));
  router.post('/settings/recovery-codes', regenerate(pages));
  return { showAfterEnrolment: (req, res) => showAfterEnrolment(req, res, pages) };
}
