import type { Request, Response, Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import type { Enrolment, FactorContext, FactorText, Person, SettingsContext } from '../factors/contract.js';
import { RECOVERY_CODE_COUNT, RECOVERY_CODES_LOW, type RecoveryCodes } from '../factors/recovery/codes.js';
import { issueToken, renderRecoveryCodes } from '../factors/recovery/pages.js';
import type { Accounts } from '../flow/account.js';
import type { Policy } from '../flow/policy.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { SessionIndex } from '../flow/session-index.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
import { asyncHandler } from '../http.js';
import { readField } from './input.js';
import type { MessageKey } from './messages.js';
import type { PageError } from './page-errors.js';
import type { Render } from './render.js';
import { registerSessionsRoutes } from './sessions-routes.js';
import { factorOf, type MountedFactor } from './signin-pages.js';

declare module 'express-session' {
  interface SessionData {
    /** Shown once on the settings page after a change (post, redirect, get). */
    secondFactorSettingsNotice?: MessageKey | FactorText;
  }
}

/** What the settings page is made of. */
export interface SettingsDeps {
  readonly config: Config;
  readonly accounts: Accounts;
  readonly policy: Policy;
  readonly render: Render;
  readonly roleOf: (user: Express.User) => string | undefined;
  readonly recovery: RecoveryCodes;
  readonly devices: RememberedDevices;
  readonly sessions: SessionIndex;
}

/**
 * The settings steps every factor's settings actions share (see SettingsContext). `show` is
 * bound later, once the factors are mounted: the page lists them.
 */
export function createSettingsContext(deps: SettingsDeps, show: () => SettingsContext['show']): SettingsContext {
  const { config, accounts } = deps;
  const path = `${config.basePath}/settings`;
  return {
    path,
    signedIn: (req, res) => signedIn(config, req, res),
    fresh(req, res, who) {
      if (isFresh(config, who.state)) return true;
      req.session.secondFactorSettingsNotice = 'settings.confirmFirst';
      res.redirect(303, path);
      return false;
    },
    async enrolled(res, who): Promise<Enrolment | undefined> {
      const { record, method, generation } = await accounts.standing(who.userId);
      if (record && method) return { record, method, generation };
      res.redirect(303, path);
      return undefined;
    },
    confirmed(req, res, who, method) {
      who.state.verifiedAt = config.now();
      config.emit({ type: 'verified', userId: who.userId, method, reason: 'settings' });
      res.redirect(303, path);
    },
    changed: (req, res, who, saved, from) => changed(deps, req, res, who, saved, from),
    show: (req, res, who, status, error) => show()(req, res, who, status, error),
  };
}

/**
 * The person whose second factor is done in this session. The router is mounted before the
 * guard, so this check is the page's own: a password-only sign-in is sent to finish first.
 */
function signedIn(config: Config, req: Request, res: Response): Person | undefined {
  const state = req.session?.secondFactor;
  if (!req.user || !state || state.userId !== config.userId(req.user)) throw new TwoFactorError('not_pending', 'not signed in');
  if (state.state !== 'done') {
    res.redirect(303, config.basePath);
    return undefined;
  }
  return { state, userId: state.userId, user: req.user };
}

const isFresh = (config: Config, state: SecondFactorSession) =>
  state.verifiedAt !== undefined && config.now() - state.verifiedAt < config.freshSecondFactorMs;

/**
 * The old factor is gone: so go the person's remembered devices (from the store) and their
 * other sessions, which signed in with it. This session stays. Runs after the change is
 * saved; a failure here is logged, not shown, since the change itself is done.
 */
async function endOldFactor(deps: SettingsDeps, req: Request, userId: string): Promise<void> {
  const { config } = deps;
  try {
    await deps.devices.forgetAll(userId);
    if (config.sessionIndex) await deps.sessions.endOthers(req, userId);
  } catch (error) {
    config.logger.error(`second factor: factor of ${userId} changed, but their other sessions or remembered devices could not be ended: ${(error as Error).message}`);
  }
}

/** The new factor is in: new recovery codes (the old ones belonged to the old factor). */
async function changed(deps: SettingsDeps, req: Request, res: Response, who: Person, saved: UserRecord, from: FactorMethod): Promise<void> {
  const { config } = deps;
  delete who.state.enrolment;
  who.state.verifiedAt = config.now();
  const shown = await deps.recovery.issue(who.userId, saved);
  await endOldFactor(deps, req, who.userId);
  config.emit({ type: 'method_changed', userId: who.userId, method: saved.method!, reason: `from_${from}` });
  renderRecoveryCodes(config, deps.render, req, res, shown, { doneHref: `${config.basePath}/settings` });
}

/** The settings page: how the person signs in, recovery codes, changes, where they're signed in. */
interface SettingsPage {
  readonly deps: SettingsDeps;
  readonly context: FactorContext;
  readonly factors: readonly MountedFactor[];
  readonly places: ReturnType<typeof registerSessionsRoutes>;
}

/** The "confirm it's you" section for a person whose factor is not fresh, worded by their factor. */
async function confirmSection(req: Request, page: SettingsPage, who: Person, record: UserRecord, method: FactorMethod) {
  const lockedSeconds = await page.context.attempts.lockedSeconds(who.userId);
  const mounted = factorOf(page.factors, method);
  return {
    partial: mounted?.factor.confirmPartial,
    lockedMinutes: lockedSeconds > 0 ? Math.ceil(lockedSeconds / 60) : 0,
    ...(mounted ? await mounted.pages.confirmView(req, who, record) : {}),
  };
}

/** The options of "Switch to": every factor, the current one set up again included. */
function changeOptions(page: SettingsPage, method: FactorMethod | undefined) {
  const options = page.factors.map(({ factor }) => ({ id: factor.id, label: factor.labels.changeTo }));
  const preselected = options.find((option) => option.id !== method)?.id;
  return options.map((option) => ({ ...option, checked: option.id === preselected }));
}

async function renderSettings(req: Request, res: Response, page: SettingsPage, who: Person, status = 200, error?: PageError): Promise<void> {
  const { config, accounts, policy, recovery, roleOf } = page.deps;
  const [{ record, method }, policyState] = await Promise.all([accounts.standing(who.userId), policy.current()]);
  const mode = policy.modeFor(policyState, roleOf(who.user));
  const notice = req.session.secondFactorSettingsNotice;
  delete req.session.secondFactorSettingsNotice;
  const mounted = record && method ? factorOf(page.factors, method) : undefined;
  const freshNow = method !== undefined && isFresh(config, who.state);
  const left = recovery.left(record);
  page.deps.render(req, res, status, 'settings', {
    title: 'page.title.settings',
    method,
    described: record && mounted?.factor.describe(record),
    section: record && mounted?.factor.settingsPartial ? { partial: mounted.factor.settingsPartial, ...mounted.pages.settingsView?.(req, who, record, freshNow) } : undefined,
    recoveryLeft: left,
    recoveryTotal: RECOVERY_CODE_COUNT,
    recoveryLow: method !== undefined && left <= RECOVERY_CODES_LOW,
    fresh: freshNow,
    recoveryIssue: freshNow ? issueToken(req) : undefined,
    freshMinutes: Math.ceil(config.freshSecondFactorMs / 60_000),
    confirm: record && method && !freshNow ? await confirmSection(req, page, who, record, method) : undefined,
    changeOptions: changeOptions(page, method),
    codeMinutes: Math.ceil(config.smsCodeTtlSeconds / 60),
    canDisable: method !== undefined && mode === 'optional',
    canEnable: method === undefined && mode !== 'off',
    portalOff: mode === 'off',
    notice: typeof notice === 'string' ? { key: notice } : notice,
    places: await page.places.view(req, who.state),
    home: config.successRedirect,
    ...(error ? { error } : {}),
  });
}

/** GET /settings. */
function showSettings(page: SettingsPage) {
  return asyncHandler(async (req, res) => {
    const who = page.context.settings.signedIn(req, res);
    if (who) await renderSettings(req, res, page, who);
  });
}

/** POST /settings/confirm: the enrolled factor checks what was sent. */
function confirm(page: SettingsPage) {
  const { settings } = page.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    const current = who && (await settings.enrolled(res, who));
    if (!who || !current) return;
    const mounted = factorOf(page.factors, current.method);
    if (!mounted) throw new TwoFactorError('forbidden', `no pages for the enrolled method ${current.method}`);
    await mounted.pages.confirm(req, res, who, current.record);
  });
}

/** POST /settings/method: the chosen factor starts its enrolment; the current one works until then. */
function chooseNewMethod(page: SettingsPage) {
  const { settings } = page.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    if (!(await settings.enrolled(res, who))) return;
    const chosen = factorOf(page.factors, readField((req.body as Record<string, unknown>)?.method, 16));
    if (chosen) await chosen.pages.startChange(req, res, who);
    else await renderSettings(req, res, page, who, 400, { key: 'error.bad_request' });
  });
}

/** POST /settings/disable: where the person's mode is optional, the factor is replaced by a skip. */
function disable(page: SettingsPage) {
  const { config, accounts, policy, roleOf } = page.deps;
  const { settings } = page.context;
  return asyncHandler(async (req, res) => {
    const who = settings.signedIn(req, res);
    if (!who || !settings.fresh(req, res, who)) return;
    const current = await settings.enrolled(res, who);
    if (!current) return;
    if (policy.modeFor(await policy.current(), roleOf(who.user)) !== 'optional') {
      throw new TwoFactorError('forbidden', 'two-step verification is required for this person');
    }
    // Method, secret, phone and recovery codes go, and with them the factorId that remembered
    // devices are bound to. Later sign-ins go straight in.
    await accounts.recordSkip(who.userId, current.generation);
    await factorOf(page.factors, current.method)?.factor.clear(who.userId);
    await endOldFactor(page.deps, req, who.userId);
    delete who.state.enrolment;
    config.emit({ type: 'disabled', userId: who.userId, method: current.method });
    req.session.secondFactorSettingsNotice = 'settings.disabled';
    res.redirect(303, settings.path);
  });
}

/**
 * The person's settings page, for a finished sign-in: the factor as its folder describes it,
 * recovery codes left, and (after a fresh second factor) another method or turning 2FA off
 * where the policy makes it optional. The factors' own settings actions are theirs; this
 * registers what they share. Returns the page, for SettingsContext.show.
 */
export function registerSettingsRoutes(router: Router, deps: SettingsDeps, context: FactorContext, factors: readonly MountedFactor[]): SettingsContext['show'] {
  const places = registerSessionsRoutes(router, { config: deps.config, accounts: deps.accounts, devices: deps.devices, sessions: deps.sessions });
  const page: SettingsPage = { deps, context, factors, places };
  router.get('/settings', showSettings(page));
  router.post('/settings/confirm', confirm(page));
  router.post('/settings/method', chooseNewMethod(page));
  router.post('/settings/disable', disable(page));
  return (req, res, who, status, error) => renderSettings(req, res, page, who, status, error);
}
