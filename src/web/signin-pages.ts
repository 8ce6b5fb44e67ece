import type { Request, Response } from 'express';
import { TwoFactorError } from '../errors.js';
import { EnrolmentChanged, type EnrolmentRead, type Factor, type FactorContext, type FactorPages, type Person } from '../factors/contract.js';
import type { Standing } from '../flow/account.js';
import type { Gate } from '../flow/gate.js';
import { effectivePolicyNow } from '../flow/grants.js';
import { skipCountdown, type EffectivePolicy } from '../flow/policy-resolution.js';
import type { RememberedDevices } from '../flow/remember-device.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
import { asyncHandler } from '../http.js';
import { readField } from './input.js';
import { errorMessageKey } from './messages.js';

/** A factor with its pages mounted on the person's router. */
export interface MountedFactor {
  readonly factor: Factor;
  readonly pages: FactorPages;
}

/** What the pages every sign-in shares need: the factors, the gate, the role of a person. */
export interface SignInPages {
  readonly context: FactorContext;
  readonly gate: Gate;
  readonly devices: RememberedDevices;
  readonly factors: readonly MountedFactor[];
  readonly roleOf: (user: Express.User) => string | undefined;
}

const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/** The mounted factor of a method, if there is one (a record from a newer version may name another). */
export function factorOf(factors: readonly MountedFactor[], method: FactorMethod | string | undefined): MountedFactor | undefined {
  return factors.find(({ factor }) => factor.id === method);
}

/** pending -> done after a proved factor: when it was proved, and this browser if asked to remember it. */
export async function completeVerified(req: Request, res: Response, record: UserRecord, pages: Pick<SignInPages, 'context' | 'gate' | 'devices'>): Promise<void> {
  const state = req.session.secondFactor!;
  state.verifiedAt = pages.context.config.now();
  if (readField(body(req).remember, 8) === '1') await pages.devices.remember(req, res, state.userId, record);
  await pages.gate.complete(req, res);
}

/** GET /: wherever this sign-in stands (the codes page, verify, or the method choice). */
export function showStart({ context }: SignInPages) {
  const { config, requirePending } = context;
  return asyncHandler(async (req, res) => {
    if (req.session?.secondFactor?.state === 'done') {
      res.redirect(303, config.successRedirect);
      return;
    }
    const { userId, state } = await requirePending(req);
    if (state.recoveryCodesShown) {
      res.redirect(303, `${config.basePath}/recovery-codes`);
      return;
    }
    res.redirect(303, `${config.basePath}/${state.enrolled ? 'verify' : 'enrol'}`);
  });
}

/**
 * "Skip for now" is offered only where the person's effective policy is optional (portal
 * switch, role, firm, deadline: flow/policy-resolution.ts), never to someone enrolled, and not
 * to someone who asked to enable 2FA after skipping. Decided from the current policy at every
 * call, so a deadline set or shortened since reaches people who skipped before. Returns that
 * policy (its `skipUntil` for the countdown) when the skip is offered, else false.
 */
async function skipAllowed({ context, roleOf }: SignInPages, pending: Person, standing: Pick<Standing, 'method' | 'enableRequested'>): Promise<false | EffectivePolicy> {
  if (standing.method || standing.enableRequested) return false;
  const { effective } = await effectivePolicyNow(context.policy, roleOf, pending.user, pending.userId);
  return effective.mode === 'optional' ? effective : false;
}

/** The standing the password step noted in the session: enough to show a page, not to decide. */
const notedStanding = ({ state }: Person) => ({ method: state.enrolled, enableRequested: state.enableRequested === true });

async function renderChoice(req: Request, res: Response, pages: SignInPages, pending: Person, status = 200, error?: TwoFactorError): Promise<void> {
  const { config, policy } = pages.context;
  const offer = await skipAllowed(pages, pending, notedStanding(pending));
  // "You can skip until 15 January (12 days left)": the day in the portal's zone, the page's language.
  const countdown = offer && offer.skipUntil !== undefined ? skipCountdown(offer.skipUntil, config.now(), policy.timeZone, config.i18n.localeOf(req)) : undefined;
  pages.context.render(req, res, status, 'choose', {
    title: 'page.title.choose',
    methods: pages.factors.map(({ factor }) => ({ id: factor.id, label: factor.labels.choose, hint: factor.labels.hint })),
    skipAllowed: offer !== false,
    skipUntil: countdown,
    ...(error ? { error: { key: errorMessageKey(error.code) } } : {}),
  });
}

/** GET /enrol: the method choice, one option per factor. */
export function showChoice(pages: SignInPages) {
  const { pendingToEnrol } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await pendingToEnrol(req, res);
    if (!pending) return;
    await renderChoice(req, res, pages, pending);
  });
}

/** POST /enrol: the chosen factor starts its enrolment. */
export function chooseMethod(pages: SignInPages) {
  const { accounts, requirePending } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    if ((await accounts.standing(pending.userId)).method) throw new TwoFactorError('forbidden', 'already enrolled: verify instead');
    const chosen = factorOf(pages.factors, readField(body(req).method, 16));
    if (!chosen) {
      await renderChoice(req, res, pages, pending, 400, new TwoFactorError('bad_request', 'unknown method'));
      return;
    }
    await chosen.pages.startEnrolment(req, res, pending);
  });
}

/** POST /skip: remembered for the account; later sign-ins go straight in. */
export function skip(pages: SignInPages) {
  const { config, accounts, requirePending } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const standing = await accounts.standing(pending.userId);
    if (!(await skipAllowed(pages, pending, standing))) throw new TwoFactorError('forbidden', 'skipping is not allowed for this person now');
    await accounts.recordSkip(pending.userId, standing.generation);
    config.emit({ type: 'skipped', userId: pending.userId });
    await pages.gate.complete(req, res, { how: 'skipped', generation: standing.generation });
  });
}

/** The factor this sign-in's password step found the person enrolled with, or a redirect to the method choice. */
async function enrolledFactor(req: Request, res: Response, pages: SignInPages) {
  const { config, requirePending } = pages.context;
  const pending = await requirePending(req);
  const mounted = factorOf(pages.factors, pending.state.enrolled);
  if (!mounted) {
    res.redirect(303, `${config.basePath}/enrol`);
    return undefined;
  }
  return { pending, mounted };
}


/** GET /verify: the enrolled factor's page, or the lock; from the session, no store call of ours. */
export function showVerify(pages: SignInPages) {
  const { renderLocked } = pages.context;
  return asyncHandler(async (req, res) => {
    const enrolled = await enrolledFactor(req, res, pages);
    if (!enrolled) return;
    const locked = await pages.context.attempts.lockedSecondsNoted(enrolled.pending.userId, enrolled.pending.state);
    if (locked > 0) renderLocked(req, res, locked);
    else await standingNow(res, pages.context.config, enrolled.pending, () => enrolled.mounted.pages.showVerify(req, res, enrolled.pending));
  });
}

/**
 * The person's record for a code POST, read once where the factor asks for it (with the
 * attempt's reservation, in one round trip): whether the person is still enrolled with this
 * factor is decided from it, not from the session.
 */
function enrolmentRead({ accounts }: FactorContext, userId: string): EnrolmentRead {
  let read: Promise<Standing> | undefined;
  return () => (read ??= accounts.standing(userId));
}

/** POST /verify: the enrolled factor checks what was sent. */
export function verify(pages: SignInPages) {
  const { config } = pages.context;
  return asyncHandler(async (req, res) => {
    const enrolled = await enrolledFactor(req, res, pages);
    if (!enrolled) return;
    await standingNow(res, config, enrolled.pending, () => enrolled.mounted.pages.verify(req, res, enrolled.pending, enrolmentRead(pages.context, enrolled.pending.userId)));
  });
}

/** Runs a verify step; an enrolment reset or changed meanwhile goes on to the page the person needs now. */
async function standingNow(res: Response, config: FactorContext['config'], pending: Person, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!(error instanceof EnrolmentChanged)) throw error;
    const { method } = error.standing;
    if (method) pending.state.enrolled = method;
    else delete pending.state.enrolled;
    res.redirect(303, `${config.basePath}/${method ? 'verify' : 'enrol'}`);
  }
}

/** The signed-in person (second factor done or skipped) of this session. */
function requireSignedIn(req: Request, { context }: SignInPages): { userId: string } {
  const state = req.session?.secondFactor;
  if (!req.user || state?.state !== 'done' || state.userId !== context.config.userId(req.user)) {
    throw new TwoFactorError('not_pending', 'not signed in');
  }
  return { userId: state.userId };
}

/** GET /enable: "Turn on two-step verification" for a person who skipped. */
export function showEnable(pages: SignInPages) {
  const { config, accounts, render } = pages.context;
  return asyncHandler(async (req, res) => {
    const { userId } = requireSignedIn(req, pages);
    if ((await accounts.standing(userId)).method) {
      render(req, res, 200, 'notice', { title: 'page.title.enable', message: 'enable.alreadyOn', link: { href: config.successRedirect, label: 'continue' } });
      return;
    }
    render(req, res, 200, 'enable', { title: 'page.title.enable', home: config.successRedirect });
  });
}

/** POST /enable: the skip is cleared and the person signed out; the next sign-in enrols. */
export function requestEnable(pages: SignInPages) {
  const { config, accounts, render } = pages.context;
  return asyncHandler(async (req, res) => {
    const { userId } = requireSignedIn(req, pages);
    const standing = await accounts.standing(userId);
    if (standing.method) throw new TwoFactorError('forbidden', 'already enrolled');
    await accounts.requestEnable(userId, standing.generation);
    config.emit({ type: 'enable_requested', userId });
    await pages.gate.signOut(req);
    render(req, res, 200, 'notice', { title: 'page.title.enable', message: 'enable.signedOut', link: { href: config.loginPath, label: 'signInAgain' } });
  });
}

/** POST /logout. */
export function signOut({ context, gate }: SignInPages) {
  return asyncHandler(async (req, res) => {
    if (req.user) await gate.signOut(req);
    res.redirect(303, context.config.loginPath);
  });
}
