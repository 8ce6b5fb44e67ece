import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Config } from '../options.js';
import type { FactorText } from '../factors/contract.js';
import type { UserRecord } from '../store/types.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { GrantChecks } from '../flow/grants.js';
import type { Reset } from '../flow/reset.js';
import { createCsrf, formBodies, refuseCrossOrigin } from '../web/csrf.js';
import type { MessageKey } from '../web/messages.js';
import type { Render } from '../web/render.js';
import { asAdmin } from './access.js';
import { listUsers, resetUser, sendCsrfToken, unlockUser } from './api.js';
import { createAuditTrail } from './audit.js';
import type { AdminContext } from './context.js';
import { createDirectory } from './directory.js';
import { exportAuditCsv, exportAuditJson } from './export.js';
import { postReset, postUnlock, showResetConfirm, showUsers } from './pages.js';
import { createSessionEnder } from './sessions.js';
import type { SessionIndex } from '../flow/session-index.js';

/** Shown once on the list after a reset or unlock (post, redirect, get). */
interface AdminNotice {
  readonly key: MessageKey;
  readonly name: string;
}

declare module 'express-session' {
  interface SessionData {
    secondFactorAdminNotice?: AdminNotice;
  }
}

type AdminRouterDeps = Parameters<typeof createAdminRouter>[0];

/**
 * The admin pages: find a person, reset their second factor or clear their lock, as the role
 * rules allow. Also a JSON API under `/api` with the same checks.
 *
 * The routes are listed at the end; each handler is a small function of its own: the pages in
 * pages.ts, the API in api.ts, the admin check in access.ts, reset and unlock in actions.ts,
 * the audit trail's CSV and JSON exports in export.ts.
 */
export function createAdminRouter(deps: {
  config: Config;
  accounts: Accounts;
  attempts: AttemptLimiter;
  reset: Reset;
  /** Each person's finished sessions: what a reset ends, unless the host opted out. */
  sessions: SessionIndex;
  render: Render;
  handleError: ErrorRequestHandler;
  grants: GrantChecks;
  /** The status column's words for an enrolment: its factor's `adminStatus` ("Passkey (2)"). */
  statusOf: (record: UserRecord) => FactorText | undefined;
}): Router {
  const router = express.Router();
  const ctx = adminContext(deps);
  if (!ctx) {
    router.use((_req, _res, next) => next(new TwoFactorError('not_found', 'adminRouter: the users and roles options are not set')));
    router.use(deps.handleError);
    return router;
  }
  useRequestSetup(router, ctx);

  // --- pages -----------------------------------------------------------------------------
  router.get('/', asAdmin(ctx, showUsers));
  router.get('/users/:id/reset', asAdmin(ctx, showResetConfirm));
  router.post('/users/:id/reset', asAdmin(ctx, postReset, 'reset'));
  router.post('/users/:id/unlock', asAdmin(ctx, postUnlock, 'unlock'));
  router.get('/audit.csv', asAdmin(ctx, exportAuditCsv));
  router.get('/audit.json', asAdmin(ctx, exportAuditJson));

  // --- JSON API ----------------------------------------------------------------------------
  router.get('/api/csrf', asAdmin(ctx, sendCsrfToken));
  router.get('/api/users', asAdmin(ctx, listUsers));
  router.post('/api/users/:id/reset', asAdmin(ctx, resetUser, 'reset'));
  router.post('/api/users/:id/unlock', asAdmin(ctx, unlockUser, 'unlock'));

  router.use((_req, _res, next) => next(new TwoFactorError('not_found', 'no such admin page')));
  router.use(deps.handleError);
  return router;
}

/** What the handlers share; undefined when the host set no users and roles (every page is then 404). */
function adminContext(deps: AdminRouterDeps): AdminContext | undefined {
  const { config } = deps;
  const admin = config.admin;
  if (!admin) return undefined;
  return {
    config,
    admin,
    rules: admin.rules,
    accounts: deps.accounts,
    attempts: deps.attempts,
    reset: deps.reset,
    render: deps.render,
    grants: deps.grants,
    statusOf: deps.statusOf,
    directory: createDirectory(config, admin),
    audit: createAuditTrail(config, admin.rules),
    sessions: createSessionEnder(admin, config.sessionIndex ? deps.sessions : undefined),
    csrf: createCsrf(),
  };
}

/** What runs before every admin route: the API's JSON answers, the cross-origin check, the form token. */
function useRequestSetup(router: Router, ctx: AdminContext): void {
  // The API answers JSON whatever the client's Accept says, errors and refusals included:
  // everything below (and the shared error handler) decides by wantsJson().
  router.use('/api', (req, _res, next) => {
    req.headers.accept = 'application/json';
    next();
  });
  // Before anything reads the body or the actor: a cross-site POST is refused unread (and so
  // not audited, like any request that never reached an action).
  router.use(refuseCrossOrigin, ...formBodies());
  router.use((req, _res, next) => {
    // The token for forms; checked in the handlers, after the actor is known, so that a
    // refused forgery is an audit event like any other refusal.
    req.csrfToken = (overwrite?: boolean) => ctx.csrf.generateToken(req, overwrite);
    next();
  });
}
