import type { Request } from 'express';
import type {} from 'passport';
import type {} from 'express-session';
import type { FactorMethod } from '../store/types.js';

/**
 * What the package keeps in the host's session. A factor adds the fields of its own sign-in
 * state by declaration merging, in its folder (e.g. `sms` in factors/sms/challenge.ts).
 */
export interface SecondFactorSession {
  /** `pending`: the password was right, the second factor is still owed. `done`: signed in. */
  state: 'pending' | 'done';
  /** The Passport user this state belongs to. */
  userId: string;
  /** When the pending sign-in began (ms). */
  since: number;
  /** A same-site path to go back to after the second factor. */
  returnTo?: string;
  /**
   * What this sign-in's pages need of the person's record, read once at the password step so
   * that showing a page reads no record: the enrolled method (absent: an enrolment is owed) and
   * whether "Skip for now" was withdrawn by asking to enable 2FA. Every POST that decides
   * something (a code, an enrolment, a skip) reads the record again.
   */
  enrolled?: FactorMethod;
  enableRequested?: true;
  /**
   * Until when the account's code attempts were locked (config.now() ms), as the password step
   * read it or a refused code set it: the verify page shows the lock without a store call. The
   * lock itself lives in the store; a code POST asks it.
   */
  lockedUntil?: number;
  /** An enrolment in progress: the sealed secret or phone, before the person confirmed it. */
  enrolment?: { method: FactorMethod; sealed: string; last4?: string };
  /**
   * When the person last proved their second factor (ms): a code at sign-in, an enrolment, a
   * recovery code, a code on the settings page. Absent when the sign-in was done without one
   * (skip, 2FA off, a remembered device). The settings page decides freshness from it.
   */
  verifiedAt?: number;
  /** The recovery codes of a new enrolment were shown; "Continue" finishes the sign-in. */
  recoveryCodesShown?: boolean;
  /**
   * How a `done` sign-in was granted, and under which enrolment generation: the guard compares
   * it with the policy it has cached, so a tightened policy reaches open sessions. Absent on
   * pending sign-ins, and on sessions finished before grants were recorded.
   */
  grant?: SessionGrant;
}

/**
 * `proved`: a factor was shown (code, enrolment, recovery code). `remembered`: a remembered
 * device, counted as proved. `skipped`: optional mode, skip chosen or honoured. `off`: the
 * switch was off.
 */
export type GrantKind = 'proved' | 'remembered' | 'skipped' | 'off';

export interface SessionGrant {
  readonly how: GrantKind;
  /** The policy's enrolment generation when the sign-in finished. */
  readonly generation: number;
}

declare module 'express-session' {
  interface SessionData {
    secondFactor?: SecondFactorSession;
  }
}

export function secondFactorSession(req: Request): SecondFactorSession | undefined {
  return req.session?.secondFactor;
}

/**
 * Only paths on this site: one leading slash, no `//host` or `/\host` (browsers read both as
 * another origin), no control characters, bounded length.
 */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  if (!/^\/(?![/\\])/.test(value)) return undefined;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  return value;
}
