import type { Request } from 'express';
import { portalSetting, type Policy, type PolicyMode, type PolicyState, type StoredFirmPolicy } from './policy.js';
import { firmPath, resolvePolicy, type Deadline, type EffectivePolicy } from './policy-resolution.js';
import { safeReturnPath, type SecondFactorSession, type SessionGrant } from './session.js';

/**
 * What a finished sign-in is worth under the policy in force: `proved` (a factor, or a
 * remembered device), `holds` (finished without a factor, and the policy still allows that),
 * `owed` (the policy tightened since: the second factor is owed again).
 */
export type GrantStanding = 'proved' | 'holds' | 'owed';

/** The policy as one instance knows it, and the mode it gives this person. */
interface PolicyView {
  readonly policy: PolicyState;
  readonly mode: PolicyMode;
}

/**
 * A session finished before grants were recorded: proved when it says when, otherwise (skip,
 * switch off or remembered device: it cannot tell which) trusted only while the switch is off.
 */
function grantOf(state: SecondFactorSession): SessionGrant {
  if (state.grant) return state.grant;
  return { how: state.verifiedAt !== undefined ? 'proved' : 'skipped', generation: -1 };
}

/**
 * `view` is asked only for a grant without a factor, so that a proved session costs nothing.
 * Undefined (no value known yet on this instance) fails closed: such a grant is not trusted.
 */
export function grantStanding(state: SecondFactorSession, view: () => PolicyView | undefined): GrantStanding {
  const grant = grantOf(state);
  if (grant.how === 'proved' || grant.how === 'remembered') return 'proved';
  const known = view();
  if (!known) return 'owed';
  if (known.mode === 'off') return 'holds';
  // A skip counts only in optional mode and in the generation it was made in: switching 2FA off
  // and on again voids every skip, as it voids enrolments. An `off` grant never holds once on.
  const skipHolds = grant.how === 'skipped' && known.mode === 'optional' && grant.generation === known.policy.generation;
  return skipHolds ? 'holds' : 'owed';
}

type RoleOf = (user: Express.User) => string | undefined;

/** The firm policies along a tenant path, as the resolution takes them (firms without one left out). */
function firmsOf(firms: readonly string[], values: readonly (StoredFirmPolicy | null)[]) {
  return firms.flatMap((firm, index) => {
    const value = values[index];
    return value ? [{ firm, setting: { mode: value.mode, ...(value.deadline ? { deadline: value.deadline } : {}) } }] : [];
  });
}

const hasDaysDeadline = (settings: readonly { readonly mode: string; readonly deadline?: Deadline }[]) =>
  settings.some((setting) => setting.mode === 'optional' && setting.deadline?.kind === 'days');

/** When the host's tenant for a person does not parse, no firm can be trusted to be looser: required. */
const unknownTenant: EffectivePolicy = { mode: 'required', because: { rule: 'portal' } };

/**
 * The person's effective policy at sign-in (and on pages that read the store anyway): the
 * portal switch, the person's own firms' keys (one read per firm on their tenant path, when not
 * cached), and, only when a days deadline applies, their first sign-in (written once, ever).
 */
export async function effectivePolicyNow(policy: Policy, roleOf: RoleOf, user: Express.User, userId: string, options: { readOnly?: boolean } = {}): Promise<{ state: PolicyState; effective: EffectivePolicy }> {
  const state = await policy.current();
  if (state.mode === 'off') return { state, effective: { mode: 'off', because: { rule: 'portal' } } };
  const tenant = policy.tenantOf(user);
  if (!tenant) return { state, effective: unknownTenant };
  const path = firmPath(tenant);
  const firms = firmsOf(path, await policy.firms.current(path));
  const input = { portal: portalSetting(state), firms, roleModes: policy.roleModes, role: roleOf(user), now: policy.now(), timeZone: policy.timeZone };
  let effective = resolvePolicy(input);
  // The first sign-in is recorded only by a sign-in that meets a days deadline: one write per person.
  if (effective.mode === 'optional' && hasDaysDeadline([input.portal, ...firms.map((f) => f.setting)])) {
    const first = options.readOnly ? await policy.readFirstSignInAt(userId) : await policy.firstSignInAt(userId);
    if (first !== undefined) effective = resolvePolicy({ ...input, firstSignInAt: first });
  }
  return { state, effective };
}

/**
 * The same from this instance's caches only (the guard): undefined when a value it needs was
 * never read here (a firm, or the first sign-in under a days deadline), which fails closed.
 */
export function effectivePolicyCached(policy: Policy, roleOf: RoleOf, user: Express.User, userId: string, state: PolicyState): EffectivePolicy | undefined {
  if (state.mode === 'off') return { mode: 'off', because: { rule: 'portal' } };
  const tenant = policy.tenantOf(user);
  if (!tenant) return unknownTenant;
  const path = firmPath(tenant);
  const values = policy.firms.lastKnown(path);
  if (!values) return undefined;
  const firms = firmsOf(path, values);
  const portal = portalSetting(state);
  const firstSignInAt = policy.knownFirstSignInAt(userId);
  if (firstSignInAt === undefined && hasDaysDeadline([portal, ...firms.map((f) => f.setting)])) {
    const withoutFirst = resolvePolicy({ portal, firms, roleModes: policy.roleModes, role: roleOf(user), now: policy.now(), timeZone: policy.timeZone });
    // Required whatever the first sign-in was: no need to know it.
    return withoutFirst.mode === 'required' ? withoutFirst : undefined;
  }
  return resolvePolicy({ portal, firms, roleModes: policy.roleModes, role: roleOf(user), now: policy.now(), timeZone: policy.timeZone, ...(firstSignInAt !== undefined ? { firstSignInAt } : {}) });
}

/** The grant checks bound to this instance's policy and roles. */
export function createGrantChecks(policy: Policy, roleOf: RoleOf) {
  const viewOf = (user: Express.User, userId: string, known: PolicyState | undefined): PolicyView | undefined => {
    const effective = known && effectivePolicyCached(policy, roleOf, user, userId, known);
    return known && effective && { policy: known, mode: effective.mode };
  };

  /** For the guard: synchronous and storeless, against the value this instance last cached. */
  function cached(user: Express.User, state: SecondFactorSession): GrantStanding {
    return grantStanding(state, () => viewOf(user, state.userId, policy.lastKnown()));
  }

  /** For pages that read the store anyway: against the policy as `current()` gives it. */
  async function current(user: Express.User, state: SecondFactorSession): Promise<{ standing: GrantStanding; policy: PolicyState }> {
    const { state: known, effective } = await effectivePolicyNow(policy, roleOf, user, state.userId);
    return { standing: grantStanding(state, () => ({ policy: known, mode: effective.mode })), policy: known };
  }

  return { cached, current };
}

export type GrantChecks = ReturnType<typeof createGrantChecks>;

/**
 * Sends a finished sign-in back to the second factor: a fresh pending state for the same person
 * (the Passport user stays), returning to this page afterwards when it was a GET.
 */
export function owedAgain(req: Request, state: SecondFactorSession, now: number): SecondFactorSession {
  const pending: SecondFactorSession = { state: 'pending', userId: state.userId, since: now };
  const returnTo = req.method === 'GET' ? safeReturnPath(req.originalUrl) : undefined;
  if (returnTo) pending.returnTo = returnTo;
  req.session.secondFactor = pending;
  return pending;
}
