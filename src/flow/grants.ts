import type { Request } from 'express';
import type { Policy, PolicyMode, PolicyState } from './policy.js';
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

/** The grant checks bound to this instance's policy and roles. */
export function createGrantChecks(policy: Policy, roleOf: (user: Express.User) => string | undefined) {
  const viewOf = (user: Express.User, known: PolicyState | undefined): PolicyView | undefined =>
    known && { policy: known, mode: policy.modeFor(known, roleOf(user)) };

  /** For the guard: synchronous and storeless, against the value this instance last cached. */
  function cached(user: Express.User, state: SecondFactorSession): GrantStanding {
    return grantStanding(state, () => viewOf(user, policy.lastKnown()));
  }

  /** For pages that read the store anyway: against the policy as `current()` gives it. */
  async function current(user: Express.User, state: SecondFactorSession): Promise<{ standing: GrantStanding; policy: PolicyState }> {
    const known = await policy.current();
    return { standing: grantStanding(state, () => viewOf(user, known)), policy: known };
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
