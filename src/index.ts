import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import { createPolicyRouter } from './admin/policy-router.js';
import { createAdminRouter } from './admin/router.js';
import { createAccounts } from './flow/account.js';
import { createAttemptLimiter } from './flow/attempts.js';
import { createGate } from './flow/gate.js';
import { createGrantChecks, effectivePolicyNow } from './flow/grants.js';
import { createReset } from './flow/reset.js';
import { atSignIn, clearAll, createFactors, findFactor } from './factors/index.js';
import { createRecoveryCodes } from './factors/recovery/codes.js';
import { createRememberedDevices } from './flow/remember-device.js';
import { createSessionIndex } from './flow/session-index.js';
import { createPolicy, type PolicyMode } from './flow/policy.js';
import { parseOptions, type SecondFactorOptions } from './options.js';
import type { FactorMethod } from './store/types.js';
import { createRenderer } from './web/render.js';
import { createErrorHandler, createUserRouter, requireSession } from './web/router.js';
import { answerMisuse, looksLikeRequest, trapMountAsApp } from './web/misuse.js';
import { createMountChecks, sessionMissing } from './flow/self-checks.js';
import { createCsrf } from './web/csrf.js';

export interface SecondFactor {
  /** Use right after `passport.authenticate(...)` on your login route. */
  readonly afterLogin: RequestHandler;
  /** The person's pages; mount at `basePath` (default `/2fa`). */
  readonly router: Router;
  /** Mount after `router` and before everything the second factor protects. */
  readonly guard: RequestHandler;
  /**
   * The admin pages that reset another person's second factor or clear their lock (and a
   * JSON API under `/api`), e.g. `app.use('/admin/2fa', twoFactor.adminRouter)`. It refuses
   * anyone whose own second factor was not proved at sign-in (or by a remembered device),
   * whatever the mount order and the mode. Without the `users` and `roles` options its reset
   * pages answer 404. Its `/policy` page flips the portal-wide switch, for people
   * `canManagePolicy` allows (while the switch is off, also to a session that finished with
   * it off, so that it can be turned back on).
   */
  readonly adminRouter: AdminRouter;
  /**
   * An Express error handler for the end of the host's stack: any failure before or behind
   * the gate becomes the package's clear error page or JSON answer with a stable code, and one
   * log line — never a stack trace. A failure on a request without a session is named as the
   * session middleware's (`session_misconfigured`, or 503 `session_store_unavailable`), not
   * the second factor's store.
   */
  readonly errorHandler: ErrorRequestHandler;
  /**
   * A person's standing, for the host's own pages (e.g. to offer "Enable 2FA" to people who
   * skipped). One store read; not needed on ordinary requests.
   */
  statusOf(user: Express.User): Promise<SecondFactorStatus>;
  /**
   * The session's CSRF token, for forms on the host's own pages that post to the package's
   * routes (e.g. a sign-out button posting to `${basePath}/logout`): put it in a hidden
   * `_csrf` field. Needs express-session in front; the same token the package's pages use.
   */
  csrfToken(req: Request): string;
}

/** The router of the admin reset pages: an Express router, mounted by the host. */
export type AdminRouter = Router;

/** What `statusOf` tells. */
export interface SecondFactorStatus {
  /** The mode that applies to this person (the switch after their role's override). */
  readonly mode: PolicyMode;
  /** The enrolled method, if any. */
  readonly method: FactorMethod | undefined;
  /** The person chose "Skip for now". */
  readonly skipped: boolean;
}

/** Creates the second-factor gate. Options are checked here, once; a wrong one throws. */
export function secondFactor(options: SecondFactorOptions): SecondFactor {
  // Called by Express as middleware (router.use(secondFactor)): answer that request plainly
  // instead of throwing into Express, whose default handler prints a stack trace.
  if (looksLikeRequest(options) && arguments.length >= 2) {
    answerMisuse(arguments[1]);
    return undefined as never;
  }
  const config = parseOptions(options);
  const policy = createPolicy({ store: config.store, options: config.policy, now: config.now, logger: config.logger });
  // secondFactor() is synchronous: the stored switch is read once in the background, to log
  // the mode in force and where it comes from.
  void policy.announce(config.logger);
  const mountChecks = createMountChecks(config.basePath);
  const accounts = createAccounts(config, policy);
  const attempts = createAttemptLimiter(config);
  const render = createRenderer(config);
  const handleError = createErrorHandler(config, render);
  const { roleOf } = config;
  const factors = createFactors(config);
  const recovery = createRecoveryCodes(config);
  const devices = createRememberedDevices(config, policy.rememberDeviceDays);
  const sessions = createSessionIndex(config);
  const csrf = createCsrf();
  const gate = createGate(config, {
    policy, accounts, roleOf, handleError, atSignIn: atSignIn(factors), devices, mountChecks, sessions, attempts,
    prepareForms: (req) => void csrf.generateToken(req, false),
  });
  const router = createUserRouter({ config, gate, accounts, attempts, render, policy, roleOf, factors, recovery, devices, mountChecks, sessions });

  async function statusOf(user: Express.User): Promise<SecondFactorStatus> {
    const userId = config.userId(user);
    // The person's effective mode (portal, role, their firms, a deadline), read only: a status
    // page records no first sign-in.
    const [standing, { effective }] = await Promise.all([accounts.standing(userId), effectivePolicyNow(policy, roleOf, user, userId, { readOnly: true })]);
    return { mode: effective.mode, method: standing.method, skipped: standing.skipped };
  }

  function csrfToken(req: Request): string {
    if (!req.session) throw sessionMissing('csrfToken(req)');
    // Reuses the session's token: the package's own forms stay valid.
    return csrf.generateToken(req, false);
  }

  const grants = createGrantChecks(policy, roleOf);
  const policyRouter = createPolicyRouter({ config, policy, grants, render, handleError });
  const adminRouter = express.Router();
  adminRouter.use(requireSession('adminRouter'));
  adminRouter.use('/policy', policyRouter);
  adminRouter.use(createAdminRouter({ config, accounts, attempts, reset: createReset({ config, attempts, devices, clearFactors: (userId) => clearAll(factors, userId) }), sessions, render, handleError, grants, statusOf: (record) => findFactor(factors, record.method)?.adminStatus(record) }));
  // The session check above answers through the package's page, not the host's error handler.
  adminRouter.use(handleError);

  return Object.freeze({ afterLogin: gate.afterLogin, guard: gate.guard, router, adminRouter, errorHandler: handleError, statusOf, csrfToken });
}
trapMountAsApp(secondFactor);

export type { SecondFactorOptions } from './options.js';
export type { PolicyMode, PolicyOptions } from './flow/policy.js';
export type { UserDirectory, DirectorySearch, DirectoryPage, PersonDescription, RoleOptions } from './admin/options.js';
export { seedRolePreset, validateRoleRules, canReset, canSee, canAdminister, parseTenant, type RoleRules, type Tenant, type Actor } from './admin/roles.js';
export { TwoFactorError, ErrorCodes, type ErrorCode } from './errors.js';
export type { TwoFactorEvent, TwoFactorEventType, Logger } from './events.js';
export type { TwoFactorStore, UserRecord, FactorMethod, LimiterOptions, LimiterKey, MemberDetail, CountReading } from './store/types.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js';
export { RedisStore, type RedisStoreOptions, type RedisStoreClient } from './store/redis.js';
export type { SmsSender } from './sms/types.js';
export { consoleSender } from './sms/console.js';
export { messageBirdSender, type MessageBirdSenderOptions } from './sms/messagebird.js';
