import type { Request } from 'express';
import type { Standing } from '../flow/account.js';
import { authorize } from './access.js';
import type { AdminAction } from './audit.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';
import { readResetReason, type ReasonProblem } from './reason.js';

/** What a reset did; shared by the page (a notice) and the API (JSON). */
export type ResetOutcome =
  | { readonly done: true; readonly target: Person; readonly sessionsEnded: boolean; readonly sessionsFailed: boolean }
  | { readonly done: false; readonly target: Person; readonly refused: 'nothing_to_reset' }
  | { readonly done: false; readonly target: Person; readonly refused: 'reason'; readonly problem: ReasonProblem };

/** Enrolled, "Skip for now" chosen, or locked for review ("This wasn't me"): a reset changes something. */
export const hasFactorState = (standing: Standing): boolean => standing.method !== undefined || standing.skipped || standing.needsReview;

/** Runs an allowed action; a store failure is an event too, then the usual 503. */
async function perform<T>(ctx: AdminContext, action: AdminAction, actor: Person, target: Person, run: () => Promise<T>, note?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await ctx.audit.record(action, { outcome: 'failed', targetId: target.id, actor, target, reason: 'store_unavailable', ...(note ? { note } : {}) });
    throw error;
  }
}

/**
 * After the factor was reset: ends the person's sessions (when configured). A failure here
 * does not undo the reset; it is logged and reported, so the admin is told that the
 * sessions may live on.
 */
async function endSessionsAfterReset(ctx: AdminContext, req: Request, target: Person): Promise<{ sessionsEnded: boolean; sessionsFailed: boolean }> {
  try {
    return { sessionsEnded: await ctx.sessions.end(req, target.id), sessionsFailed: false };
  } catch (error) {
    ctx.config.logger.error(`second factor: reset of ${target.id} done, but their sessions could not be ended: ${(error as Error).message}`);
    return { sessionsEnded: false, sessionsFailed: true };
  }
}

/**
 * POST reset, page and API alike. A reset of someone who never enrolled and never skipped
 * would change nothing: it is refused (409, an event like any refusal) rather than reported
 * as done. A missing or unfit reason is checked after the target, so that unknown and out of
 * reach keep their one answer; it is a mistake in a form, not a refusal: no event, nothing changed.
 */
export async function resetTarget(ctx: AdminContext, req: Request, actor: Person): Promise<ResetOutcome> {
  const { accounts, audit, reset, sessions } = ctx;
  const target = await authorize(ctx, req, actor, 'reset');
  if (!hasFactorState(await accounts.standing(target.id))) {
    await audit.record('reset', { outcome: 'refused', targetId: target.id, actor, target, reason: 'nothing_to_reset' });
    return { done: false, target, refused: 'nothing_to_reset' };
  }
  const reason = readResetReason((req.body as Record<string, unknown> | undefined)?.reason);
  if (!reason.ok) return { done: false, target, refused: 'reason', problem: reason.problem };
  const note = reason.reason;
  // Before the reset: a session store that cannot end sessions refuses it with nothing changed.
  sessions.check(req);
  await perform(ctx, 'reset', actor, target, () => reset.resetFactor(target.id), note);
  const { sessionsEnded, sessionsFailed } = await endSessionsAfterReset(ctx, req, target);
  await audit.record('reset', { outcome: 'allowed', targetId: target.id, actor, target, note, ...(sessionsFailed ? { reason: 'sessions_not_ended' } : {}) });
  return { done: true, target, sessionsEnded, sessionsFailed };
}

/** POST unlock, page and API alike: clears the person's failed-code count and lock. */
export async function unlockTarget(ctx: AdminContext, req: Request, actor: Person): Promise<Person> {
  const target = await authorize(ctx, req, actor, 'unlock');
  await perform(ctx, 'unlock', actor, target, () => ctx.reset.unlock(target.id));
  await ctx.audit.record('unlock', { outcome: 'allowed', targetId: target.id, actor, target });
  return target;
}
