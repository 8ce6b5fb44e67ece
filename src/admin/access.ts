import type { Request, RequestHandler, Response } from 'express';
import { TwoFactorError } from '../errors.js';
import { owedAgain } from '../flow/grants.js';
import { safeReturnPath } from '../flow/session.js';
import { asyncHandler, wantsJson } from '../http.js';
import type { AdminAction, RefusalReason } from './audit.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';
import { canAdminister, canReset } from './roles.js';

type Identity =
  | { readonly ok: true; readonly actor: Person }
  | { readonly ok: false; readonly reason: RefusalReason; readonly actorId?: string };

/** A route's work, run once `asAdmin` has found the actor to be an admin. */
export type AdminHandler = (ctx: AdminContext, req: Request, res: Response, actor: Person) => Promise<void>;

/** The target's id from the URL path, bounded so that a long one is never looked up or logged whole. */
export const targetIdOf = (req: Request): string => String(req.params.id ?? '').slice(0, 256);

/** Who is asking: an admin whose own second factor was proved at this sign-in, or why not. */
async function identify(ctx: AdminContext, req: Request): Promise<Identity> {
  const { config, grants, directory, rules } = ctx;
  if (!req.user) return { ok: false, reason: 'not_signed_in' };
  const actorId = config.userId(req.user);
  // Not left to the mount order: a password-only session never reaches an admin action.
  const state = req.session?.secondFactor;
  if (state?.state !== 'done' || state.userId !== actorId) return { ok: false, reason: 'second_factor_required', actorId };
  // Nor one finished without a factor, whatever the policy: resetting other people's factors
  // needs one's own (while the switch is off only the policy page is open to such a session).
  const { standing } = await grants.current(req.user, state);
  if (standing === 'owed') {
    owedAgain(req, state, config.now());
    return { ok: false, reason: 'second_factor_required', actorId };
  }
  if (standing !== 'proved') return { ok: false, reason: 'second_factor_not_proved', actorId };
  const actor = directory.personOf(req.user);
  if (!actor || actor.id !== actorId || !canAdminister(rules, actor)) return { ok: false, reason: 'not_admin', actorId };
  return { ok: true, actor };
}

/**
 * Not signed in or second factor owed: sent where the guard sends people. Not an admin, or
 * signed in without a factor where the policy does not ask for one: 403.
 */
function refuseAccess(ctx: AdminContext, req: Request, res: Response, reason: RefusalReason): void {
  const { config } = ctx;
  if (reason === 'second_factor_not_proved') throw new TwoFactorError('forbidden', 'the admin pages need a second factor proved at sign-in');
  if (reason !== 'not_signed_in' && reason !== 'second_factor_required') throw new TwoFactorError('forbidden', 'not an admin');
  const returnTo = req.method === 'GET' ? safeReturnPath(req.originalUrl) : undefined;
  if (reason === 'not_signed_in') {
    if (wantsJson(req)) {
      res.status(401).json({ error: 'not_signed_in' });
      return;
    }
    res.redirect(303, returnTo ? `${config.loginPath}?returnTo=${encodeURIComponent(returnTo)}` : config.loginPath);
    return;
  }
  if (wantsJson(req)) {
    res.status(401).json({ error: 'second_factor_required', next: config.basePath });
    return;
  }
  const state = req.session?.secondFactor;
  if (state?.state === 'pending' && !state.returnTo && returnTo) state.returnTo = returnTo;
  res.redirect(303, config.basePath);
}

/**
 * Runs `handler` for an admin whose own second factor is done; refuses everyone else. With
 * `action`, a refusal here is an audit event too (the acting routes: POST reset and unlock).
 */
export function asAdmin(ctx: AdminContext, handler: AdminHandler, action?: AdminAction): RequestHandler {
  return asyncHandler(async (req, res) => {
    const who = await identify(ctx, req);
    if (!who.ok) {
      if (action) {
        await ctx.audit.record(action, { outcome: 'refused', targetId: targetIdOf(req), reason: who.reason, ...(who.actorId !== undefined ? { actorId: who.actorId } : {}) });
      }
      refuseAccess(ctx, req, res, who.reason);
      return;
    }
    await handler(ctx, req, res, who.actor);
  });
}

/**
 * The person named in the URL, when the actor may act on them. Only the id from the path
 * counts: nothing in the body can choose or widen the target.
 */
export async function authorize(ctx: AdminContext, req: Request, actor: Person, action: AdminAction): Promise<Person> {
  const { audit, csrf, directory, rules } = ctx;
  const acting = req.method === 'POST';
  const targetId = targetIdOf(req);
  if (acting && !csrf.isRequestValid(req)) {
    await audit.record(action, { outcome: 'refused', targetId, actor, reason: 'csrf' });
    throw new TwoFactorError('csrf', 'missing or wrong CSRF token');
  }
  const target = await directory.find(targetId);
  const reason: RefusalReason | undefined = !target
    ? 'not_found'
    : target.id === actor.id
      ? 'self'
      : !canReset(rules, actor, target)
        ? 'forbidden'
        : undefined;
  if (reason || !target) {
    if (acting) await audit.record(action, { outcome: 'refused', targetId, actor, reason: reason ?? 'not_found', ...(target ? { target } : {}) });
    // Unknown, out of reach and oneself get one answer, so that the answers do not tell
    // an admin who exists outside their reach.
    throw new TwoFactorError('not_found', 'no such person within reach');
  }
  return target;
}
