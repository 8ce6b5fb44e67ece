import type { Request, Response } from 'express';
import { resetTarget, unlockTarget } from './actions.js';
import type { AdminContext } from './context.js';
import type { Person } from './directory.js';
import { list, PAGE_SIZE } from './listing.js';

// The JSON API of the admin router (mounted under /api), one function per route: the same
// checks as the pages (`asAdmin`, `authorize`), answered as JSON.

/** GET /api/csrf: a token for the API's POSTs (header `x-csrf-token`). */
export async function sendCsrfToken(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  res.json({ csrfToken: ctx.csrf.generateToken(req) });
}

/** GET /api/users: one page of the people the actor may see, with their status. */
export async function listUsers(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const { page, rows, hasNext, pages } = await list(ctx, req, actor);
  res.set('Cache-Control', 'no-store');
  res.json({
    users: rows.map((row) => ({
      id: row.id,
      name: row.name,
      email: row.email ?? null,
      role: row.role ?? null,
      firm: row.firm,
      status: { method: row.method ?? null, skipped: row.skipped, locked: row.lockedSeconds > 0, lockedSeconds: row.lockedSeconds, needsReview: row.needsReview },
      canReset: row.canReset,
      canUnlock: row.canUnlock,
    })),
    page,
    pageSize: PAGE_SIZE,
    hasNext,
    ...(pages !== undefined ? { pages } : {}),
  });
}

/**
 * POST /api/users/:id/reset: as the page's reset, with `reason` in the body; 409 when there is
 * nothing to reset, 400 `reason_required` (and which `problem`) when the reason does not fit.
 */
export async function resetUser(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const outcome = await resetTarget(ctx, req, actor);
  if (!outcome.done && outcome.refused === 'reason') {
    res.status(400).json({ error: 'reason_required', problem: outcome.problem, userId: outcome.target.id });
    return;
  }
  if (!outcome.done) {
    res.status(409).json({ error: 'nothing_to_reset', userId: outcome.target.id });
    return;
  }
  res.json({ status: 'reset', userId: outcome.target.id, sessionsEnded: outcome.sessionsEnded });
}

/** POST /api/users/:id/unlock: as the page's unlock. */
export async function unlockUser(ctx: AdminContext, req: Request, res: Response, actor: Person): Promise<void> {
  const target = await unlockTarget(ctx, req, actor);
  res.json({ status: 'unlocked', userId: target.id });
}
