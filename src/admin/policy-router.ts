import express, { type ErrorRequestHandler, type Request, type Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { owedAgain, type GrantChecks } from '../flow/grants.js';
import type { Policy, PolicyMode } from '../flow/policy.js';
import { formProtection } from '../web/csrf.js';
import { asyncHandler } from '../http.js';
import { readField } from '../web/input.js';
import type { MessageKey } from '../web/messages.js';
import type { Render } from '../web/render.js';

const modes: readonly PolicyMode[] = ['required', 'optional', 'off'];

/**
 * The portal-wide switch, for people `canManagePolicy` allows, whose own second factor was
 * proved at sign-in — or, while the switch is off, whose sign-in finished with it off: no one
 * can prove a factor then, and someone must be able to turn 2FA back on.
 * Mounted inside the admin router at `/policy`.
 */
export function createPolicyRouter(deps: { config: Config; policy: Policy; grants: GrantChecks; render: Render; handleError: ErrorRequestHandler }): Router {
  const { config, policy, render } = deps;
  const router = express.Router();
  router.use(formProtection());

  async function requireManager(req: Request): Promise<string> {
    const state = req.session?.secondFactor;
    if (!req.user || state?.state !== 'done' || state.userId !== config.userId(req.user)) {
      throw new TwoFactorError('not_pending', 'sign in with both factors first');
    }
    const { standing, policy: current } = await deps.grants.current(req.user, state);
    if (standing === 'owed') {
      // The policy tightened since this sign-in: sent back to the second factor, as the guard does.
      owedAgain(req, state, config.now());
      throw new TwoFactorError('not_pending', 'sign in with both factors first');
    }
    if (!config.canManagePolicy(req.user)) throw new TwoFactorError('forbidden', 'may not manage the policy');
    if (standing !== 'proved' && current.mode !== 'off') throw new TwoFactorError('forbidden', 'the policy page needs a second factor proved at sign-in');
    return state.userId;
  }

  const page = async (req: Request, res: express.Response, status: number, saved?: PolicyMode) => {
    const { mode, source } = await policy.current();
    render(req, res, status, 'admin/policy', {
      title: 'page.title.policy',
      mode,
      modeLabel: `policy.mode.${mode}` satisfies string as MessageKey,
      modes,
      saved: saved ? (`policy.mode.${saved}` as MessageKey) : undefined,
      locked: source.kind === 'option' && source.locked,
      setBy: source.kind === 'page' && source.by && source.at !== undefined ? { name: source.by.name, date: shownDate(source.at) } : undefined,
    });
  };

  router.get(
    '/',
    asyncHandler(async (req, res) => {
      await requireManager(req);
      await page(req, res, 200);
    }),
  );

  router.post(
    '/',
    asyncHandler(async (req, res) => {
      let actorId: string;
      try {
        actorId = await requireManager(req);
      } catch (error) {
        if (req.user) config.emit({ type: 'policy_change_refused', userId: config.userId(req.user), actorId: config.userId(req.user), outcome: 'refused' });
        throw error;
      }
      if (policy.locked) {
        config.emit({ type: 'policy_change_refused', userId: actorId, actorId, outcome: 'refused', reason: 'locked' });
        throw new TwoFactorError('policy_locked', 'policy.lockMode is set: the policy.mode option decides the mode');
      }
      const wanted = readField((req.body as Record<string, unknown>).mode, 16);
      if (wanted !== 'off' && wanted !== 'required' && wanted !== 'optional') {
        throw new TwoFactorError('bad_request', 'unknown mode');
      }
      const { before, after } = await policy.setMode(wanted, { id: actorId, name: config.accountName(req.user!) });
      config.emit({ type: 'policy_changed', userId: actorId, actorId, outcome: `${before.mode}->${after.mode}` });
      await page(req, res, 200, after.mode);
    }),
  );

  router.use(deps.handleError);
  return router;
}

/** "2026-12-01 10:00 UTC": one unambiguous form for every locale. */
function shownDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
