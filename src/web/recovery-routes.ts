import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { Gate } from '../flow/gate.js';
import type { Policy } from '../flow/policy.js';
import type { SecondFactorSession } from '../flow/session.js';
import { RECOVERY_CODES_LOW, readRecoveryCode, type RecoveryCodes } from '../factors/recovery.js';
import type { CodeChecks, RenderLocked } from './code-check.js';
import { asyncHandler, wantsJson } from './http.js';
import type { MessageKey } from './messages.js';
import type { Render } from './render.js';

interface Pending {
  readonly state: SecondFactorSession;
  readonly userId: string;
  readonly user: Express.User;
}

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

/**
 * Recovery codes at sign-in: the codes page that ends a new enrolment ("Continue" then
 * finishes the sign-in), and "Use a recovery code" instead of the usual code.
 */
export function registerRecoveryRoutes(
  router: Router,
  deps: {
    config: Config;
    accounts: Accounts;
    attempts: AttemptLimiter;
    render: Render;
    policy: Policy;
    gate: Gate;
    recovery: RecoveryCodes;
    requirePending: (req: Request) => Promise<Pending>;
    renderLocked: RenderLocked;
    codeChecks: CodeChecks;
  },
) {
  const { config, accounts, attempts, render, policy, gate, recovery, requirePending, renderLocked } = deps;
  const base = config.basePath;

  /**
   * Ends a confirmed enrolment (first or again after a reset): a new set of codes, shown once.
   * The enrolment code proved the factor, so the sign-in is verified; it completes on "Continue".
   */
  async function showAfterEnrolment(req: Request, res: Response): Promise<void> {
    const { state, userId } = await requirePending(req);
    const { record } = await accounts.standing(userId);
    if (!record) throw new TwoFactorError('store_unavailable', 'the new enrolment could not be read back');
    const codes = await recovery.issue(userId, record);
    state.verifiedAt = config.now();
    state.recoveryCodesShown = true;
    renderRecoveryCodes(config, render, req, res, codes, { continueAction: `${base}/recovery-codes/continue` });
  }

  router.get(
    '/recovery-codes',
    asyncHandler(async (req, res) => {
      const state = req.session?.secondFactor;
      if (state?.state === 'done') {
        renderCodesShownOnce(config, render, req, res);
        return;
      }
      const pending = await requirePending(req);
      if (!pending.state.recoveryCodesShown) {
        res.redirect(303, base);
        return;
      }
      // A reload or a way back: the codes were shown once and are not shown again.
      render(req, res, 200, 'recovery-codes', { title: 'page.title.recoveryCodes', shownAlready: true, continueAction: `${base}/recovery-codes/continue` });
    }),
  );

  router.post(
    '/recovery-codes/continue',
    asyncHandler(async (req, res) => {
      const { state } = await requirePending(req);
      if (!state.recoveryCodesShown) {
        res.redirect(303, base);
        return;
      }
      delete state.recoveryCodesShown;
      if (!policy.reauthenticateAfterEnrolment) {
        await gate.complete(req, res);
        return;
      }
      await gate.signOut(req);
      render(req, res, 200, 'notice', { title: 'page.title.enrolled', message: 'enrolled.signInAgain', link: { href: config.loginPath, label: 'signInAgain' } });
    }),
  );

  const renderEntry = (req: Request, res: Response, status = 200, error?: MessageKey) =>
    render(req, res, status, 'recovery', { title: 'page.title.recovery', ...(error ? { error: { key: error } } : {}) });

  router.get(
    '/recovery',
    asyncHandler(async (req, res) => {
      const { userId } = await requirePending(req);
      if (!(await accounts.standing(userId)).method) {
        res.redirect(303, `${base}/enrol`);
        return;
      }
      const locked = await attempts.lockedSeconds(userId);
      if (locked > 0) {
        renderLocked(req, res, locked);
        return;
      }
      renderEntry(req, res);
    }),
  );

  router.post(
    '/recovery',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { userId, state } = pending;
      const { record, method } = await accounts.standing(userId);
      if (!record || !method) {
        res.redirect(303, `${base}/enrol`);
        return;
      }
      let left = 0;
      // A wrong or spent recovery code is a failed attempt like a wrong six-digit code.
      const right = await deps.codeChecks.checkSubmittedCode({
        req, res, userId, method, reason: 'recovery_code',
        read: () => readRecoveryCode((req.body as Record<string, unknown>).recoveryCode),
        evaluate: async (code) => {
          const remaining = await recovery.consume(userId, record, code);
          if (remaining === undefined) return false;
          left = remaining;
          return true;
        },
        rerender: (status) => renderEntry(req, res, status, status === 400 ? 'recovery.error.malformed' : 'recovery.error.invalid'),
      });
      if (!right) return;
      state.verifiedAt = config.now();
      config.emit({ type: 'recovery_code_used', userId, method });
      const target = await gate.finish(req);
      if (wantsJson(req)) {
        res.json({ status: 'done', next: target, recoveryCodesLeft: left });
        return;
      }
      render(req, res, 200, 'recovery-used', {
        title: 'page.title.recoveryUsed',
        left,
        low: left <= RECOVERY_CODES_LOW,
        next: target,
        settings: `${base}/settings`,
      });
    }),
  );

  return { showAfterEnrolment };
}
