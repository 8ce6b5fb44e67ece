import type { FactorText } from '../factors/contract.js';
import type { UserRecord } from '../store/types.js';
import type { Config } from '../options.js';
import type { Accounts } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { GrantChecks } from '../flow/grants.js';
import type { Reset } from '../flow/reset.js';
import type { createCsrf } from '../web/csrf.js';
import type { Render } from '../web/render.js';
import type { AuditTrail } from './audit.js';
import type { Directory } from './directory.js';
import type { AdminConfig } from './options.js';
import type { RoleRules } from './roles.js';
import type { SessionEnder } from './sessions.js';

/** The synchronizer-token helper of the admin pages (one per router). */
export type AdminCsrf = ReturnType<typeof createCsrf>;

/**
 * Everything an admin handler needs, built once by `createAdminRouter` and passed to the
 * module-level handlers (pages.ts, api.ts) and their checks (access.ts, actions.ts), so that
 * each stays a small function a reader can find by its route.
 */
export interface AdminContext {
  readonly config: Config;
  /** `config.admin`, known to be set: without it the router answers 404 and builds no context. */
  readonly admin: AdminConfig;
  readonly rules: RoleRules;
  readonly accounts: Accounts;
  readonly attempts: AttemptLimiter;
  readonly reset: Reset;
  readonly render: Render;
  readonly grants: GrantChecks;
  /** The status column's words for an enrolment, from its factor. */
  readonly statusOf: (record: UserRecord) => FactorText | undefined;
  readonly directory: Directory;
  readonly audit: AuditTrail;
  readonly sessions: SessionEnder;
  readonly csrf: AdminCsrf;
}
