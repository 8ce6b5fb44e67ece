import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Express 4 does not pass a rejected promise from a handler to `next`; this does, on 4 and 5
 * alike, so an async failure always reaches the error page instead of hanging the request.
 */
export function asyncHandler(handler: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler {
  return function secondFactorHandler(req, res, next) {
    handler(req, res, next).catch(next);
  };
}

/** True when the client asked for JSON rather than a page (API calls, fetch with Accept). */
export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}
