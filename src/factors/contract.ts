import type { Request, Response, Router } from 'express';
import type { Accounts, Standing } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { Policy } from '../flow/policy.js';
import type { SecondFactorSession } from '../flow/session.js';
import type { Config } from '../options.js';
import type { FactorMethod, UserRecord } from '../store/types.js';
import type { CodeChecks, RenderLocked } from '../web/code-check.js';
import type { MessageKey } from '../web/messages.js';
import type { PageError } from '../web/page-errors.js';
import type { Render } from '../web/render.js';

/** A person of this session: pending (password done) or signed in (second factor done). */
export interface Person {
  readonly state: SecondFactorSession;
  readonly userId: string;
  readonly user: Express.User;
}

/** A message with its placeholders, as the pages and the admin column show it. */
export interface FactorText {
  readonly key: MessageKey;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** The person's current enrolment, as the settings actions need it. */
export interface Enrolment {
  readonly record: UserRecord;
  readonly method: FactorMethod;
  readonly generation: number;
}

/**
 * What the person's router lends every factor's pages: the shared services, and the steps
 * every factor ends with (finish an enrolment, finish a sign-in, finish a change of method).
 * A factor knows nothing of another; the router knows factors only through this contract.
 */
export interface FactorContext {
  readonly config: Config;
  readonly accounts: Accounts;
  readonly attempts: AttemptLimiter;
  readonly policy: Policy;
  readonly render: Render;
  readonly codeChecks: CodeChecks;
  readonly renderLocked: RenderLocked;
  /** The pending sign-in of this session; throws `not_pending` when there is none. */
  requirePending(req: Request): Promise<Person>;
  /**
   * The pending sign-in of a person still to enrol; someone enrolled meanwhile (another tab) is
   * sent to verify instead (`undefined`, the page has been answered).
   */
  pendingToEnrol(req: Request, res: Response): Promise<Person | undefined>;
  /** A first enrolment was saved: the recovery codes are shown once, then the sign-in goes on. */
  finishEnrolment(req: Request, res: Response): Promise<void>;
  /** The factor was proved at sign-in: pending -> done (and this browser remembered, if asked). */
  completeVerified(req: Request, res: Response, record: UserRecord): Promise<void>;
  readonly settings: SettingsContext;
}

/** The person's standing for a code POST, read from the store at most once per request. */
export type EnrolmentRead = () => Promise<Standing>;

/**
 * Thrown by a factor's code POST when the record no longer holds the enrolment the password
 * step found (an admin reset, a change in another session meanwhile): the sign-in goes on from
 * where the person now stands instead of calling the code wrong.
 */
export class EnrolmentChanged extends Error {
  constructor(readonly standing: Standing) {
    super('the enrolment changed since the password step');
  }
}

/** The record of a person still enrolled with `method`, or EnrolmentChanged. */
export async function enrolledWith(read: EnrolmentRead, method: FactorMethod): Promise<UserRecord> {
  const standing = await read();
  if (standing.method !== method || !standing.record) throw new EnrolmentChanged(standing);
  return standing.record;
}

/** What the settings page lends a factor's settings actions. */
export interface SettingsContext {
  /** `${basePath}/settings`. */
  readonly path: string;
  /** The signed-in person; a pending one is redirected to finish first (`undefined`). */
  signedIn(req: Request, res: Response): Person | undefined;
  /** A change needs a recently proved factor; otherwise the page asks for one (`false`). */
  fresh(req: Request, res: Response, who: Person): boolean;
  /** The enrolment to change; without one, back to the page (`undefined`). */
  enrolled(res: Response, who: Person): Promise<Enrolment | undefined>;
  /** "Confirm it's you" succeeded with the current factor: the page again, now fresh. */
  confirmed(req: Request, res: Response, who: Person, method: FactorMethod): void;
  /** A new factor was confirmed and saved: new recovery codes, the old factor's sessions end. */
  changed(req: Request, res: Response, who: Person, saved: UserRecord, from: FactorMethod): Promise<void>;
  /** The settings page again, with an error (a failed confirmation or send). */
  show(req: Request, res: Response, who: Person, status: number, error?: PageError): Promise<void>;
}

/** A factor's pages, once mounted on the person's router. */
export interface FactorPages {
  /** The method choice picked this factor (POST /enrol): start its enrolment. */
  startEnrolment(req: Request, res: Response, pending: Person): Promise<void>;
  /** Settings, "use this instead": start enrolling it while the current factor still works. */
  startChange(req: Request, res: Response, who: Person): Promise<void>;
  /**
   * GET /verify for a person the password step found enrolled with it (the lock was checked).
   * Shown from the session: what the page needs of the record, the factor's `atSignIn` keeps
   * in the pending state.
   */
  showVerify(req: Request, res: Response, pending: Person): Promise<void>;
  /**
   * POST /verify for a person the password step found enrolled with it. `read` gives the
   * person's current standing, read once (a factor issues it with the attempt's reservation);
   * a record no longer enrolled with this factor is a refused attempt.
   */
  verify(req: Request, res: Response, pending: Person, read: EnrolmentRead): Promise<void>;
  /** What the settings page's "confirm it's you" section needs (its partial's variables). */
  confirmView(req: Request, who: Person, record: UserRecord): Promise<Record<string, unknown>>;
  /** POST /settings/confirm with this factor. */
  confirm(req: Request, res: Response, who: Person, record: UserRecord): Promise<void>;
  /** The variables of the factor's own settings section (`Factor.settingsPartial`), if it has one. */
  settingsView?(req: Request, who: Person, record: UserRecord, fresh: boolean): Record<string, unknown>;
}

/**
 * One second factor, in its own folder: what the method choice, the verify page, settings,
 * the admin status column and the reset need of it. Adding a factor is a folder and one line
 * in factors/index.ts.
 */
export interface Factor {
  readonly id: FactorMethod;
  /** The method choice's label and hint, and the settings page's "use this instead". */
  readonly labels: { readonly choose: MessageKey; readonly hint: MessageKey; readonly changeTo: MessageKey };
  /** The partial of the settings page's "confirm it's you" section. */
  readonly confirmPartial: string;
  /** A section of its own on the settings page (the list of passkeys), if it has one. */
  readonly settingsPartial?: string;
  /** The settings page's line for an enrolment of this factor ("Text messages to xxx-xxx-9443"). */
  describe(record: UserRecord): FactorText;
  /** The admin list's status column ("Passkey (2)"). */
  adminStatus(record: UserRecord): FactorText;
  /**
   * Removes what this factor keeps beside the person's record (claimed steps, live codes,
   * challenges). A reset, a change away from it and turning 2FA off call it; idempotent.
   */
  clear(userId: string): Promise<void>;
  /**
   * At the password step of a person enrolled with it: text messages send the code here, and
   * keep in the pending state what their verify page shows (the masked number).
   */
  atSignIn?(state: SecondFactorSession, record: UserRecord, locale: string): Promise<void>;
  /** Registers its routes on the person's router and returns its pages. */
  mount(router: Router, context: FactorContext): FactorPages;
}
