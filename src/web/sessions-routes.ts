import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Accounts } from '../flow/account.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { SessionIndex } from '../flow/session-index.js';
import { asyncHandler } from '../http.js';
import { readField } from './input.js';

/** An entry id as the page sends it: a keyed hash, base64url. */
const ENTRY_ID_MAX = 64;

/** What `registerSessionsRoutes` is given. */
interface SessionsRoutesDeps {
  config: Config;
  accounts: Accounts;
  devices: RememberedDevices;
  sessions: SessionIndex;
}

/** The deps, and where every POST below returns to. */
interface SessionsContext extends SessionsRoutesDeps {
  readonly settingsPath: string;
}

/**
 * "Where you're signed in" on the settings page: the person's open sessions (from the session
 * index) and remembered devices, each ended by an opaque id. Session ids never reach the page.
 * Ending reduces access only, yet an enrolled person confirms it's them first as for any other
 * change: a stolen session then cannot sign its owner out or forget the owner's devices.
 */
export function registerSessionsRoutes(router: Router, deps: SessionsRoutesDeps) {
  const ctx: SessionsContext = { ...deps, settingsPath: `${deps.config.basePath}/settings` };
  router.post('/settings/sessions/end', asyncHandler((req, res) => endOneSession(ctx, req, res)));
  router.post('/settings/sessions/end-others', asyncHandler((req, res) => endOtherSessions(ctx, req, res)));
  router.post('/settings/devices/forget', asyncHandler((req, res) => forgetDevice(ctx, req, res)));
  return { view: (req: Request, state: SecondFactorSession) => view(ctx, req, state) };
}

const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
const entryId = (req: Request) => readField(body(req).id, ENTRY_ID_MAX) ?? '';
const notFound = () => new TwoFactorError('not_found', 'no such session or device of this person');

/** This session's finished sign-in, or a redirect to finish it (the settings page's own rule). */
function signedIn(ctx: SessionsContext, req: Request, res: Response): SecondFactorSession | undefined {
  const { config } = ctx;
  const state = req.session?.secondFactor;
  if (!req.user || !state || state.userId !== config.userId(req.user)) throw new TwoFactorError('not_pending', 'not signed in');
  if (state.state === 'done') return state;
  res.redirect(303, config.basePath);
  return undefined;
}

const isFresh = (ctx: SessionsContext, state: SecondFactorSession) =>
  state.verifiedAt !== undefined && ctx.config.now() - state.verifiedAt < ctx.config.freshSecondFactorMs;

/** Someone without a factor has nothing to confirm; an enrolled person needs a fresh one. */
async function mayEnd(ctx: SessionsContext, state: SecondFactorSession): Promise<boolean> {
  return isFresh(ctx, state) || (await ctx.accounts.standing(state.userId)).method === undefined;
}

/** Signed in and allowed to end: the state, or undefined once answered with a redirect. */
async function allowed(ctx: SessionsContext, req: Request, res: Response): Promise<SecondFactorSession | undefined> {
  const state = signedIn(ctx, req, res);
  if (!state) return undefined;
  if (await mayEnd(ctx, state)) return state;
  req.session.secondFactorSettingsNotice = 'settings.confirmFirst';
  res.redirect(303, ctx.settingsPath);
  return undefined;
}

/** What the settings page shows; marks this session as seen (at most once a minute). */
async function view(ctx: SessionsContext, req: Request, state: SecondFactorSession) {
  const { config, sessions, devices } = ctx;
  await sessions.touch(req, state.userId, state.since);
  const [open, remembered, canEnd] = await Promise.all([sessions.list(req, state.userId), devices.list(req, state.userId), mayEnd(ctx, state)]);
  const format = new Intl.DateTimeFormat(config.i18n.localeOf(req), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const when = (ms: number | undefined) => (ms === undefined ? undefined : { iso: new Date(ms).toISOString(), text: `${format.format(ms)} UTC` });
  return {
    sessions: open.map((entry) => ({ ...entry, signedIn: when(entry.signedInAt), lastSeen: when(entry.lastSeenAt) })),
    devices: remembered.map((entry) => ({ ...entry, since: when(entry.since) })),
    others: open.filter((entry) => !entry.current).length,
    canEnd,
  };
}

/** POST /settings/sessions/end: ends one other session of the person. */
async function endOneSession(ctx: SessionsContext, req: Request, res: Response): Promise<void> {
  const state = await allowed(ctx, req, res);
  if (!state) return;
  if (!(await ctx.sessions.endOne(req, state.userId, entryId(req)))) throw notFound();
  ctx.config.emit({ type: 'session_ended', userId: state.userId, reason: 'one' });
  req.session.secondFactorSettingsNotice = 'sessions.ended';
  res.redirect(303, ctx.settingsPath);
}

/** POST /settings/sessions/end-others: ends every session of the person but this one. */
async function endOtherSessions(ctx: SessionsContext, req: Request, res: Response): Promise<void> {
  const state = await allowed(ctx, req, res);
  if (!state) return;
  const ended = await ctx.sessions.endOthers(req, state.userId);
  ctx.config.emit({ type: 'session_ended', userId: state.userId, reason: 'others', outcome: String(ended) });
  req.session.secondFactorSettingsNotice = 'sessions.endedOthers';
  res.redirect(303, ctx.settingsPath);
}

/** POST /settings/devices/forget: forgets one remembered device of the person. */
async function forgetDevice(ctx: SessionsContext, req: Request, res: Response): Promise<void> {
  const state = await allowed(ctx, req, res);
  if (!state) return;
  if (!(await ctx.devices.forget(state.userId, entryId(req)))) throw notFound();
  ctx.config.emit({ type: 'device_forgotten', userId: state.userId });
  req.session.secondFactorSettingsNotice = 'devices.forgotten';
  res.redirect(303, ctx.settingsPath);
}
