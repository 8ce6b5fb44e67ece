import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { wantsJson } from '../http.js';
import { refuseUnderReview, type Accounts, type Standing } from './account.js';
import type { AttemptLimiter } from './attempts.js';
import type { Policy } from './policy.js';
import type { RememberedDevices } from './remember-device.js';
import { createGrantChecks, effectivePolicyNow, owedAgain, type GrantChecks } from './grants.js';
import { safeReturnPath, type SecondFactorSession, type SessionGrant } from './session.js';
import { sessionMissing, type MountChecks } from './self-checks.js';
import type { UserRecord } from '../store/types.js';
import type { SessionIndex } from './session-index.js';

/** What `createGate` is given. */
interface GateDeps {
  policy: Policy;
  accounts: Accounts;
  roleOf: (user: Express.User) => string | undefined;
  /** Renders failures of afterLogin (a store outage) as the package's error page. */
  handleError: ErrorRequestHandler;
  /**
   * The enrolled factor's step at the password POST (text messages send the code here). The
   * gate knows no factor: it is handed this by factors/index.ts.
   */
  atSignIn: (state: SecondFactorSession, record: UserRecord | null, locale: string) => Promise<void>;
  /** Remembered devices, recognised at the password step. */
  devices: RememberedDevices;
  /** Tells the guard whether `router` saw a request before it. */
  mountChecks: MountChecks;
  /** Each person's finished sessions, for ending them at a reset or a change of factor. */
  sessions: SessionIndex;
  /** The account's code lock, read at the password step for the verify page. */
  attempts: AttemptLimiter;
  /**
   * Puts the token of the package's forms in the session at the password step, whose session
   * is written anyway: showing the code page then changes (and writes) no session.
   */
  prepareForms: (req: Request) => void;
}

/** What the gate's steps below share: built once by `createGate`. */
interface GateContext {
  readonly config: Config;
  readonly deps: GateDeps;
  readonly grants: GrantChecks;
}

/**
 * The session state machine's edges that live outside the person's pages: `afterLogin`
 * (password ok -> pending), `guard` (nothing behind it while pending) and `complete`
 * (pending -> done, with a new session id).
 */
export function createGate(config: Config, deps: GateDeps) {
  const ctx: GateContext = { config, deps, grants: createGrantChecks(deps.policy, deps.roleOf) };
  // Plain wrappers of the steps below, each with the step's own parameters: Express tells an
  // error handler by its arity, so `afterLogin` and `guard` keep exactly three.
  return {
    afterLogin: (req: Request, res: Response, next: NextFunction): void => afterLogin(ctx, req, res, next),
    guard: (req: Request, res: Response, next: NextFunction): void => guard(ctx, req, res, next),
    complete: (req: Request, res: Response, without?: SessionGrant): Promise<void> => complete(ctx, req, res, without),
    finish: (req: Request, without?: SessionGrant): Promise<string> => finish(ctx, req, without),
    signOut: (req: Request): Promise<void> => signOut(ctx, req),
  };
}

export type Gate = ReturnType<typeof createGate>;

/**
 * How the sign-in was granted: `without` names the way when no factor was shown; otherwise
 * the factor must have been proved in this sign-in. A path that gives neither (a mistake) is
 * recorded as a skip of no generation, which holds only while the switch is off: fail closed.
 */
function grantFor(ctx: GateContext, state: SecondFactorSession, without: SessionGrant | undefined): SessionGrant {
  if (without) return without;
  if (state.verifiedAt === undefined) return { how: 'skipped', generation: -1 };
  // A proved grant holds in any generation: the cached value is enough, and a store outage
  // after the code was accepted does not fail the sign-in here.
  return { how: 'proved', generation: ctx.deps.policy.lastKnown()?.generation ?? -1 };
}

/**
 * pending -> done: a new session id, the Passport user kept, pending data dropped except
 * when the factor was last proved and how the sign-in was granted. Returns where the person
 * goes next.
 */
async function finish(ctx: GateContext, req: Request, without?: SessionGrant): Promise<string> {
  const { config } = ctx;
  const state = req.session.secondFactor;
  if (!state || !req.user) throw new TwoFactorError('not_pending', 'no sign-in to complete');
  const target = state.returnTo ?? config.successRedirect;
  const { verifiedAt } = state;
  const grant = grantFor(ctx, state, without);
  await regenerateKeeping(req);
  // Indexed before it is marked done: if the store fails here, the session is not signed in
  // (fail closed) rather than signed in where a later reset could not find it.
  await ctx.deps.sessions.add(req, state.userId);
  req.session.secondFactor = { state: 'done', userId: state.userId, since: config.now(), grant, ...(verifiedAt !== undefined ? { verifiedAt } : {}) };
  return target;
}

/** What a finished sign-in's new session keeps of the pending one: not our pending state, not its CSRF token. */
function carriedOver(session: Request['session']): Record<string, unknown> {
  const { cookie: _cookie, secondFactor: _pending, csrfToken: _token, ...kept } = session as unknown as Record<string, unknown>;
  return kept;
}

/**
 * A new session id for the session's data (defeating fixation), written once, by
 * express-session at the end of the request. Not Passport's `req.login`: it would regenerate
 * and then save at once, and express-session saves a regenerated session again at the end, two
 * writes of one session. What `req.login` would write, the serialized user under Passport's key,
 * is already in the pending session (its password step did that) and is carried over with the
 * host's own keys.
 */
async function regenerateKeeping(req: Request): Promise<void> {
  const kept = carriedOver(req.session);
  await new Promise<void>((resolve, reject) => req.session.regenerate((error?: unknown) => (error ? reject(error) : resolve())));
  Object.assign(req.session, kept);
}

/**
 * pending -> done, answered with a redirect (or JSON) to where the person was going.
 * `without`: how it was granted when no factor was proved (see `finish`).
 */
async function complete(ctx: GateContext, req: Request, res: Response, without?: SessionGrant): Promise<void> {
  const target = await finish(ctx, req, without);
  if (wantsJson(req)) {
    res.json({ status: 'done', next: target });
  } else {
    res.redirect(303, target);
  }
}

/** Ends the sign-in entirely: Passport logout and the session destroyed. */
async function signOut(ctx: GateContext, req: Request): Promise<void> {
  const { sessionID } = req;
  // Only a finished sign-in was indexed: a pending one costs no store call here.
  const finished = req.session.secondFactor;
  const userId = finished?.state === 'done' ? finished.userId : undefined;
  await new Promise<void>((resolve, reject) => req.logout((error?: unknown) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
  if (userId === undefined) return;
  // After the destroy, and only logged on failure: the person is signed out either way, and a
  // stale entry names a session that no longer exists (ending it later is a no-op).
  await ctx.deps.sessions.remove(userId, sessionID).catch((error: unknown) =>
    ctx.config.logger.error(`second factor: signed out, but the session index of ${userId} was not updated: ${(error as Error).message}`),
  );
}

/** Use right after `passport.authenticate(...)` on the login route. */
function afterLogin(ctx: GateContext, req: Request, res: Response, next: NextFunction): void {
  startSecondFactor(ctx, req, res).catch((error: unknown) => {
    // The session already holds the Passport user but no finished second factor, so the
    // guard keeps everything shut; the person sees a clear page, not the host's 500.
    ctx.deps.handleError(error, req, res, next);
  });
}

/** password ok -> pending; then done at once when no code is asked for, else the challenge. */
async function startSecondFactor(ctx: GateContext, req: Request, res: Response): Promise<void> {
  const { state, user } = beginPending(ctx, req);
  const decision = await grantWithoutCode(ctx, req, res, user, state.userId);
  if ('without' in decision) {
    await complete(ctx, req, res, decision.without);
    return;
  }
  await startChallenge(ctx, req, res, state, decision);
}

/** Marks the session pending for the person Passport just signed in, keeping a safe returnTo. */
function beginPending(ctx: GateContext, req: Request): { state: SecondFactorSession; user: Express.User } {
  const { config } = ctx;
  // Thrown, not passed to next: afterLogin's catch shows the package's page even where the
  // host mounted no errorHandler.
  if (!req.session) throw sessionMissing('afterLogin');
  if (!req.user) {
    throw new TwoFactorError('mount_order', "secondFactor: afterLogin ran without req.user: put it right after passport.authenticate(...) on the login route, e.g. app.post('/login', passport.authenticate('local', { failureRedirect: '/login' }), twoFactor.afterLogin)");
  }
  const userId = config.userId(req.user);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const state: SecondFactorSession = {
    state: 'pending',
    userId,
    since: config.now(),
  };
  const returnTo = safeReturnPath(body.returnTo) ?? safeReturnPath(req.query.returnTo);
  if (returnTo) state.returnTo = returnTo;
  req.session.secondFactor = state;
  return { state, user: req.user };
}

/**
 * How this sign-in is granted without a code: the switch off (for this person's role), a skip
 * honoured, or a remembered device. Otherwise the person's standing, for the challenge, and
 * the account's lock, read in the same round trip (the verify page shows it from the session).
 */
async function grantWithoutCode(ctx: GateContext, req: Request, res: Response, user: Express.User, userId: string): Promise<{ without: SessionGrant } | { standing: Standing; lockedSeconds: number }> {
  const { config, deps } = ctx;
  const { policy, accounts, roleOf } = deps;
  // The person's effective policy (portal, role, their firms, deadline), from the current
  // values: a deadline set or shortened since their skip applies at this sign-in.
  const { state: current, effective } = await effectivePolicyNow(policy, roleOf, user, userId);
  const mode = effective.mode;
  if (mode === 'off') return { without: { how: 'off', generation: current.generation } };
  const { standing, lockedSeconds } = await accounts.standingAndLock(userId, deps.attempts);
  // "This wasn't me" locked the account: no skip, no remembered device, no enrolment; and the
  // password-only session ends, so the page offers nothing to go back to.
  if (standing.needsReview) {
    await signOut(ctx, req);
    refuseUnderReview(userId);
  }
  if (mode === 'optional' && standing.skipped) {
    config.emit({ type: 'skip_honoured', userId });
    return { without: { how: 'skipped', generation: standing.generation } };
  }
  if (await deps.devices.recognise(req, res, userId, standing.method ? standing.record : null)) {
    config.emit({ type: 'device_remembered', userId, ...(standing.method ? { method: standing.method } : {}) });
    return { without: { how: 'remembered', generation: standing.generation } };
  }
  return { standing, lockedSeconds };
}

/**
 * The second factor is owed: the factor's sign-in step (a text is sent), then straight to the
 * page this person needs (the code, or the method choice), with what it shows in the session.
 */
async function startChallenge(ctx: GateContext, req: Request, res: Response, state: SecondFactorSession, { standing, lockedSeconds }: { standing: Standing; lockedSeconds: number }): Promise<void> {
  const { config, deps } = ctx;
  config.emit({ type: 'challenge_started', userId: state.userId });
  if (standing.method) state.enrolled = standing.method;
  if (standing.enableRequested) state.enableRequested = true;
  if (lockedSeconds > 0) state.lockedUntil = config.now() + lockedSeconds * 1000;
  deps.prepareForms(req);
  // Sent here, by the login POST, and never by showing the verify page: a GET sends nothing.
  if (standing.method && lockedSeconds === 0) await deps.atSignIn(state, standing.record, config.i18n.localeOf(req));
  const next = `${config.basePath}/${standing.method ? 'verify' : 'enrol'}`;
  if (wantsJson(req)) {
    res.status(200).json({ status: 'pending', next });
  } else {
    res.redirect(303, next);
  }
}

/**
 * A finished sign-in still granted under the policy this instance has cached. One finished
 * without a factor is sent back to the second factor once the policy asks for one (the switch
 * back on, a role now required, a skip of an older generation).
 */
function stillGranted(ctx: GateContext, req: Request, user: Express.User, state: SecondFactorSession): boolean {
  const { config } = ctx;
  if (ctx.grants.cached(user, state) !== 'owed') return true;
  config.emit({ type: 'grant_withdrawn', userId: state.userId, ...(state.grant ? { reason: state.grant.how } : {}) });
  owedAgain(req, state, config.now());
  return false;
}

/**
 * Mount after the 2FA pages and before everything the second factor protects. A finished
 * sign-in costs one session read and nothing else: no store round trip, not even for the
 * policy (its cached value is compared, and refreshed in the background).
 */
function guard(ctx: GateContext, req: Request, res: Response, next: NextFunction): void {
  const { config, deps } = ctx;
  // Without a session no one can finish a sign-in: say why rather than let the host guess.
  if (!req.session) {
    deps.handleError(sessionMissing('guard'), req, res, next);
    return;
  }
  const state = req.session.secondFactor;
  if (!req.user) {
    // Not signed in at all: the host's own authentication decides what to do.
    next();
    return;
  }
  if (state?.state === 'done' && state.userId === config.userId(req.user) && stillGranted(ctx, req, req.user, state)) {
    next();
    return;
  }
  // Signed in with a password only, a session from before the gate was mounted, or one just
  // sent back above (its returnTo is set there): the second factor is owed. Fail closed:
  // never the content. A redirect of the 2FA pages' own requests would loop: that is a
  // mounting mistake, answered as one.
  const misplaced = deps.mountChecks.guardFirst(req);
  if (misplaced) {
    deps.handleError(misplaced, req, res, next);
    return;
  }
  sendToSecondFactor(ctx, req, res, state);
}

/** The guard's answer while the second factor is owed: 401 JSON, or a redirect to it (remembering where to return). */
function sendToSecondFactor(ctx: GateContext, req: Request, res: Response, state: SecondFactorSession | undefined): void {
  const { config } = ctx;
  if (wantsJson(req)) {
    res.status(401).json({ error: 'second_factor_required', message: config.i18n.translator(config.i18n.localeOf(req))('verify.required'), next: config.basePath });
    return;
  }
  if (state?.state === 'pending' && !state.returnTo && req.method === 'GET') {
    const returnTo = safeReturnPath(req.originalUrl);
    if (returnTo) state.returnTo = returnTo;
  }
  res.redirect(303, config.basePath);
}
