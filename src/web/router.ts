import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError, isTwoFactorError } from '../errors.js';
import type { Accounts, Standing } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { Gate } from '../flow/gate.js';
import type { Policy } from '../flow/policy.js';
import type { SecondFactorSession } from '../flow/session.js';
import { groupForTyping, newTotpSecret, totpQrSvg, totpUri } from '../factors/totp.js';
import { formProtection, isCsrfError, refuseCrossOrigin } from './csrf.js';
import { createCodeChecks } from './code-check.js';
import { asyncHandler, wantsJson } from './http.js';
import { readCode, readField } from './input.js';
import { errorMessageKey } from './messages.js';
import type { PageError } from './page-errors.js';
import { packagePublicDir, type Render } from './render.js';
import type { SmsCodes } from '../factors/sms.js';
import type { SmsChallenge } from '../flow/sms-challenge.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { RecoveryCodes } from '../factors/recovery.js';
import type { UserRecord } from '../store/types.js';
import { redirectCodesPageReloads, registerRecoveryRoutes } from './recovery-routes.js';
import { registerSettingsRoutes } from './settings-routes.js';
import type { SessionIndex } from '../flow/session-index.js';
import { registerSmsRoutes } from './sms-routes.js';
import { sessionFailure, sessionMissing, type MountChecks } from './self-checks.js';

interface Pending {
  readonly state: SecondFactorSession;
  readonly userId: string;
  readonly user: Express.User;
}

/** The person's pages: method choice, enrolment, verification, sign out. */
export function createUserRouter(deps: {
  config: Config;
  gate: Gate;
  accounts: Accounts;
  attempts: AttemptLimiter;
  render: Render;
  policy: Policy;
  roleOf: (user: Express.User) => string | undefined;
  smsCodes: SmsCodes;
  smsChallenge: SmsChallenge;
  recovery: RecoveryCodes;
  devices: RememberedDevices;
  mountChecks: MountChecks;
  sessions: SessionIndex;
}): Router {
  const { config, gate, accounts, attempts, render, policy, roleOf } = deps;
  const router = express.Router();

  // First, so that guard knows this router saw the request (see createMountChecks).
  router.use(function secondFactorMountCheck(req, _res, next) {
    next(deps.mountChecks.routerMismatch(req));
  });
  router.use('/assets', express.static(packagePublicDir, { index: false, maxAge: '1h', fallthrough: false }));
  // Before the CSRF check, which would fail on a missing session with a less helpful error.
  router.use(requireSession('router'));
  // Before the redirects below, which take no token: a cross-site POST is refused, not answered.
  router.use(refuseCrossOrigin);
  // Before the CSRF check: a reloaded codes page re-sends a form whose token may be gone.
  redirectCodesPageReloads(router, config);
  redirectFinishedSignIns(router, config);
  router.use(formProtection());

  /** The pending sign-in of this session, or a "sign in again" answer when there is none. */
  async function requirePending(req: Request): Promise<Pending> {
    const state = req.session?.secondFactor;
    if (!state || state.state !== 'pending' || !req.user || config.userId(req.user) !== state.userId) {
      throw new TwoFactorError('not_pending', 'no pending sign-in in this session');
    }
    if (config.now() - state.since > config.pendingTimeoutMs) {
      config.emit({ type: 'expired', userId: state.userId });
      await gate.signOut(req);
      throw new TwoFactorError('not_pending', 'the pending sign-in expired');
    }
    return { state, userId: state.userId, user: req.user };
  }

  const renderLocked = (req: Request, res: Response, seconds: number) => {
    res.set('Retry-After', String(seconds));
    render(req, res, 429, 'locked', { title: 'page.title.locked', minutes: Math.ceil(seconds / 60) });
  };

  const codeChecks = createCodeChecks(config, attempts, renderLocked, deps.smsCodes);
  const { checkTotpCode } = codeChecks;

  const recoveryPages = registerRecoveryRoutes(router, { config, accounts, attempts, render, policy, gate, recovery: deps.recovery, requirePending, renderLocked, codeChecks });

  /** pending -> done after a right code: when it was proved, and this browser if asked to remember it. */
  async function completeVerified(req: Request, res: Response, record: UserRecord): Promise<void> {
    const state = req.session.secondFactor!;
    state.verifiedAt = config.now();
    if (readField((req.body as Record<string, unknown>).remember, 8) === '1') await deps.devices.remember(req, res, state.userId, record);
    await gate.complete(req, res);
  }

  // Before the generic pages below: its /enrol handler takes the choice of text messages and
  // passes the others on.
  const sms = registerSmsRoutes(router, {
    config, accounts, render, requirePending, finishEnrolment, codeChecks,
    codes: deps.smsCodes, challenge: deps.smsChallenge, complete: completeVerified,
  });
  registerSettingsRoutes(router, {
    config, accounts, attempts, render, policy, roleOf, codes: deps.smsCodes, challenge: deps.smsChallenge, recovery: deps.recovery, codeChecks,
    devices: deps.devices, sessions: deps.sessions,
  });

  router.get(
    '/',
    asyncHandler(async (req, res) => {
      if (req.session?.secondFactor?.state === 'done') {
        res.redirect(303, config.successRedirect);
        return;
      }
      const { userId, state } = await requirePending(req);
      if (state.recoveryCodesShown) {
        res.redirect(303, `${config.basePath}/recovery-codes`);
        return;
      }
      const { method } = await accounts.standing(userId);
      res.redirect(303, `${config.basePath}/${method ? 'verify' : 'enrol'}`);
    }),
  );

  // --- enrolment -------------------------------------------------------------------------

  /** "Skip for now" is offered only in optional mode (after the role's override), never to
   * someone enrolled, and not to someone who asked to enable 2FA after skipping. */
  async function skipAllowed(pending: Pending, standing: Standing): Promise<boolean> {
    if (standing.method || standing.enableRequested) return false;
    return policy.modeFor(await policy.current(), roleOf(pending.user)) === 'optional';
  }

  const renderChoice = async (req: Request, res: Response, pending: Pending, status = 200, error?: TwoFactorError) =>
    render(req, res, status, 'choose', {
      title: 'page.title.choose',
      methods: [
        { id: 'totp', label: 'choose.totp', hint: 'choose.totp.hint' },
        { id: 'sms', label: 'choose.sms', hint: 'choose.sms.hint' },
      ],
      skipAllowed: await skipAllowed(pending, await accounts.standing(pending.userId)),
      ...(error ? { error: { key: errorMessageKey(error.code) } } : {}),
    });

  router.get(
    '/enrol',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { method } = await accounts.standing(pending.userId);
      if (method) {
        res.redirect(303, `${config.basePath}/verify`);
        return;
      }
      await renderChoice(req, res, pending);
    }),
  );

  router.post(
    '/skip',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const standing = await accounts.standing(pending.userId);
      if (!(await skipAllowed(pending, standing))) {
        throw new TwoFactorError('forbidden', 'skipping is not allowed for this person now');
      }
      await accounts.recordSkip(pending.userId, standing.generation);
      config.emit({ type: 'skipped', userId: pending.userId });
      await gate.complete(req, res, { how: 'skipped', generation: standing.generation });
    }),
  );

  /**
   * After a first enrolment: the recovery codes, shown once; their "Continue" goes straight on,
   * or (by policy) asks to sign in again with both factors.
   */
  function finishEnrolment(req: Request, res: Response): Promise<void> {
    return recoveryPages.showAfterEnrolment(req, res);
  }

  // --- "Enable 2FA" for a person who skipped ------------------------------------------------

  /** The signed-in person (second factor done or skipped) of this session. */
  function requireSignedIn(req: Request): { userId: string; user: Express.User } {
    const state = req.session?.secondFactor;
    if (!req.user || state?.state !== 'done' || state.userId !== config.userId(req.user)) {
      throw new TwoFactorError('not_pending', 'not signed in');
    }
    return { userId: state.userId, user: req.user };
  }

  router.get(
    '/enable',
    asyncHandler(async (req, res) => {
      const { userId } = requireSignedIn(req);
      const standing = await accounts.standing(userId);
      if (standing.method) {
        render(req, res, 200, 'notice', { title: 'page.title.enable', message: 'enable.alreadyOn', link: { href: config.successRedirect, label: 'continue' } });
        return;
      }
      render(req, res, 200, 'enable', { title: 'page.title.enable', home: config.successRedirect });
    }),
  );

  router.post(
    '/enable',
    asyncHandler(async (req, res) => {
      const { userId } = requireSignedIn(req);
      const standing = await accounts.standing(userId);
      if (standing.method) throw new TwoFactorError('forbidden', 'already enrolled');
      await accounts.requestEnable(userId, standing.generation);
      config.emit({ type: 'enable_requested', userId });
      await gate.signOut(req);
      render(req, res, 200, 'notice', { title: 'page.title.enable', message: 'enable.signedOut', link: { href: config.loginPath, label: 'signInAgain' } });
    }),
  );

  router.post(
    '/enrol',
    asyncHandler(async (req, res) => {
      const { state, userId } = await requirePending(req);
      const { method } = await accounts.standing(userId);
      if (method) throw new TwoFactorError('forbidden', 'already enrolled: verify instead');
      const choice = readField((req.body as Record<string, unknown>).method, 16);
      if (choice !== 'totp') {
        await renderChoice(req, res, await requirePending(req), 400, new TwoFactorError('bad_request', 'unknown method'));
        return;
      }
      // The secret lives only in this pending session, sealed, until the person proves they
      // stored it by entering a code; nothing is saved for the account before that.
      state.enrolment = { method: 'totp', sealed: config.secrets.seal(newTotpSecret(), userId) };
      res.redirect(303, `${config.basePath}/enrol/totp`);
    }),
  );

  async function renderTotpEnrolment(req: Request, res: Response, pending: Pending, status = 200, error?: PageError) {
    const enrolment = pending.state.enrolment;
    if (!enrolment || enrolment.method !== 'totp') {
      res.redirect(303, `${config.basePath}/enrol`);
      return;
    }
    const secret = config.secrets.open(enrolment.sealed, pending.userId);
    const accountName = config.accountName(pending.user);
    const qrSvg = await totpQrSvg(totpUri(config.issuer, accountName, secret));
    render(req, res, status, 'enrol-totp', {
      title: 'page.title.enrolTotp',
      qrSvg,
      groupedKey: groupForTyping(secret),
      accountName,
      ...(error ? { error } : {}),
    });
  }

  router.get(
    '/enrol/totp',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      if ((await accounts.standing(pending.userId)).method) {
        res.redirect(303, `${config.basePath}/verify`);
        return;
      }
      await renderTotpEnrolment(req, res, pending);
    }),
  );

  router.post(
    '/enrol/totp',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { userId, state } = pending;
      const enrolment = state.enrolment;
      if (!enrolment || enrolment.method !== 'totp') {
        res.redirect(303, `${config.basePath}/enrol`);
        return;
      }
      const { method, generation } = await accounts.standing(userId);
      if (method) throw new TwoFactorError('forbidden', 'already enrolled');
      const secret = config.secrets.open(enrolment.sealed, userId);
      const right = await checkTotpCode({
        req, res, userId, reason: 'enrolment',
        read: () => readCode((req.body as Record<string, unknown>).code),
        accept: (code) => accounts.acceptTotp(userId, secret, code),
        rerender: (status, error) => renderTotpEnrolment(req, res, pending, status, error),
      });
      if (!right) return;
      await accounts.saveTotpEnrolment(userId, enrolment.sealed, generation);
      delete state.enrolment;
      config.emit({ type: 'enrolled', userId, method: 'totp' });
      await finishEnrolment(req, res);
    }),
  );

  // --- verification at sign-in ------------------------------------------------------------

  const renderVerify = (req: Request, res: Response, status = 200, error?: PageError) =>
    render(req, res, status, 'verify', {
      title: 'page.title.verify',
      ...(error ? { error } : {}),
    });

  router.get(
    '/verify',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { userId } = pending;
      const { record, method } = await accounts.standing(userId);
      if (!method) {
        res.redirect(303, `${config.basePath}/enrol`);
        return;
      }
      const locked = await attempts.lockedSeconds(userId);
      if (locked > 0) {
        renderLocked(req, res, locked);
        return;
      }
      if (method === 'sms' && record) {
        await sms.showVerifyPage(req, res, pending, record);
        return;
      }
      renderVerify(req, res);
    }),
  );

  router.post(
    '/verify',
    asyncHandler(async (req, res) => {
      const pending = await requirePending(req);
      const { userId } = pending;
      const { record, method } = await accounts.standing(userId);
      if (!record || !method) {
        res.redirect(303, `${config.basePath}/enrol`);
        return;
      }
      if (method === 'sms') {
        await sms.checkVerifyCode(req, res, pending, record);
        return;
      }
      const right = await checkTotpCode({
        req, res, userId,
        read: () => readCode((req.body as Record<string, unknown>).code),
        accept: (code) => accounts.verifyTotp(userId, record, code),
        rerender: (status, error) => renderVerify(req, res, status, error),
      });
      if (!right) return;
      config.emit({ type: 'verified', userId, method });
      await completeVerified(req, res, record);
    }),
  );

  router.post(
    '/logout',
    asyncHandler(async (req, res) => {
      if (req.user) await gate.signOut(req);
      res.redirect(303, config.loginPath);
    }),
  );

  router.use(createErrorHandler(config, render));
  return router;
}

/** The POSTs that finish a pending sign-in: a code, a recovery code, "Skip for now", "Continue". */
const SIGN_IN_POSTS = ['/verify', '/recovery', '/skip', '/recovery-codes/continue'];

/**
 * Mount before the CSRF check. A sign-in POST sent again after it succeeded (an answer lost as
 * an instance died, Back and resubmit) carries the token of the session that finishing replaced,
 * and would meet "this form has expired" although the person is signed in. When this session is
 * done for the same person, it goes where a finished sign-in goes. Only a redirect: nothing is
 * checked or completed, so it needs no token; any other session goes on to the usual checks.
 */
function redirectFinishedSignIns(router: Router, config: Config): void {
  router.post(SIGN_IN_POSTS, function secondFactorFinishedSignIn(req, res, next) {
    const state = req.session?.secondFactor;
    if (state?.state !== 'done' || !req.user || state.userId !== config.userId(req.user)) {
      next();
      return;
    }
    // The return path was dropped with the pending state when the sign-in finished.
    if (wantsJson(req)) res.json({ status: 'done', next: config.successRedirect });
    else res.redirect(303, config.successRedirect);
  });
}

/**
 * One place that turns every failure into a clear page or JSON answer with a stable code:
 * never a stack trace, never a 500 page with internals. Anything we did not anticipate is
 * treated as "cannot verify right now" (503): failing closed, the gate stays shut.
 */
export function createErrorHandler(config: Config, render: Render) {
  return function secondFactorErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toTwoFactorError(err, req);
    if (error.status >= 500) {
      // Ours first (it says what to do), then what failed underneath, on one line.
      const cause = error.cause === undefined ? '' : ` (${describe(error.cause)})`;
      config.logger.error(`second factor: ${error.code} on ${req.method} ${req.baseUrl}${req.path}: ${error.message}${cause}`);
    }
    if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
    if (wantsJson(req)) {
      res.status(error.status).json({ error: error.code });
      return;
    }
    const params = error.retryAfterSeconds !== undefined ? { seconds: error.retryAfterSeconds, minutes: Math.ceil(error.retryAfterSeconds / 60) } : undefined;
    render(req, res, error.status, 'error', {
      title: 'page.title.error',
      error: { key: errorMessageKey(error.code), ...(params ? { params } : {}) },
      signIn: error.code === 'not_pending',
      back: error.code === 'not_pending' ? undefined : req.session?.secondFactor ? config.basePath : undefined,
    });
  };
}

/** A middleware that refuses a request without `req.session`, naming express-session. */
export function requireSession(where: string) {
  return function secondFactorSessionCheck(req: Request, _res: Response, next: NextFunction): void {
    next(req.session ? undefined : sessionMissing(where));
  };
}

function toTwoFactorError(err: unknown, req: Request): TwoFactorError {
  if (isTwoFactorError(err)) return err;
  if (isCsrfError(err)) return new TwoFactorError('csrf', 'missing or wrong CSRF token');
  const type = (err as { type?: unknown })?.type;
  if (type === 'entity.too.large' || type === 'parameters.too.many') return new TwoFactorError('payload_too_large', 'request body too large');
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new TwoFactorError(status === 404 ? 'not_found' : 'bad_request', 'bad request', { status });
  }
  // Without a session the failure is the session middleware's, whatever it says: not our store.
  const sessionError = sessionFailure(err, req);
  if (sessionError) return sessionError;
  return new TwoFactorError('store_unavailable', 'could not complete the request (a store, the session store or an unexpected failure: see the error in brackets)', { cause: err });
}

/** Name and message only: never the request, a body or a stack with values in it. */
function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error;
}
