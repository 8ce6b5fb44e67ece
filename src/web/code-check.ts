import type { Request, Response } from 'express';
import { isTwoFactorError, type TwoFactorError } from '../errors.js';
import type { SmsCheck, SmsCodes } from '../factors/sms.js';
import type { TotpCheck } from '../flow/account.js';
import type { AttemptLimiter } from '../flow/attempts.js';
import type { SecondFactorSession } from '../flow/session.js';
import { isSmsSendRefusal } from '../flow/sms-challenge.js';
import type { Config } from '../options.js';
import type { FactorMethod } from '../store/types.js';
import { errorFor, smsCheckError, totpCheckError, type PageError } from './page-errors.js';

export type RenderLocked = (req: Request, res: Response, seconds: number) => void;

export interface SubmittedCode {
  readonly req: Request;
  readonly res: Response;
  readonly userId: string;
  /** The code from the form: throws a TwoFactorError, or returns `undefined`, when malformed. */
  readonly read: () => string | undefined;
  /** Whether the code is right. It runs only while the account is not locked, as one attempt. */
  readonly evaluate: (code: string) => Promise<boolean>;
  /** For the `failed` and `locked` events. */
  readonly method: FactorMethod;
  readonly reason?: string;
  /** The page again: 400 with the reading error for a malformed code, 401 for a wrong one. */
  readonly rerender: (status: 400 | 401, error?: TwoFactorError) => void | Promise<void>;
}

export interface SubmittedSmsCode {
  readonly req: Request;
  readonly res: Response;
  readonly state: SecondFactorSession;
  readonly userId: string;
  /** The number the code went to. */
  readonly phone: string;
  readonly read: () => string;
  readonly reason?: string;
  /** The page again: 400 for a malformed code, 401 for a wrong, expired or spent one. */
  readonly rerender: (status: 400 | 401, error: PageError) => Promise<void>;
}

export interface SubmittedTotpCode extends Omit<SubmittedCode, 'evaluate' | 'method' | 'rerender'> {
  /** Checks the code and claims its time step (accounts.acceptTotp or verifyTotp). */
  readonly accept: (code: string) => Promise<TotpCheck>;
  /** The page again: 400 for a malformed code, 401 for a wrong or already used one. */
  readonly rerender: (status: 400 | 401, error: PageError) => void | Promise<void>;
}

export interface CodeSend {
  readonly req: Request;
  readonly res: Response;
  readonly userId: string;
  readonly send: () => Promise<void>;
  /** The page again after a refused or failed send: 429 (with Retry-After set) or 502. */
  readonly refused: (status: number, error: TwoFactorError) => void | Promise<void>;
}

/** The steps every page that takes or sends a code goes through, whatever the factor. */
export function createCodeChecks(config: Config, attempts: AttemptLimiter, renderLocked: RenderLocked, codes: SmsCodes) {
  const checks = {
    /**
     * Reads a submitted code and counts it against the account: a malformed code is a 400 and no
     * attempt, a wrong one a 401, the last allowed wrong one (or any while locked) the locked page.
     * True when the code was right; otherwise the page has been answered.
     */
    async checkSubmittedCode({ req, res, userId, read, evaluate, method, reason, rerender }: SubmittedCode): Promise<boolean> {
      let code: string | undefined;
      try {
        code = read();
      } catch (error) {
        if (!isTwoFactorError(error)) throw error;
        await rerender(400, error);
        return false;
      }
      if (code === undefined) {
        await rerender(400);
        return false;
      }
      const submitted = code;
      const outcome = await attempts.attempt(userId, () => evaluate(submitted), (locked) =>
        config.emit({ type: locked ? 'locked' : 'failed', userId, method, ...(reason ? { reason } : {}) }),
      );
      if (outcome.ok) return true;
      if (outcome.lockedSeconds > 0) renderLocked(req, res, outcome.lockedSeconds);
      else await rerender(401);
      return false;
    },

    /**
     * An authenticator code from the form: a wrong or already used code is a failed attempt,
     * and the page says which (see totpCheckError for why "already used" tells a guesser nothing).
     */
    checkTotpCode({ accept, rerender, ...submitted }: SubmittedTotpCode): Promise<boolean> {
      let result = 'wrong' as TotpCheck;
      return checks.checkSubmittedCode({
        ...submitted, method: 'totp',
        evaluate: async (code) => (result = await accept(code)) === 'ok',
        rerender: (status, error) => rerender(status, error ? errorFor(error) : totpCheckError(result)),
      });
    },

    /** Sends a text-message code unless the account is locked. True when it went out; otherwise the page has been answered. */
    async sendCodeUnlessLocked({ req, res, userId, send, refused }: CodeSend): Promise<boolean> {
      const locked = await attempts.lockedSeconds(userId);
      if (locked > 0) {
        renderLocked(req, res, locked);
        return false;
      }
      try {
        await send();
      } catch (error) {
        if (!isSmsSendRefusal(error)) throw error;
        if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
        await refused(error.status, error);
        return false;
      }
      return true;
    },

    /**
     * A text-message code from the form, checked for this session and number: a wrong one is a
     * failed attempt like any other, however many codes were sent, and is shown with why it was refused.
     */
    checkSmsCode({ req, res, state, userId, phone, read, reason, rerender }: SubmittedSmsCode): Promise<boolean> {
      let result = 'none' as SmsCheck;
      return checks.checkSubmittedCode({
        req, res, userId, method: 'sms', reason, read,
        evaluate: async (code) => (result = await codes.check(userId, { binding: state.sms?.binding, phone }, code)) === 'ok',
        rerender: (status, error) => rerender(status, error ? errorFor(error) : smsCheckError(result)),
      });
    },
  };
  return checks;
}

export type CodeChecks = ReturnType<typeof createCodeChecks>;
