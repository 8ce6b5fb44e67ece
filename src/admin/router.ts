import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts, Standing } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import { owedAgain, type GrantChecks } from '../flow/grants.js';
import type { Reset } from '../flow/reset.js';
import { safeReturnPath } from '../flow/session.js';
import { createCsrf, formBodies, refuseCrossOrigin } from '../web/csrf.js';
import { asyncHandler, wantsJson } from '../web/http.js';
import { readField } from '../web/input.js';
import type { MessageKey } from '../web/messages.js';
import type { Render } from '../web/render.js';
import { createAuditTrail, type AdminAction, type AuditEntry, type RefusalReason } from './audit.js';
import { createDirectory, type Person } from './directory.js';
import { canAdminister, canReset } from './roles.js';
import { createSessionEnder } from './sessions.js';
import type { SessionIndex } from '../flow/session-index.js';

const PAGE_SIZE = 20;
const RECENT_ENTRIES = 10;
const MAX_QUERY_LENGTH = 100;

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

type ResetOutcome =
  | { readonly done: true; readonly target: Person; readonly sessionsEnded: boolean; readonly sessionsFailed: boolean }
  | { readonly done: false; readonly target: Person };

/** Enrolled, or "Skip for now" chosen: a reset changes something. */
const hasFactorState = (standing: Standing): boolean => standing.method !== undefined || standing.skipped;

type Identity =
  | { readonly ok: true; readonly actor: Person }
  | { readonly ok: false; readonly reason: RefusalReason; readonly actorId?: string };

/**
 * The admin pages: find a person, reset their second factor or clear their lock, as the role
 * rules allow. Also a JSON API under `/api` with the same checks.
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
}): Router {
  const { config, accounts, attempts, reset, render, handleError, grants } = deps;
  const router = express.Router();

  const admin = config.admin;
  if (!admin) {
    router.use((_req, _res, next) => next(new TwoFactorError('not_found', 'adminRouter: the users and roles options are not set')));
    router.use(handleError);
    return router;
  }

  const { rules } = admin;
  const directory = createDirectory(config, admin);
  const audit = createAuditTrail(config, rules);
  const sessions = createSessionEnder(admin, config.sessionIndex ? deps.sessions : undefined);
  const csrf = createCsrf();

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
    req.csrfToken = (overwrite?: boolean) => csrf.generateToken(req, overwrite);
    next();
  });

  async function identify(req: Request): Promise<Identity> {
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
  function refuseAccess(req: Request, res: Response, reason: RefusalReason): void {
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

  const targetIdOf = (req: Request): string => String(req.params.id ?? '').slice(0, 256);

  /** Runs `handler` for an admin whose own second factor is done; refuses everyone else. */
  function asAdmin(handler: (req: Request, res: Response, actor: Person) => Promise<void>, action?: AdminAction) {
    return asyncHandler(async (req, res) => {
      const who = await identify(req);
      if (!who.ok) {
        if (action) {
          await audit.record(action, { outcome: 'refused', targetId: targetIdOf(req), reason: who.reason, ...(who.actorId !== undefined ? { actorId: who.actorId } : {}) });
        }
        refuseAccess(req, res, who.reason);
        return;
      }
      await handler(req, res, who.actor);
    });
  }

  /**
   * The person named in the URL, when the actor may act on them. Only the id from the path
   * counts: nothing in the body can choose or widen the target.
   */
  async function authorize(req: Request, actor: Person, action: AdminAction): Promise<Person> {
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

  /** Runs an allowed action; a store failure is an event too, then the usual 503. */
  async function perform<T>(action: AdminAction, actor: Person, target: Person, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      await audit.record(action, { outcome: 'failed', targetId: target.id, actor, target, reason: 'store_unavailable' });
      throw error;
    }
  }

  /**
   * A reset of someone who never enrolled and never skipped would change nothing: it is
   * refused (409, an event like any refusal) rather than reported as done.
   */
  async function resetTarget(req: Request, actor: Person): Promise<ResetOutcome> {
    const target = await authorize(req, actor, 'reset');
    if (!hasFactorState(await accounts.standing(target.id))) {
      await audit.record('reset', { outcome: 'refused', targetId: target.id, actor, target, reason: 'nothing_to_reset' });
      return { done: false, target };
    }
    sessions.check(req);
    await perform('reset', actor, target, () => reset.resetFactor(target.id));
    let sessionsEnded = false;
    let sessionsFailed = false;
    try {
      sessionsEnded = await sessions.end(req, target.id);
    } catch (error) {
      // The factor is reset either way; the admin is told that the sessions may live on.
      sessionsFailed = true;
      config.logger.error(`second factor: reset of ${target.id} done, but their sessions could not be ended: ${(error as Error).message}`);
    }
    await audit.record('reset', { outcome: 'allowed', targetId: target.id, actor, target, ...(sessionsFailed ? { reason: 'sessions_not_ended' } : {}) });
    return { done: true, target, sessionsEnded, sessionsFailed };
  }

  async function unlockTarget(req: Request, actor: Person): Promise<Person> {
    const target = await authorize(req, actor, 'unlock');
    await perform('unlock', actor, target, () => reset.unlock(target.id));
    await audit.record('unlock', { outcome: 'allowed', targetId: target.id, actor, target });
    return target;
  }

  function readListQuery(req: Request): { query: string; page: number } {
    const query = (readField(req.query.q, MAX_QUERY_LENGTH) ?? '').trim();
    const pageText = readField(req.query.page, 6);
    const page = pageText && /^[1-9]\d*$/.test(pageText) ? Number(pageText) : 1;
    return { query, page };
  }

  async function rowOf(actor: Person, person: Person) {
    const [standing, lockedSeconds] = await Promise.all([accounts.standing(person.id), attempts.lockedSeconds(person.id)]);
    const resettable = canReset(rules, actor, person);
    return {
      id: person.id,
      name: person.name,
      email: person.email,
      role: person.role,
      firm: person.firm ?? person.tenant.join('/'),
      method: standing.method,
      skipped: standing.skipped,
      lockedSeconds,
      self: person.id === actor.id,
      canReset: resettable && hasFactorState(standing),
      // Not tied to an enrolment: a lock can come from wrong codes typed while enrolling.
      canUnlock: resettable && lockedSeconds > 0,
    };
  }

  async function list(req: Request, actor: Person) {
    const { query, page } = readListQuery(req);
    const result = await directory.search(actor, query, page, PAGE_SIZE);
    const rows = await Promise.all(result.people.map((person) => rowOf(actor, person)));
    return { query, page, rows, hasNext: result.hasNext, pages: result.pages };
  }

  const listPath = (req: Request) => req.baseUrl || '/';
  const pageHref = (req: Request, query: string, page: number) => {
    const params = new URLSearchParams();
    if (query) params.set('q', query);
    if (page > 1) params.set('page', String(page));
    const search = params.toString();
    return search ? `${listPath(req)}?${search}` : listPath(req);
  };

  const statusKey = (row: Awaited<ReturnType<typeof rowOf>>): MessageKey =>
    row.method === 'totp' ? 'admin.status.totp' : row.method === 'sms' ? 'admin.status.sms' : row.skipped ? 'admin.status.skipped' : 'admin.status.none';

  const recentLine = (entry: AuditEntry) => ({
    at: new Date(entry.at).toISOString(),
    shown: `${new Date(entry.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    key: `admin.recent.${entry.type}` as MessageKey,
    actor: entry.actorName,
    target: entry.targetName,
  });

  // --- pages -----------------------------------------------------------------------------

  router.get(
    '/',
    asAdmin(async (req, res, actor) => {
      const [{ query, page, rows, hasNext, pages }, recent] = await Promise.all([list(req, actor), audit.latest(actor, RECENT_ENTRIES)]);
      const notice = req.session.secondFactorAdminNotice;
      delete req.session.secondFactorAdminNotice;
      render(req, res, 200, 'admin/users', {
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
        rows: rows.map((row) => ({ ...row, status: statusKey(row), lockedMinutes: Math.ceil(row.lockedSeconds / 60) })),
        recent: recent.map(recentLine),
      });
    }),
  );

  /** 409: the person never enrolled and never skipped. Nothing was changed. */
  const renderNothingToReset = (req: Request, res: Response, target: Person) =>
    render(req, res, 409, 'notice', {
      title: 'page.title.admin',
      message: 'admin.nothingToReset',
      messageParams: { name: target.name },
      link: { href: listPath(req), label: 'admin.backToList' },
    });

  router.get(
    '/users/:id/reset',
    asAdmin(async (req, res, actor) => {
      const target = await authorize(req, actor, 'reset');
      if (!hasFactorState(await accounts.standing(target.id))) {
        renderNothingToReset(req, res, target);
        return;
      }
      render(req, res, 200, 'admin/confirm', {
        title: target.email ? 'page.title.adminConfirmEmail' : 'page.title.adminConfirm',
        titleParams: { name: target.name, ...(target.email ? { email: target.email } : {}) },
        adminBase: req.baseUrl,
        listPath: listPath(req),
        target: { id: target.id },
        endsSessions: admin.endSessionsOnReset,
      });
    }),
  );

  router.post(
    '/users/:id/reset',
    asAdmin(async (req, res, actor) => {
      const outcome = await resetTarget(req, actor);
      if (!outcome.done) {
        renderNothingToReset(req, res, outcome.target);
        return;
      }
      const { target, sessionsEnded, sessionsFailed } = outcome;
      const key: MessageKey = sessionsFailed ? 'admin.notice.resetSessionsFailed' : sessionsEnded ? 'admin.notice.resetSignedOut' : 'admin.notice.reset';
      req.session.secondFactorAdminNotice = { key, name: target.name };
      res.redirect(303, listPath(req));
    }, 'reset'),
  );

  router.post(
    '/users/:id/unlock',
    asAdmin(async (req, res, actor) => {
      const target = await unlockTarget(req, actor);
      req.session.secondFactorAdminNotice = { key: 'admin.notice.unlocked', name: target.name };
      res.redirect(303, listPath(req));
    }, 'unlock'),
  );

  // --- JSON API ----------------------------------------------------------------------------

  router.get(
    '/api/csrf',
    asAdmin(async (req, res) => {
      res.set('Cache-Control', 'no-store');
      res.json({ csrfToken: csrf.generateToken(req) });
    }),
  );

  router.get(
    '/api/users',
    asAdmin(async (req, res, actor) => {
      const { page, rows, hasNext, pages } = await list(req, actor);
      res.set('Cache-Control', 'no-store');
      res.json({
        users: rows.map((row) => ({
          id: row.id,
          name: row.name,
          email: row.email ?? null,
          role: row.role ?? null,
          firm: row.firm,
          status: { method: row.method ?? null, skipped: row.skipped, locked: row.lockedSeconds > 0, lockedSeconds: row.lockedSeconds },
          canReset: row.canReset,
          canUnlock: row.canUnlock,
        })),
        page,
        pageSize: PAGE_SIZE,
        hasNext,
        ...(pages !== undefined ? { pages } : {}),
      });
    }),
  );

  router.post(
    '/api/users/:id/reset',
    asAdmin(async (req, res, actor) => {
      const outcome = await resetTarget(req, actor);
      if (!outcome.done) {
        res.status(409).json({ error: 'nothing_to_reset', userId: outcome.target.id });
        return;
      }
      res.json({ status: 'reset', userId: outcome.target.id, sessionsEnded: outcome.sessionsEnded });
    }, 'reset'),
  );

  router.post(
    '/api/users/:id/unlock',
    asAdmin(async (req, res, actor) => {
      const target = await unlockTarget(req, actor);
      res.json({ status: 'unlocked', userId: target.id });
    }, 'unlock'),
  );

  router.use((_req, _res, next) => next(new TwoFactorError('not_found', 'no such admin page')));
  router.use(handleError);
  return router;
}
