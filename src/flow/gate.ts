import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { wantsJson } from '../web/http.js';
import type { Accounts } from './account.js';
import type { Policy } from './policy.js';
import type { RememberedDevices } from './remember-device.js';
import { safeReturnPath, type SecondFactorSession } from './session.js';
import { sessionMissing, type MountChecks } from '../web/self-checks.js';
import type { SmsChallenge } from './sms-challenge.js';

/**
 * The session state machine's edges that live outside the person's pages: `afterLogin`
 * (password ok -> pending), `guard` (nothing behind it while pending) and `complete`
 * (pending -> done, with a new session id).
 */
export function createGate(
  config: Config,
  deps: {
    policy: Policy;
    accounts: Accounts;
    roleOf: (user: Express.User) => string | undefined;
    /** Renders failures of afterLogin (a store outage) as the package's error page. */
    handleError: ErrorRequestHandler;
    /** Sends the text-message code of a person enrolled with SMS. */
    sms: SmsChallenge;
    /** Remembered devices, recognised at the password step. */
    devices: RememberedDevices;
    /** Tells the guard whether `router` saw a request before it. */
    mountChecks: MountChecks;
  },
) {
  const { basePath } = config;
  const { policy, accounts, roleOf } = deps;

  /**
   * pending -> done: a new session id, the Passport user kept, pending data dropped except
   * when the factor was last proved. Returns where the person goes next.
   */
  async function finish(req: Request): Promise<string> {
    const state = req.session.secondFactor;
    const user = req.user;
    if (!state || !user) throw new TwoFactorError('not_pending', 'no sign-in to complete');
    const target = state.returnTo ?? config.successRedirect;
    const { verifiedAt } = state;
    // passport 0.7's req.login regenerates the session (defeating fixation) and writes the
    // serialized user into the new one; without keepSessionInfo nothing else is carried over.
    await new Promise<void>((resolve, reject) =>
      req.login(user, { session: true, keepSessionInfo: false }, (error?: unknown) => (error ? reject(error) : resolve())),
    );
    req.session.secondFactor = { state: 'done', userId: state.userId, since: config.now(), ...(verifiedAt !== undefined ? { verifiedAt } : {}) };
    return target;
  }

  /** pending -> done, answered with a redirect (or JSON) to where the person was going. */
  async function complete(req: Request, res: Response): Promise<void> {
    const target = await finish(req);
    if (wantsJson(req)) {
      res.json({ status: 'done', next: target });
    } else {
      res.redirect(303, target);
    }
  }

  /** Ends the sign-in entirely: Passport logout and the session destroyed. */
  async function signOut(req: Request): Promise<void> {
    await new Promise<void>((resolve, reject) => req.logout((error?: unknown) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
  }

  /** Use right after `passport.authenticate(...)` on the login route. */
  function afterLogin(req: Request, res: Response, next: NextFunction): void {
    startSecondFactor(req, res).catch((error: unknown) => {
      // The session already holds the Passport user but no finished second factor, so the
      // guard keeps everything shut; the person sees a clear page, not the host's 500.
      deps.handleError(error, req, res, next);
    });
  }

  async function startSecondFactor(req: Request, res: Response): Promise<void> {
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

    const mode = policy.modeFor(await policy.current(), roleOf(req.user));
    if (mode === 'off') {
      await complete(req, res);
      return;
    }
    const standing = await accounts.standing(userId);
    if (mode === 'optional' && standing.skipped) {
      config.emit({ type: 'skip_honoured', userId });
      await complete(req, res);
      return;
    }
    if (await deps.devices.recognise(req, res, userId, standing.method ? standing.record : null)) {
      config.emit({ type: 'device_remembered', userId, ...(standing.method ? { method: standing.method } : {}) });
      await complete(req, res);
      return;
    }
    config.emit({ type: 'challenge_started', userId });
    // Sent here, by the login POST, and never by showing the verify page: a GET sends nothing.
    if (standing.method === 'sms') await deps.sms.sendAtLogin(state, standing.record, config.i18n.localeOf(req));
    if (wantsJson(req)) {
      res.status(200).json({ status: 'pending', next: basePath });
    } else {
      res.redirect(303, basePath);
    }
  }

  /**
   * Mount after the 2FA pages and before everything the second factor protects. A finished
   * sign-in costs one session read and nothing else: no store round trip.
   */
  function guard(req: Request, res: Response, next: NextFunction): void {
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
    if (state?.state === 'done' && state.userId === config.userId(req.user)) {
      next();
      return;
    }
    // Signed in with a password only, or a session from before the gate was mounted: the
    // second factor is owed. Fail closed: never the content. A redirect of the 2FA pages'
    // own requests would loop: that is a mounting mistake, answered as one.
    const misplaced = deps.mountChecks.guardFirst(req);
    if (misplaced) {
      deps.handleError(misplaced, req, res, next);
      return;
    }
    if (wantsJson(req)) {
      res.status(401).json({ error: 'second_factor_required', message: config.i18n.translator(config.i18n.localeOf(req))('verify.required'), next: basePath });
      return;
    }
    if (state?.state === 'pending' && !state.returnTo && req.method === 'GET') {
      const returnTo = safeReturnPath(req.originalUrl);
      if (returnTo) state.returnTo = returnTo;
    }
    res.redirect(303, basePath);
  }

  return { afterLogin, guard, complete, finish, signOut };
}

export type Gate = ReturnType<typeof createGate>;
