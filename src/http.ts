import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { headerMemo } from './header-memo.js';

/**
 * Express 4 does not pass a rejected promise from a handler to `next`; this does, on 4 and 5
 * alike, so an async failure always reaches the error page instead of hanging the request.
 */
export function asyncHandler(handler: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler {
  return function secondFactorHandler(req, res, next) {
    handler(req, res, next).catch(next);
  };
}

/** The answer of `wantsJson` for recent Accept headers: a sign-in asks it at each of its steps. */
const acceptAnswers = headerMemo<boolean>(200, 512);

/** True when the client asked for JSON rather than a page (API calls, fetch with Accept). */
export function wantsJson(req: Request): boolean {
  return acceptAnswers.get(req.headers.accept, () => req.accepts(['html', 'json']) === 'json');
}

/** How many Accept headers `wantsJson` keeps answers for now (for the test of the bound). */
export const rememberedAcceptHeaders = (): number => acceptAnswers.size();
