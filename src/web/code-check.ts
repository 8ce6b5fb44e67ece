import type { Request, Response } from 'express';
import { isTwoFactorError, type TwoFactorError } from '../errors.js';
import type { AttemptLimiter, FailureCount } from '../flow/attempts.js';
import type { Config } from '../options.js';
import type { FactorMethod } from '../store/types.js';

export type RenderLocked = (req: Request, res: Response, seconds: number) => void;

export interface SubmittedCode {
  readonly req: Request;
  readonly res: Response;
  readonly userId: string;
  /** The code from the form: throws a TwoFactorError, or returns `undefined`, when malformed. */
  readonly read: () => string | undefined;
  /**
   * Whether the code is right. It runs only while the account is not locked, as one attempt;
   * a check whose store step also resets the failure count says so on `count`.
   */
  readonly evaluate: (code: string, count: FailureCount) => Promise<boolean>;
  /** What the check needs from the store (the person's record), read in the reservation's round trip. */
  readonly alongside?: () => Promise<unknown>;
  /** For the `failed` and `locked` events. */
  readonly method: FactorMethod;
  readonly reason?: string;
  /** The page again: 400 with the reading error for a malformed code, 401 for a wrong one. */
  readonly rerender: (status: 400 | 401, error?: TwoFactorError) => void | Promise<void>;
}

/** The step every page that takes a code goes through, whatever the factor: one attempt. */
export function createCodeChecks(config: Config, attempts: AttemptLimiter, renderLocked: RenderLocked) {
  const checks = {
    /**
     * Reads a submitted code and counts it against the account: a malformed code is a 400 and no
     * attempt, a wrong one a 401, the last allowed wrong one (or any while locked) the locked page.
     * True when the code was right; otherwise the page has been answered.
     */
    async checkSubmittedCode({ req, res, userId, read, evaluate, alongside, method, reason, rerender }: SubmittedCode): Promise<boolean> {
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
      const outcome = await attempts.attempt(userId, {
        evaluate: (count) => evaluate(submitted, count),
        ...(alongside ? { alongside } : {}),
        onFailure: (locked) => config.emit({ type: locked ? 'locked' : 'failed', userId, method, ...(reason ? { reason } : {}) }),
      });
      if (outcome.ok) return true;
      if (outcome.lockedSeconds > 0) renderLocked(req, res, outcome.lockedSeconds);
      else await rerender(401);
      return false;
    },
  };
  return checks;
}

export type CodeChecks = ReturnType<typeof createCodeChecks>;
