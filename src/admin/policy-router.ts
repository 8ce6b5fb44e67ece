import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { Config } from '../options.js';
import { TwoFactorError } from '../errors.js';
import { effectivePolicyNow, owedAgain, type GrantChecks } from '../flow/grants.js';
import { deadlineSchema, MAX_DEADLINE_DAYS, portalSetting, type Policy, type PolicyMode, type PolicyState, type StoredFirmPolicy } from '../flow/policy.js';
import { dateIn, endOfDay, firmPath, isLooser, isStricter, modeUnderProposal, type Because, type Deadline, type FirmSetting, type ModeSetting } from '../flow/policy-resolution.js';
import { formProtection } from '../web/csrf.js';
import { asyncHandler } from '../http.js';
import { readField } from '../web/input.js';
import type { MessageKey } from '../web/messages.js';
import type { Render } from '../web/render.js';
import { createDirectory, type Directory, type Person } from './directory.js';
import { createDryRun, dryRunView, type DryRun } from './dry-run.js';
import { canAdminister, canSee } from './roles.js';

const modes: readonly PolicyMode[] = ['required', 'optional', 'off'];
const firmModes = ['inherit', 'optional', 'required'] as const;
/** People offered in the "effective mode of a person" picker. */
const PICKER_SIZE = 50;

type PolicyRouterDeps = { config: Config; policy: Policy; grants: GrantChecks; render: Render; handleError: ErrorRequestHandler };

/** What the handlers share, built once. */
interface PolicyPageContext extends PolicyRouterDeps {
  readonly directory: Directory | undefined;
  readonly dryRun: DryRun | undefined;
}

/** Who is looking at the page, and what they may change. */
interface Viewer {
  readonly userId: string;
  readonly user: Express.User;
  /** The viewer as the role rules see them (absent without `users` and `roles`). */
  readonly person: Person | undefined;
  /** The firm whose policy the viewer sets (their own tenant path), if any. */
  readonly firm: string | undefined;
}

/** A refusal shown on the page itself (400), with the message that explains it. */
class PolicyInputError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: Readonly<Record<string, string | number>> = {},
    /** For a setting refused as too loose: the setting it may not be looser than. */
    readonly floor?: ModeSetting,
  ) {
    super(key);
  }
}

/**
 * The policy pages, mounted inside the admin router at `/policy`:
 * - `/` the portal-wide switch, for people `canManagePolicy` allows;
 * - `/firm` a firm's own policy, for a firm's admin (a role that may administer by the role
 *   rules, with a tenant below the root): their firm and its clients, never looser than the
 *   portal. Two addresses rather than one page for both: a firm admin must not be able to
 *   reach the portal form, and the portal page keeps refusing them as it always has.
 * Both need the viewer's own second factor proved at sign-in — or, while the switch is off,
 * a sign-in finished with it off: no one can prove a factor then, and someone must be able to
 * turn 2FA back on. A change that makes 2FA stricter is previewed first (who it would stop),
 * and saved by the preview's "Save" form.
 */
export function createPolicyRouter(deps: PolicyRouterDeps): Router {
  const admin = deps.config.admin;
  const directory = admin ? createDirectory(deps.config, admin) : undefined;
  const ctx: PolicyPageContext = { ...deps, directory, dryRun: admin && directory ? createDryRun(deps.config, admin, directory) : undefined };
  const router = express.Router();
  router.use(formProtection());
  router.get('/', asyncHandler(async (req, res) => showPage(ctx, req, res, 'portal', await requireViewer(ctx, req, 'portal'))));
  router.post('/', asyncHandler(async (req, res) => postPortal(ctx, req, res)));
  router.get('/firm', asyncHandler(async (req, res) => showPage(ctx, req, res, 'firm', await requireViewer(ctx, req, 'firm'))));
  router.post('/firm', asyncHandler(async (req, res) => postFirm(ctx, req, res)));
  router.use(deps.handleError);
  return router;
}

/** The viewer, signed in with both factors (see createPolicyRouter), allowed on this page. */
async function requireViewer(ctx: PolicyPageContext, req: Request, page: 'portal' | 'firm'): Promise<Viewer> {
  const { config } = ctx;
  const state = req.session?.secondFactor;
  if (!req.user || state?.state !== 'done' || state.userId !== config.userId(req.user)) {
    throw new TwoFactorError('not_pending', 'sign in with both factors first');
  }
  const { standing, policy: current } = await ctx.grants.current(req.user, state);
  if (standing === 'owed') {
    // The policy tightened since this sign-in: sent back to the second factor, as the guard does.
    owedAgain(req, state, config.now());
    throw new TwoFactorError('not_pending', 'sign in with both factors first');
  }
  const person = ctx.directory?.personOf(req.user);
  const firm = managedFirm(ctx, person);
  const allowed = page === 'portal' ? config.canManagePolicy(req.user) : firm !== undefined;
  if (!allowed) throw new TwoFactorError('forbidden', 'may not manage this policy');
  if (standing !== 'proved' && current.mode !== 'off') throw new TwoFactorError('forbidden', 'the policy page needs a second factor proved at sign-in');
  return { userId: state.userId, user: req.user, person, firm };
}

/** The firm a person administers: their own tenant path, when their role may administer and it is below the root. */
function managedFirm(ctx: PolicyPageContext, person: Person | undefined): string | undefined {
  const admin = ctx.config.admin;
  if (!admin || !person || person.tenant.length === 0) return undefined;
  return canAdminister(admin.rules, person) ? person.tenant.join('/') : undefined;
}

/** The viewer, or the refusal event and error: a refused change is audited like any other. */
async function requireChanger(ctx: PolicyPageContext, req: Request, page: 'portal' | 'firm'): Promise<Viewer> {
  try {
    return await requireViewer(ctx, req, page);
  } catch (error) {
    if (req.user) ctx.config.emit({ type: 'policy_change_refused', userId: ctx.config.userId(req.user), actorId: ctx.config.userId(req.user), outcome: 'refused' });
    throw error;
  }
}

// --- reading the forms ----------------------------------------------------------------------

const field = (req: Request, name: string, max = 32) => readField((req.body as Record<string, unknown>)[name], max);

/** The deadline fields: none, a date (YYYY-MM-DD) or a number of days; a bad one is a 400 that says why. */
function readDeadline(req: Request): Deadline | undefined {
  const kind = field(req, 'deadlineKind', 8) ?? 'none';
  if (kind === 'none') return undefined;
  const raw = kind === 'date' ? { kind, date: field(req, 'deadlineDate', 10)?.trim() } : kind === 'days' ? { kind, days: Number(field(req, 'deadlineDays', 4)?.trim() || NaN) } : undefined;
  const parsed = deadlineSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  if (kind === 'date') throw new PolicyInputError('policy.error.date');
  if (kind === 'days') throw new PolicyInputError('policy.error.days', { max: MAX_DEADLINE_DAYS });
  throw new TwoFactorError('bad_request', 'unknown deadline kind');
}

/** The form's fields for a setting, as the preview's "Save" form carries them again. */
function settingFields(mode: string, deadline: Deadline | undefined): Record<string, string> {
  if (!deadline) return { mode, deadlineKind: 'none' };
  return deadline.kind === 'date' ? { mode, deadlineKind: 'date', deadlineDate: deadline.date } : { mode, deadlineKind: 'days', deadlineDays: String(deadline.days) };
}

/**
 * The page's forms carry `review=1`: a stricter change is then previewed, and saved by the
 * preview's own form (which does not carry it). A POST without it (a script, as before
 * previews existed) saves at once: the preview helps the admin decide; it guards nothing the
 * admin may not do anyway.
 */
const wantsReview = (req: Request) => field(req, 'review', 4) === '1';

const describeDeadline = (deadline: Deadline | undefined) => (deadline ? (deadline.kind === 'date' ? `date:${deadline.date}` : `days:${deadline.days}`) : undefined);

// --- the portal switch --------------------------------------------------------------------

async function postPortal(ctx: PolicyPageContext, req: Request, res: Response): Promise<void> {
  const { config, policy } = ctx;
  const viewer = await requireChanger(ctx, req, 'portal');
  if (policy.locked) {
    config.emit({ type: 'policy_change_refused', userId: viewer.userId, actorId: viewer.userId, outcome: 'refused', reason: 'locked' });
    throw new TwoFactorError('policy_locked', 'policy.lockMode is set: the policy.mode option decides the mode');
  }
  const wanted = field(req, 'mode', 16);
  if (wanted !== 'off' && wanted !== 'required' && wanted !== 'optional') throw new TwoFactorError('bad_request', 'unknown mode');
  let deadline: Deadline | undefined;
  try {
    deadline = wanted === 'optional' ? readDeadline(req) : undefined;
  } catch (error) {
    if (error instanceof PolicyInputError) return showPage(ctx, req, res, 'portal', viewer, { status: 400, error });
    throw error;
  }
  const proposed: ModeSetting = { mode: wanted, ...(deadline ? { deadline } : {}) };
  const current = await policy.current();
  if (wantsReview(req) && isStricter(proposed, portalSetting(current))) {
    return showPage(ctx, req, res, 'portal', viewer, { preview: await previewOf(ctx, req, viewer, 'portal', proposed, current) });
  }
  const { before, after } = await policy.setMode(wanted, { id: viewer.userId, name: config.accountName(viewer.user) }, deadline);
  if (before.mode !== after.mode || describeDeadline(before.deadline) !== describeDeadline(after.deadline)) {
    const shown = describeDeadline(after.deadline);
    config.emit({ type: 'policy_changed', userId: viewer.userId, actorId: viewer.userId, outcome: `${before.mode}->${after.mode}`, ...(shown ? { deadline: shown } : {}) });
  }
  await showPage(ctx, req, res, 'portal', viewer, { saved: `policy.mode.${after.mode}` });
}

// --- a firm's policy ----------------------------------------------------------------------

async function postFirm(ctx: PolicyPageContext, req: Request, res: Response): Promise<void> {
  const { config, policy } = ctx;
  const viewer = await requireChanger(ctx, req, 'firm');
  const firm = viewer.firm!;
  const wanted = field(req, 'mode', 16);
  if (wanted !== 'inherit' && wanted !== 'required' && wanted !== 'optional') throw new TwoFactorError('bad_request', 'unknown mode');
  let setting: FirmSetting | undefined;
  try {
    setting = wanted === 'inherit' ? undefined : { mode: wanted, ...(wanted === 'optional' ? withDeadline(readDeadline(req)) : {}) };
    if (setting) await refuseLooser(ctx, firm, setting);
  } catch (error) {
    if (error instanceof PolicyInputError) {
      const reason = error.floor ? 'looser_than_floor' : 'bad_deadline';
      config.emit({ type: 'policy_change_refused', userId: viewer.userId, actorId: viewer.userId, outcome: 'refused', reason, firm });
      return showPage(ctx, req, res, 'firm', viewer, { status: 400, error });
    }
    throw error;
  }
  const [before] = await policy.firms.current([firm]);
  if (wantsReview(req) && isStricter(setting, before ?? undefined)) {
    return showPage(ctx, req, res, 'firm', viewer, { preview: await previewOf(ctx, req, viewer, 'firm', setting!, await policy.current()) });
  }
  const { after } = await policy.firms.set(firm, setting, { id: viewer.userId, name: config.accountName(viewer.user) });
  if (settingText(before) !== settingText(after)) {
    const shown = describeDeadline(after?.deadline);
    config.emit({ type: 'policy_changed', userId: viewer.userId, actorId: viewer.userId, outcome: `${before?.mode ?? 'inherit'}->${after?.mode ?? 'inherit'}`, firm, ...(shown ? { deadline: shown } : {}) });
  }
  await showPage(ctx, req, res, 'firm', viewer, { saved: after ? `policy.mode.${after.mode}` : 'policy.firm.inherit' });
}

const withDeadline = (deadline: Deadline | undefined) => (deadline ? { deadline } : {});
const settingText = (value: StoredFirmPolicy | null | undefined) => (value ? `${value.mode} ${describeDeadline(value.deadline) ?? ''}` : 'inherit');

/** A firm may be stricter than the portal and the firms above it, never looser: a 400 that says which. */
async function refuseLooser(ctx: PolicyPageContext, firm: string, setting: FirmSetting): Promise<void> {
  const portal = portalSetting(await ctx.policy.current());
  if (isLooser(setting, portal)) throw new PolicyInputError('policy.error.looser', {}, portal);
  const above = firmPath(firm.split('/')).slice(0, -1);
  const values = await ctx.policy.firms.current(above);
  for (const value of values) {
    if (value && isLooser(setting, value)) throw new PolicyInputError('policy.error.looserFirm', {}, value);
  }
}

/** A setting as the page names it: the mode's label and its deadline, if any. */
function settingView(ctx: PolicyPageContext, setting: ModeSetting) {
  return { mode: `policy.mode.${setting.mode}` as MessageKey, deadline: deadlineView(ctx, setting.deadline) };
}

// --- the preview of a stricter change -----------------------------------------------------

/** What the preview shows: the change in words, the dry run when there is a directory, and the values to save. */
async function previewOf(ctx: PolicyPageContext, req: Request, viewer: Viewer, page: 'portal' | 'firm', proposed: ModeSetting, current: PolicyState) {
  const fields = settingFields(proposed.mode, proposed.deadline);
  const summary = settingView(ctx, proposed);
  if (!ctx.dryRun || !viewer.person) return { page, fields, summary, dryRun: undefined };
  const firms = await knownFirms(ctx, viewer, page === 'firm' ? (proposed as FirmSetting) : undefined);
  const portal = page === 'portal' ? proposed : portalSetting(current);
  const asOf = deadlineEnd(proposed.deadline, ctx);
  const proposal = { portal, firms, roleModes: ctx.policy.roleModes, timeZone: ctx.policy.timeZone, now: asOf ?? ctx.config.now() };
  const result = await ctx.dryRun.run({
    actor: viewer.person,
    effectiveModeOf: (person) => modeUnderProposal(person, proposal),
    generation: current.generation,
    voidsEnrolments: page === 'portal' && current.mode === 'off' && proposed.mode !== 'off',
    page: Number(field(req, 'page', 6)) || 1,
  });
  // The list's page links post the proposal again (with review=1): the same preview, another page.
  return {
    page, fields, summary,
    dryRun: dryRunView(result, { path: page === 'firm' ? `${req.baseUrl}/firm` : req.baseUrl, proposed: { ...fields, review: '1' }, method: 'post' }),
    ...(asOf !== undefined ? { asOfDate: dateIn(asOf - 1, ctx.policy.timeZone) } : {}),
  };
}

/**
 * A deadline stops no one today: the dry run counts whom it stops once it has passed. The
 * moment every skip under it has ended: the end of its date, or its days from now (the latest
 * first sign-in is now's).
 */
function deadlineEnd(deadline: Deadline | undefined, ctx: PolicyPageContext): number | undefined {
  if (!deadline) return undefined;
  return deadline.kind === 'date' ? endOfDay(deadline.date, ctx.policy.timeZone) : ctx.config.now() + deadline.days * 24 * 60 * 60 * 1000 + 1;
}

/**
 * The firm policies the dry run takes into account: those on the viewer's own tenant path
 * (with the proposed one in place). Client firms below it that set a policy of their own are
 * counted as following the firm above: the count may miss people such a client already stops.
 */
async function knownFirms(ctx: PolicyPageContext, viewer: Viewer, proposed: FirmSetting | undefined): Promise<Record<string, FirmSetting>> {
  const path = viewer.person ? firmPath(viewer.person.tenant) : [];
  const values = await ctx.policy.firms.current(path);
  const firms: Record<string, FirmSetting> = {};
  path.forEach((firm, index) => {
    const value = values[index];
    if (value) firms[firm] = { mode: value.mode, ...withDeadline(value.deadline) };
  });
  if (viewer.firm && proposed) firms[viewer.firm] = proposed;
  return firms;
}

// --- the page -----------------------------------------------------------------------------

interface PageExtras {
  readonly status?: number;
  readonly saved?: string;
  readonly error?: PolicyInputError;
  readonly preview?: Awaited<ReturnType<typeof previewOf>>;
}

/** A deadline as the page shows it: the date and zone, or the days. */
function deadlineView(ctx: PolicyPageContext, deadline: Deadline | undefined) {
  if (!deadline) return undefined;
  return deadline.kind === 'date'
    ? { key: 'policy.deadline.date' as MessageKey, params: { date: deadline.date, zone: ctx.policy.timeZone } }
    : { key: 'policy.deadline.days' as MessageKey, params: { days: deadline.days } };
}

async function showPage(ctx: PolicyPageContext, req: Request, res: Response, page: 'portal' | 'firm', viewer: Viewer, extras: PageExtras = {}): Promise<void> {
  const current = await ctx.policy.current();
  const { source } = current;
  const [firmValue] = viewer.firm ? await ctx.policy.firms.current([viewer.firm]) : [undefined];
  ctx.render(req, res, extras.status ?? 200, 'admin/policy', {
    title: page === 'firm' ? 'page.title.policyFirm' : 'page.title.policy',
    page,
    policyBase: req.baseUrl,
    mode: current.mode,
    modeLabel: `policy.mode.${current.mode}` satisfies string as MessageKey,
    modes,
    deadline: current.deadline ? settingFields(current.mode, current.deadline) : { deadlineKind: 'none' },
    deadlineShown: deadlineView(ctx, current.deadline),
    timeZone: ctx.policy.timeZone,
    saved: extras.saved as MessageKey | undefined,
    policyError: extras.error ? { key: extras.error.key, params: extras.error.params, floor: extras.error.floor && settingView(ctx, extras.error.floor) } : undefined,
    locked: source.kind === 'option' && source.locked,
    canEditPortal: page === 'portal',
    setBy: source.kind === 'page' && source.by && source.at !== undefined ? { name: source.by.name, date: shownDate(source.at) } : undefined,
    firm: viewer.firm ? firmView(ctx, viewer, firmValue ?? null) : undefined,
    firmModes,
    lookup: await lookupView(ctx, req, viewer),
    preview: extras.preview,
  });
}

function firmView(ctx: PolicyPageContext, viewer: Viewer, value: StoredFirmPolicy | null) {
  return {
    id: viewer.firm!,
    name: viewer.person?.firm ?? viewer.firm!,
    mode: value?.mode ?? 'inherit',
    fields: value ? settingFields(value.mode, value.deadline) : { deadlineKind: 'none' },
    deadlineShown: deadlineView(ctx, value?.deadline),
    setBy: value?.by && value.at !== undefined ? { name: value.by.name, date: shownDate(value.at) } : undefined,
  };
}

/**
 * "The effective mode for a person, and why": the people the viewer may see (through the
 * directory and the role rules), and the answer for the one asked about (`?person=<id>`).
 * Unknown and not visible give the same answer.
 */
async function lookupView(ctx: PolicyPageContext, req: Request, viewer: Viewer) {
  const { directory, config } = ctx;
  if (!directory || !viewer.person || !config.admin) return undefined;
  const actor = viewer.person;
  const { people } = await directory.search(actor, '', 1, PICKER_SIZE);
  const asked = req.method === 'GET' ? readField(req.query.person, 200) : undefined;
  if (asked === undefined || asked === '') return { people, asked: undefined, result: undefined };
  const target = await directory.find(asked);
  if (!target || !canSee(config.admin.rules, actor, target)) return { people, asked, result: { unknown: true as const } };
  // Read only: looking someone up must not start their days deadline.
  const { effective } = await effectivePolicyNow(ctx.policy, () => target.role, target.user, target.id, { readOnly: true });
  return { people, asked, result: { unknown: false as const, name: target.name, mode: `policy.person.${effective.mode}` as MessageKey, because: becauseView(effective.because), skipUntil: effective.skipUntil === undefined ? undefined : shownDate(effective.skipUntil) } };
}

function becauseView(because: Because): { key: MessageKey; params: Record<string, string> } {
  switch (because.rule) {
    case 'portal':
      return { key: 'policy.because.portal', params: {} };
    case 'role':
      return { key: 'policy.because.role', params: { role: because.role } };
    case 'firm':
      return { key: 'policy.because.firm', params: { firm: because.firm } };
    case 'deadline':
      return { key: 'policy.because.deadline', params: { by: because.by === 'portal' ? 'portal' : because.by.firm } };
  }
}

/** "2026-12-01 10:00 UTC": one unambiguous form for every locale. */
function shownDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
