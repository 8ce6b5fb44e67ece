import type { Request, Response } from 'express';
import type { MessageKey } from '../web/messages.js';
import { authorize } from './access.js';
import { hasFactorState, resetTarget, unlockTarget } from './actions.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';
import { list, listPath, pageHref, RECENT_ENTRIES, recentLine } from './listing.js';
import { REASON_MAX_LENGTH, reasonProblemMessage, reasonToShowAgain, type ReasonProblem } from './reason.js';

// The HTML pages of the admin router, one function per route. Each runs after `asAdmin`
// (access.ts) found the actor to be an admin; acting on a person goes through `authorize`.

/** GET /: the list of people (search, pages), the notice of the last action, recent actions. */
export async function showUsers(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const [{ query, page, rows, hasNext, pages }, recent] = await Promise.all([list(ctx, req, actor), ctx.audit.latest(actor, RECENT_ENTRIES)]);
  // Shown once: post, redirect, get.
  const notice = req.session.secondFactorAdminNotice;
  delete req.session.secondFactorAdminNotice;
  ctx.render(req, res, 200, 'admin/users', {
    title: 'page.title.admin',
    wide: true,
    adminBase: req.baseUrl,
    listPath: listPath(req),
    notice,
    query,
    page,
    pages,
    previousHref: page > 1 ? pageHref(req, query, page - 1) : undefined,
    nextHref: hasNext ? pageHref(req, query, page + 1) : undefined,
    rows: rows.map((row) => ({ ...row, lockedMinutes: Math.ceil(row.lockedSeconds / 60) })),
    recent: recent.map(recentLine),
  });
}

/** 409: the person never enrolled and never skipped. Nothing was changed. */
function renderNothingToReset(ctx: AdminContext, req: Request, res: Response, target: Person): void {
  ctx.render(req, res, 409, 'notice', {
    title: 'page.title.admin',
    message: 'admin.nothingToReset',
    messageParams: { name: target.name },
    link: { href: listPath(req), label: 'admin.backToList' },
  });
}

/** The confirmation page; again with 400, the typed reason and its error linked to the field, when the reason was refused. */
function renderConfirm(ctx: AdminContext, req: Request, res: Response, target: Person, refused?: ReasonProblem): void {
  ctx.render(req, res, refused ? 400 : 200, 'admin/confirm', {
    title: target.email ? 'page.title.adminConfirmEmail' : 'page.title.adminConfirm',
    titleParams: { name: target.name, ...(target.email ? { email: target.email } : {}) },
    ...(refused ? { error: { key: reasonProblemMessage[refused] } } : {}),
    adminBase: req.baseUrl,
    listPath: listPath(req),
    target: { id: target.id },
    endsSessions: ctx.admin.endSessionsOnReset,
    reasonValue: refused ? reasonToShowAgain((req.body as Record<string, unknown> | undefined)?.reason) : '',
    reasonMaxLength: REASON_MAX_LENGTH,
  });
}

/** GET /users/:id/reset: the confirmation page (nothing changes until its form is posted). */
export async function showResetConfirm(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const target = await authorize(ctx, req, actor, 'reset');
  if (!hasFactorState(await ctx.accounts.standing(target.id))) {
    renderNothingToReset(ctx, req, res, target);
    return;
  }
  renderConfirm(ctx, req, res, target);
}

/** POST /users/:id/reset: resets the factor (see `resetTarget`), then back to the list with a notice. */
export async function postReset(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const outcome = await resetTarget(ctx, req, actor);
  if (!outcome.done) {
    if (outcome.refused === 'reason') renderConfirm(ctx, req, res, outcome.target, outcome.problem);
    else renderNothingToReset(ctx, req, res, outcome.target);
    return;
  }
  const { target, sessionsEnded, sessionsFailed } = outcome;
  const key: MessageKey = sessionsFailed ? 'admin.notice.resetSessionsFailed' : sessionsEnded ? 'admin.notice.resetSignedOut' : 'admin.notice.reset';
  req.session.secondFactorAdminNotice = { key, name: target.name };
  res.redirect(303, listPath(req));
}

/** POST /users/:id/unlock: clears the lock, then back to the list with a notice. */
export async function postUnlock(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const target = await unlockTarget(ctx, req, actor);
  req.session.secondFactorAdminNotice = { key: 'admin.notice.unlocked', name: target.name };
  res.redirect(303, listPath(req));
}
