import { z } from 'zod';
import type { TwoFactorStore } from '../store/types.js';

/** The portal-wide switch: no second factor, required for everyone, or optional (skip allowed). */
export type PolicyMode = 'off' | 'required' | 'optional';

/** Options of the enforcement policy (`policy` in `secondFactor()`). */
export interface PolicyOptions {
  /**
   * The mode until an admin changes it (the store then remembers the admin's choice).
   * @default 'required'
   */
  readonly mode?: PolicyMode;
  /**
   * Per-role overrides while 2FA is on, e.g. `{ 'bot-admin': 'required' }` makes bot admins
   * enrol even when the portal is `optional`. Roles come from `roles.roleOf`.
   * @default {}
   */
  readonly roleModes?: Readonly<Record<string, 'required' | 'optional'>>;
  /**
   * How long an app instance trusts its copy of the switch. A change made on another instance
   * is seen within this time; the instance that made it sees it at once.
   * @default 5
   */
  readonly cacheSeconds?: number;
  /**
   * After a first enrolment, sign the person out so they sign in again with both factors.
   * @default false
   */
  readonly reauthenticateAfterEnrolment?: boolean;
  /**
   * Days a "Remember this device" checkbox on the verify pages keeps a browser trusted: the
   * person's later sign-ins there skip the code, until a reset, a method change or the days
   * run out. 0 turns the checkbox off.
   * @default 0
   */
  readonly rememberDeviceDays?: number;
}

export const policyOptionsSchema = z.strictObject({
  mode: z.enum(['off', 'required', 'optional']).optional(),
  roleModes: z.record(z.string(), z.enum(['required', 'optional'])).optional(),
  cacheSeconds: z.number().min(0).max(300).optional(),
  reauthenticateAfterEnrolment: z.boolean().optional(),
  rememberDeviceDays: z.number().int().min(0).max(365).optional(),
});

export interface PolicyState {
  readonly mode: PolicyMode;
  /** Enrolments and skips of an older generation count as never made. */
  readonly generation: number;
}

const MODE_KEY = 'policy:mode';
const GENERATION_KEY = 'policy:generation';

/**
 * The switch lives in the store so every instance sees one value. Reads are cached in-process
 * for `cacheSeconds`; the guard never reads it at all (a finished sign-in stays finished).
 */
export function createPolicy(deps: {
  store: TwoFactorStore;
  options: PolicyOptions;
}) {
  const { store } = deps;
  const defaultMode = deps.options.mode ?? 'required';
  const roleModes = { ...deps.options.roleModes };
  const cacheMs = (deps.options.cacheSeconds ?? 5) * 1000;
  let cached: { state: PolicyState; until: number } | undefined;

  async function current(): Promise<PolicyState> {
    // Date.now, not the injectable clock: the cache is about real elapsed time between instances.
    if (cached && Date.now() < cached.until) return cached.state;
    const [mode, generation] = await Promise.all([store.get(MODE_KEY), store.get(GENERATION_KEY)]);
    const state: PolicyState = {
      mode: mode === 'off' || mode === 'required' || mode === 'optional' ? mode : defaultMode,
      generation: generation === null ? 0 : Number(generation),
    };
    cached = { state, until: Date.now() + cacheMs };
    return state;
  }

  /**
   * Changes the switch. Turning it on from `off` bumps the generation: one atomic increment,
   * no scan of users, and every earlier enrolment and skip is void.
   */
  async function setMode(mode: PolicyMode): Promise<{ before: PolicyState; after: PolicyState }> {
    cached = undefined;
    const before = await current();
    let generation = before.generation;
    if (before.mode === 'off' && mode !== 'off') generation = await store.increment(GENERATION_KEY);
    await store.set(MODE_KEY, mode);
    cached = undefined;
    return { before, after: { mode, generation } };
  }

  function modeFor(state: PolicyState, role: string | undefined): PolicyMode {
    if (state.mode === 'off') return 'off';
    return (role !== undefined && Object.hasOwn(roleModes, role) ? roleModes[role] : undefined) ?? state.mode;
  }

  return {
    current,
    setMode,
    modeFor,
    reauthenticateAfterEnrolment: deps.options.reauthenticateAfterEnrolment ?? false,
    rememberDeviceDays: deps.options.rememberDeviceDays ?? 0,
  };
}

export type Policy = ReturnType<typeof createPolicy>;
