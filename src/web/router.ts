import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError, isTwoFactorError } from '../errors.js';
import type { Factor, FactorContext, Person, SettingsContext } from '../factors/contract.js';
import type { RecoveryCodes } from '../factors/recovery/codes.js';
import { mountRecovery, redirectCodesPageReloads } from '../factors/recovery/pages.js';
import type { Accounts } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { Gate } from '../flow/gate.js';
import type { Policy } from '../flow/policy.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { SessionIndex } from '../flow/session-index.js';
import { createCodeChecks } from './code-check.js';
import { formProtection, isCsrfError, refuseCrossOrigin } from './csrf.js';
import { wantsJson } from '../http.js';
import { errorMessageKey } from './messages.js';
import { packagePublicDir, type Render } from './render.js';
import { sessionFailure, sessionMissing, type MountChecks } from '../flow/self-checks.js';
import { createSettingsContext, registerSettingsRoutes } from './settings-routes.js';
import { registerNotMeRoutes } from './not-me-routes.js';
import { chooseMethod, completeVerified, requestEnable, showChoice, showEnable, showStart, showVerify, signOut, skip, verify, type SignInPages } from './signin-pages.js';

/**
 * @simplewebauthn/browser's UMD bundle (global `SimpleWebAuthnBrowser`). Found from its main
 * entry: the bundle is not in the package's `exports`, so it cannot be resolved by path.
 */
const webauthnBrowserBundle = join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');

/** What the person's router is made of. */
export interface UserRouterDeps {
  readonly config: Config;
  readonly gate: Gate;
  readonly accounts: Accounts;
  readonly attempts: AttemptLimiter;
  readonly render: Render;
  readonly policy: Policy;
  readonly roleOf: (user: Express.User) => string | undefined;
  readonly factors: readonly Factor[];
  readonly recovery: RecoveryCodes;
  readonly devices: RememberedDevices;
  readonly mountChecks: MountChecks;
  readonly sessions: SessionIndex;
}

/** The person's pages: method choice, each factor's enrolment and verification, settings, sign out. */
export function createUserRouter(deps: UserRouterDeps): Router {
  const { config } = deps;
  const router = express.Router();
  protectRouter(router, deps);
  // The factors' pages end in steps (the codes page after an enrolment, the settings page)
  // that exist once everything is mounted: bound here, called only at request time.
  const late = {} as LateSteps;
  const context = createFactorContext(deps, late);
  // The factors', recovery's, settings' and "This wasn't me" routes on a router of their own,
  // mounted after the sign-in's: every request walks the routes in order until one matches,
  // and the code page and its POST, two of a sign-in's four requests, are then near the front.
  const more = express.Router();
  const factors = deps.factors.map((factor) => ({ factor, pages: factor.mount(more, context) }));
  const pages: SignInPages = { context, gate: deps.gate, devices: deps.devices, factors, roleOf: deps.roleOf };
  late.recovery = mountRecovery(more, { context, recovery: deps.recovery, gate: deps.gate });
  late.showSettings = registerSettingsRoutes(more, deps, context, factors);
  registerNotMeRoutes(more, deps);
  router.get('/verify', showVerify(pages));
  router.post('/verify', verify(pages));
  router.get('/', showStart(pages));
  router.get('/enrol', showChoice(pages));
  router.post('/enrol', chooseMethod(pages));
  router.post('/skip', skip(pages));
  router.get('/enable', showEnable(pages));
  router.post('/enable', requestEnable(pages));
  router.post('/logout', signOut(pages));
  router.use(more);
  router.use(createErrorHandler(config, deps.render));
  return router;
}

interface LateSteps {
  recovery: ReturnType<typeof mountRecovery>;
  showSettings: SettingsContext['show'];
}

/** What every factor's pages get from this router (see FactorContext). */
function createFactorContext(deps: UserRouterDeps, late: LateSteps): FactorContext {
  const renderLocked = lockedPage(deps.config, deps.render);
  const context: FactorContext = {
    config: deps.config, accounts: deps.accounts, attempts: deps.attempts, policy: deps.policy, render: deps.render, renderLocked,
    codeChecks: createCodeChecks(deps.config, deps.attempts, renderLocked),
    requirePending: (req) => requirePending(deps, req),
    pendingToEnrol: (req, res) => pendingToEnrol(deps, req, res),
    finishEnrolment: (req, res) => late.recovery.showAfterEnrolment(req, res),
    completeVerified: (req, res, record) => completeVerified(req, res, record, { context, gate: deps.gate, devices: deps.devices }),
    settings: createSettingsContext(deps, () => late.showSettings),
  };
  return context;
}

/** What runs before every page: mount checks, assets, session, origin, reloads, CSRF. */
function protectRouter(router: Router, deps: UserRouterDeps): void {
  const { config } = deps;
  // First, so that guard knows this router saw the request (see createMountChecks).
  router.use(function secondFactorMountCheck(req, _res, next) {
    next(deps.mountChecks.routerMismatch(req));
  });
  // The WebAuthn browser helper, served from its package as it ships (no copy to drift).
  router.get('/assets/simplewebauthn-browser.js', (_req, res) => res.sendFile(webauthnBrowserBundle, { maxAge: '1h' }));
  router.use('/assets', express.static(packagePublicDir, { index: false, maxAge: '1h', fallthrough: false }));
  // Before the CSRF check, which would fail on a missing session with a less helpful error.
  router.use(requireSession('router'));
  // Before the redirects below, which take no token: a cross-site POST is refused, not answered.
  router.use(refuseCrossOrigin);
  // Before the CSRF check: a reloaded codes page re-sends a form whose token may be gone.
  redirectCodesPageReloads(router, config);
  redirectFinishedSignIns(router, config);
  router.use(formProtection());
}

/** The pending sign-in of this session, or a "sign in again" answer when there is none. */
async function requirePending({ config, gate }: UserRouterDeps, req: Request): Promise<Person> {
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

/**
 * From the session alone: the password step noted whether the person is enrolled, and an
 * enrolment in this session finishes on the codes page. An enrolment made meanwhile in another
 * session is met by the enrolment POST, which reads the record.
 */
async function pendingToEnrol(deps: UserRouterDeps, req: Request, res: Response): Promise<Person | undefined> {
  const pending = await requirePending(deps, req);
  const { enrolled, recoveryCodesShown } = pending.state;
  if (!enrolled && !recoveryCodesShown) return pending;
  res.redirect(303, `${deps.config.basePath}/${recoveryCodesShown ? 'recovery-codes' : 'verify'}`);
  return undefined;
}

/**
 * The locked page, with Retry-After: no form, the minutes until it lifts. A pending sign-in
 * notes the lock, so its verify page shows it without asking the store.
 */
function lockedPage(config: Config, render: Render) {
  return (req: Request, res: Response, seconds: number): void => {
    const state = req.session?.secondFactor;
    if (state?.state === 'pending') state.lockedUntil = config.now() + seconds * 1000;
    res.set('Retry-After', String(seconds));
    render(req, res, 429, 'locked', { title: 'page.title.locked', minutes: Math.ceil(seconds / 60) });
  };
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
