import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts } from '../flow/account.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { SessionIndex } from '../flow/session-index.js';
import { asyncHandler } from './http.js';
import { readField } from './input.js';

/** An entry id as the page sends it: a keyed hash, base64url. */
const ENTRY_ID_MAX = 64;

/**
 * "Where you're signed in" on the settings page: the person's open sessions (from the session
 * index) and remembered devices, each ended by an opaque id. Session ids never reach the page.
 * Ending reduces access only, yet an enrolled person confirms it's them first as for any other
 * change: a stolen session then cannot sign its owner out or forget the owner's devices.
 */
export function registerSessionsRoutes(
  router: Router,
  deps: { config: Config; accounts: Accounts; devices: RememberedDevices; sessions: SessionIndex },
) {
  const { config, accounts, devices, sessions } = deps;
  const settingsPath = `${config.basePath}/settings`;
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

  /** This session's finished sign-in, or a redirect to finish it (the settings page's own rule). */
  function signedIn(req: Request, res: Response): SecondFactorSession | undefined {
    const state = req.session?.secondFactor;
    if (!req.user || !state || state.userId !== config.userId(req.user)) throw new TwoFactorError('not_pending', 'not signed in');
    if (state.state === 'done') return state;
    res.redirect(303, config.basePath);
    return undefined;
  }

  const isFresh = (state: SecondFactorSession) => state.verifiedAt !== undefined && config.now() - state.verifiedAt < config.freshSecondFactorMs;

  /** Someone without a factor has nothing to confirm; an enrolled person needs a fresh one. */
  async function mayEnd(state: SecondFactorSession): Promise<boolean> {
    return isFresh(state) || (await accounts.standing(state.userId)).method === undefined;
  }

  /** Signed in and allowed to end: the state, or undefined once answered with a redirect. */
  async function allowed(req: Request, res: Response): Promise<SecondFactorSession | undefined> {
    const state = signedIn(req, res);
    if (!state) return undefined;
    if (await mayEnd(state)) return state;
    req.session.secondFactorSettingsNotice = 'settings.confirmFirst';
    res.redirect(303, settingsPath);
    return undefined;
  }

  const entryId = (req: Request) => readField(body(req).id, ENTRY_ID_MAX) ?? '';
  const notFound = () => new TwoFactorError('not_found', 'no such session or device of this person');

  /** What the settings page shows; marks this session as seen (at most once a minute). */
  async function view(req: Request, state: SecondFactorSession) {
    await sessions.touch(req, state.userId, state.since);
    const [open, remembered, canEnd] = await Promise.all([sessions.list(req, state.userId), devices.list(req, state.userId), mayEnd(state)]);
    const format = new Intl.DateTimeFormat(config.i18n.localeOf(req), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    const when = (ms: number | undefined) => (ms === undefined ? undefined : { iso: new Date(ms).toISOString(), text: `${format.format(ms)} UTC` });
    return {
      sessions: open.map((entry) => ({ ...entry, signedIn: when(entry.signedInAt), lastSeen: when(entry.lastSeenAt) })),
      devices: remembered.map((entry) => ({ ...entry, since: when(entry.since) })),
      others: open.filter((entry) => !entry.current).length,
      canEnd,
    };
  }

  router.post(
    '/settings/sessions/end',
    asyncHandler(async (req, res) => {
      const state = await allowed(req, res);
      if (!state) return;
      if (!(await sessions.endOne(req, state.userId, entryId(req)))) throw notFound();
      config.emit({ type: 'session_ended', userId: state.userId, reason: 'one' });
      req.session.secondFactorSettingsNotice = 'sessions.ended';
      res.redirect(303, settingsPath);
    }),
  );

  router.post(
    '/settings/sessions/end-others',
    asyncHandler(async (req, res) => {
      const state = await allowed(req, res);
      if (!state) return;
      const ended = await sessions.endOthers(req, state.userId);
      config.emit({ type: 'session_ended', userId: state.userId, reason: 'others', outcome: String(ended) });
      req.session.secondFactorSettingsNotice = 'sessions.endedOthers';
      res.redirect(303, settingsPath);
    }),
  );

  router.post(
    '/settings/devices/forget',
    asyncHandler(async (req, res) => {
      const state = await allowed(req, res);
      if (!state) return;
      if (!(await devices.forget(state.userId, entryId(req)))) throw notFound();
      config.emit({ type: 'device_forgotten', userId: state.userId });
      req.session.secondFactorSettingsNotice = 'devices.forgotten';
      res.redirect(303, settingsPath);
    }),
  );

  return { view };
}
