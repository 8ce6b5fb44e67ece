import type { Request, Response, Router } from 'express';
import { createSessionEnder } from '../admin/sessions.js';
import { clearAll } from '../factors/index.js';
import type { NotMeRefusal } from '../flow/not-me.js';
import { createReset } from '../flow/reset.js';
import { asyncHandler } from '../http.js';
import type { MessageKey } from './messages.js';
import type { UserRouterDeps } from './router.js';

/** What the two routes share, built once at mount. */
interface NotMeContext {
  readonly deps: UserRouterDeps;
  readonly clearBesideRecord: (userId: string) => Promise<void>;
  /** Ends every session of the person; `false` when nothing here can (no index, no endSessions). */
  readonly endSessions: (req: Request, userId: string) => Promise<boolean>;
}

/**
 * "This wasn't me": the link of an `enrolled`, `method_changed` or `reset` notification
 * (flow/not-me.ts). GET shows what happened and a button; only the POST (CSRF-checked by the
 * router, like every form) acts. Both work signed out: the person may read the mail anywhere.
 */
export function registerNotMeRoutes(router: Router, deps: UserRouterDeps): void {
  const { config } = deps;
  const reset = createReset({ config, attempts: deps.attempts, devices: deps.devices, clearFactors: (userId) => clearAll(deps.factors, userId) });
  const ctx: NotMeContext = { deps, clearBesideRecord: reset.clearBesideRecord, endSessions: sessionEnding(deps) };
  router.get('/not-me/:token', asyncHandler((req, res) => showNotMe(ctx, req, res)));
  router.post('/not-me/:token', asyncHandler((req, res) => confirmNotMe(ctx, req, res)));
}

/**
 * How the person's sessions end: as an admin reset ends them (the host's `endSessions`, else
 * the session index, else a scan of the session store), and always, whatever
 * `endSessionsOnReset` says: a person reporting someone else in their account wants them out.
 */
function sessionEnding({ config, sessions }: UserRouterDeps): NotMeContext['endSessions'] {
  const index = config.sessionIndex ? sessions : undefined;
  if (config.admin) {
    const ender = createSessionEnder({ ...config.admin, endSessionsOnReset: true }, index);
    return (req, userId) => ender.end(req, userId);
  }
  return async (req, userId) => {
    if (!index) return false;
    await index.endOthers(req, userId);
    return true;
  };
}

/** GET: what the link reports, and the button. Changes nothing (one read: is it unused?). */
async function showNotMe(ctx: NotMeContext, req: Request, res: Response): Promise<void> {
  const claim = ctx.deps.config.notMe.verify(req.params.token);
  if (typeof claim === 'string') return refuse(ctx, req, res, claim);
  if (!(await ctx.deps.config.notMe.isUnused(claim))) return refuse(ctx, req, res, 'gone');
  ctx.deps.render(req, res, 200, 'not-me', {
    title: 'page.title.notMe',
    what: `notMe.cause.${claim.cause}` as MessageKey,
    when: shownTime(claim.issuedAt),
    action: `${ctx.deps.config.basePath === '/' ? '' : ctx.deps.config.basePath}/not-me/${req.params.token}`,
  });
}

/**
 * POST: spends the link (of parallel confirmations exactly one gets past `consume`), then
 * secures the account. The lock is written first, replacing the record: from then on no
 * factor of it verifies and no enrolment overwrites it (flow/account.ts), whatever of the rest
 * is still to be done.
 */
async function confirmNotMe(ctx: NotMeContext, req: Request, res: Response): Promise<void> {
  const { config } = ctx.deps;
  const claim = config.notMe.verify(req.params.token);
  if (typeof claim === 'string') return refuse(ctx, req, res, claim);
  if (!(await config.notMe.consume(claim))) return refuse(ctx, req, res, 'gone');
  try {
    await lockForReview(ctx, claim.userId);
  } catch (error) {
    // Nothing (or not all) was done: the link is given back, so that trying again works.
    await config.notMe.restore(claim);
    throw error;
  }
  const sessionsEnded = await endEverySession(ctx, req, claim.userId);
  config.emit({ type: 'not_me', userId: claim.userId, reason: claim.cause, ...(sessionsEnded ? {} : { outcome: 'sessions_not_ended' }) });
  ctx.deps.render(req, res, 200, 'not-me-done', { title: 'page.title.notMeDone' });
}

/**
 * The record becomes a review lock (its generation kept, nothing else: method, secret,
 * phone, passkeys and recovery codes go), then what lives beside it is cleared as a reset
 * clears it (claimed steps, live codes, attempts, remembered devices).
 */
async function lockForReview(ctx: NotMeContext, userId: string): Promise<void> {
  const { config, accounts } = ctx.deps;
  const { record, generation } = await accounts.standing(userId);
  await config.store.saveUser(userId, { generation: record?.generation ?? generation, reviewRequiredAt: config.now() });
  await ctx.clearBesideRecord(userId);
}

/**
 * Every session of the person, this one too when it is theirs. A failure is logged and does
 * not undo the lock (which already stops every new sign-in); `false` when sessions may live on.
 */
async function endEverySession(ctx: NotMeContext, req: Request, userId: string): Promise<boolean> {
  const { config, gate } = ctx.deps;
  let ended = false;
  try {
    ended = await ctx.endSessions(req, userId);
    if (!ended) config.logger.warn(`second factor: "This wasn't me" for ${userId}: no session index and no endSessions option, so their other sessions were not ended`);
  } catch (error) {
    config.logger.error(`second factor: "This wasn't me" for ${userId} locked the account, but their sessions could not be ended: ${(error as Error).message}`);
  }
  // The request's own session is never in what the index ends: signed out here when it is theirs.
  if (req.session?.secondFactor?.userId === userId) await gate.signOut(req);
  return ended;
}

/** A link that does nothing: 400 (malformed, oversized, altered) or 410 (used, expired). */
function refuse(ctx: NotMeContext, req: Request, res: Response, why: NotMeRefusal): void {
  const gone = why === 'gone';
  ctx.deps.render(req, res, gone ? 410 : 400, 'not-me-refused', {
    title: 'page.title.notMeRefused',
    error: { key: gone ? 'error.not_me_gone' : 'error.not_me_invalid', general: true },
  });
}

/** "2026-01-05 09:00 UTC", as the admin list shows times. */
const shownTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

