import type { Request, Response } from 'express';
import { TwoFactorError } from '../../errors.js';
import { randomId } from '../../secrets.js';
import type { PasskeyCredential, UserRecord } from '../../store/types.js';
import { asyncHandler } from '../../http.js';
import type { MessageKey } from '../../web/messages.js';
import type { PageError } from '../../web/page-errors.js';
import { enrolledWith, type EnrolmentRead, type FactorContext, type Person } from '../contract.js';
import {
  authenticationOptions, checkAuthentication, checkRegistration, defaultPasskeyName, passkeyName, registrationOptions,
  type AuthenticationResult, type RegistrationResult, type RelyingParty,
} from './ceremony.js';

declare module '../../flow/session.js' {
  interface SecondFactorSession {
    /** The random id this sign-in's passkey challenges are kept under in the store. */
    passkey?: { binding: string };
  }
}

/** What the passkey pages share. */
export interface PasskeyPages {
  readonly context: FactorContext;
  readonly rp: RelyingParty;
}

/** What a ceremony is for: a challenge made for one is never accepted for another. */
export type Purpose = 'register' | 'authenticate';

const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
/** A browser's response is about 1 kB; the form body limit bounds it anyway. */
const MAX_RESPONSE_LENGTH = 16_384;

const challengeKey = (who: Person) => `passkey-challenge:{${who.userId}}:${(who.state.passkey ??= { binding: randomId() }).binding}`;

/**
 * Keeps a new challenge for this sign-in (one live at a time: a new page replaces it), in the
 * store rather than the session, so that taking it is atomic: of two parallel submissions of
 * one response, one gets the challenge. It expires with the pending sign-in.
 */
async function keepChallenge(pages: PasskeyPages, who: Person, purpose: Purpose, challenge: string): Promise<void> {
  const { config } = pages.context;
  await config.store.set(challengeKey(who), `${purpose}:${challenge}`, Math.ceil(config.pendingTimeoutMs / 1000));
}

/** Takes (single use) this sign-in's challenge for `purpose`, or `undefined`. */
async function takeChallenge(pages: PasskeyPages, who: Person, purpose: Purpose): Promise<string | undefined> {
  if (!who.state.passkey) return undefined;
  const kept = await pages.context.config.store.take(challengeKey(who));
  return kept?.startsWith(`${purpose}:`) ? kept.slice(purpose.length + 1) : undefined;
}

/** The browser's response from the form: a string of bounded length, or `undefined`. */
export function readResponse(req: Request): string | undefined {
  const value = body(req).response;
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_RESPONSE_LENGTH ? value : undefined;
}

/** Options for `startRegistration`, their challenge kept: the person's keys are excluded. */
export async function newRegistration(pages: PasskeyPages, who: Person, existing: readonly PasskeyCredential[]) {
  const name = pages.context.config.accountName(who.user);
  const { options, challenge } = await registrationOptions(pages.rp, { userId: who.userId, userName: name, displayName: name, existing });
  await keepChallenge(pages, who, 'register', challenge);
  return options;
}

/** Options for `startAuthentication` over the person's keys, their challenge kept. */
export async function newAuthentication(pages: PasskeyPages, who: Person, record: UserRecord) {
  const { options, challenge } = await authenticationOptions(pages.rp, { allow: record.passkeys ?? [] });
  await keepChallenge(pages, who, 'authenticate', challenge);
  return options;
}

const registrationErrors: Readonly<Record<Exclude<RegistrationResult, { ok: true }>['reason'] | 'expired', MessageKey>> = {
  invalid: 'passkey.error.invalid',
  duplicate: 'passkey.error.duplicate',
  too_large: 'passkey.error.tooLarge',
  expired: 'passkey.error.expired',
};

/** The named key the form registered, or the error to show on the page again. */
export async function registered(req: Request, pages: PasskeyPages, who: Person, existing: readonly PasskeyCredential[]): Promise<{ credential: PasskeyCredential } | { error: PageError }> {
  const typed = body(req).name;
  const name = typeof typed === 'string' && typed.trim() === '' ? defaultPasskeyName(pages.context.config.now()) : passkeyName(typed);
  if (name === undefined) return { error: { key: 'passkey.error.name' } };
  const expectedChallenge = await takeChallenge(pages, who, 'register');
  if (!expectedChallenge) return { error: { key: registrationErrors.expired, general: true } };
  const result = await checkRegistration(pages.rp, { response: readResponse(req), expectedChallenge, name, now: pages.context.config.now(), existing });
  return result.ok ? { credential: result.credential } : { error: { key: registrationErrors[result.reason], general: true } };
}

const authenticationErrors: Readonly<Record<Exclude<AuthenticationResult, { ok: true }>['reason'] | 'expired', MessageKey>> = {
  invalid: 'passkey.error.invalid',
  unknown_credential: 'passkey.error.unknownCredential',
  counter: 'passkey.error.counter',
  expired: 'passkey.error.expired',
};

/**
 * Checks the form's assertion against this sign-in's challenge and the person's own keys, as
 * one attempt against the account like a code (a refused assertion is a failed attempt). On
 * success the key's counter, backup state and last use are saved.
 */
export async function checkAssertion(
  pages: PasskeyPages,
  { req, res, who, record, reason, rerender }: { req: Request; res: Response; who: Person; record: UserRecord; reason?: string; rerender: (status: 400 | 401, error: PageError) => Promise<void> },
): Promise<boolean> {
  let refusal: keyof typeof authenticationErrors = 'invalid';
  return pages.context.codeChecks.checkSubmittedCode({
    req, res, userId: who.userId, method: 'passkey', reason,
    read: () => readResponse(req),
    evaluate: async (response) => {
      const expectedChallenge = await takeChallenge(pages, who, 'authenticate');
      if (!expectedChallenge) {
        refusal = 'expired';
        return false;
      }
      const result = await checkAuthentication(pages.rp, { response, expectedChallenge, credentials: record.passkeys ?? [], now: pages.context.config.now() });
      if (!result.ok) {
        refusal = result.reason;
        return false;
      }
      await saveUse(pages, who.userId, record, result.credential);
      return true;
    },
    rerender: (status) => rerender(status, { key: status === 400 ? 'passkey.error.invalid' : authenticationErrors[refusal], general: true }),
  });
}

/** The key's new counter and last use, written to a fresh read of the same enrolment. */
async function saveUse(pages: PasskeyPages, userId: string, record: UserRecord, used: PasskeyCredential): Promise<void> {
  const { store } = pages.context.config;
  const fresh = await store.getUser(userId);
  if (!fresh || fresh.factorId !== record.factorId) return;
  await store.saveUser(userId, { ...fresh, passkeys: (fresh.passkeys ?? []).map((key) => (key.id === used.id ? used : key)) });
}

// --- at sign-in -----------------------------------------------------------------------------

async function renderEnrol(req: Request, res: Response, pages: PasskeyPages, who: Person, status = 200, error?: PageError): Promise<void> {
  const passkeyOptions = await newRegistration(pages, who, []);
  const nameValue = typeof body(req).name === 'string' ? String(body(req).name).slice(0, 64) : '';
  pages.context.render(req, res, status, 'passkey/enrol', { title: 'passkey.title.enrol', passkeyOptions, nameValue, ...(error ? { error } : {}) });
}

/** GET /enrol/passkey: name the key, then the browser's prompt. */
export function showEnrolment(pages: PasskeyPages) {
  const { pendingToEnrol } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await pendingToEnrol(req, res);
    if (!pending) return;
    await renderEnrol(req, res, pages, pending);
  });
}

/** POST /enrol/passkey: the new key, checked against this sign-in's challenge, is the factor. */
export function confirmEnrolment(pages: PasskeyPages) {
  const { config, accounts, requirePending, finishEnrolment } = pages.context;
  return asyncHandler(async (req, res) => {
    const pending = await requirePending(req);
    const { method, generation } = await accounts.standing(pending.userId);
    if (method) throw new TwoFactorError('forbidden', 'already enrolled');
    const outcome = await registered(req, pages, pending, []);
    if ('error' in outcome) {
      await renderEnrol(req, res, pages, pending, 400, outcome.error);
      return;
    }
    await accounts.saveEnrolment(pending.userId, generation, { method: 'passkey', passkeys: [outcome.credential] });
    config.emit({ type: 'enrolled', userId: pending.userId, method: 'passkey' });
    await finishEnrolment(req, res);
  });
}

/** The record of a person enrolled with passkeys, for the pages that name their keys (EnrolmentChanged otherwise). */
export function enrolledRecord(context: FactorContext, pending: Person, read: EnrolmentRead = () => context.accounts.standing(pending.userId)): Promise<UserRecord> {
  return enrolledWith(read, 'passkey');
}

export async function renderVerify(req: Request, res: Response, pages: PasskeyPages, who: Person, record: UserRecord, status = 200, error?: PageError): Promise<void> {
  const passkeyOptions = await newAuthentication(pages, who, record);
  pages.context.render(req, res, status, 'passkey/verify', { title: 'passkey.title.verify', passkeyOptions, ...(error ? { error } : {}) });
}

/** POST /verify for a person enrolled with passkeys. */
export async function verify(req: Request, res: Response, pending: Person, record: UserRecord, pages: PasskeyPages): Promise<void> {
  const { config, completeVerified } = pages.context;
  const right = await checkAssertion(pages, { req, res, who: pending, record, rerender: (status, error) => renderVerify(req, res, pages, pending, record, status, error) });
  if (!right) return;
  config.emit({ type: 'verified', userId: pending.userId, method: 'passkey' });
  await completeVerified(req, res, record);
}
