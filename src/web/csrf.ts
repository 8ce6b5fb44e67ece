import { csrfSync } from 'csrf-sync';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { TwoFactorError } from '../errors.js';

/** Limits far above any form of ours: a larger body is refused before it is read. */
export const FORM_LIMITS = { extended: false, limit: '4kb', parameterLimit: 20 } as const;

/** The same ceiling for API clients that send JSON; `strict`: an object or array, nothing else. */
const JSON_LIMITS = { limit: '4kb', strict: true } as const;

/**
 * Synchronizer tokens kept in the session (csrf-sync). Forms send `_csrf`; API clients may send
 * the `x-csrf-token` header instead. A missing or wrong token is a 403 and changes nothing.
 */
export function createCsrf() {
  return csrfSync({
    // 256 random bits: unguessable, at a quarter of csrf-sync's default of 128 bytes, which
    // every session of a sign-in carries and every form page repeats twice.
    size: 32,
    getTokenFromRequest: (req: Request) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      const header = req.headers['x-csrf-token'];
      return typeof header === 'string' ? header : undefined;
    },
  });
}

export function isCsrfError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EBADCSRFTOKEN';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `scheme://host[:port]` as URL normalises it (lower case, default port dropped), or undefined. */
function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/**
 * A second layer behind the token (OWASP): a state-changing request that the browser says came
 * from another site is refused before it is read. `req.protocol` follows `trust proxy`, so an
 * app behind a TLS proxy must set it or every https form here is refused. No Origin and no
 * Sec-Fetch-Site is allowed: old browsers and API clients send neither, and the token still holds.
 * `Origin: null` counts as no Origin: browsers send it for their own forms under
 * `Referrer-Policy: no-referrer` (helmet's default), and Sec-Fetch-Site then tells the truth.
 */
export function refuseCrossOrigin(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const named = origin !== undefined && origin !== 'null';
  // An Origin that does not parse, or a request without a Host to compare with, is not ours.
  const claimed = named ? originOf(origin) : undefined;
  const foreign = site === 'cross-site' || (named && (claimed === undefined || claimed !== originOf(`${req.protocol}://${req.get('host') ?? ''}`)));
  next(foreign ? new TwoFactorError('csrf', `cross-origin request refused (Origin ${origin ?? 'none'}, Sec-Fetch-Site ${site ?? 'none'})`) : undefined);
}

const isPlainObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

/** Nothing read into it: Express 5 leaves `req.body` undefined, Express 4's parsers leave `{}`. */
const isEmpty = (body: unknown): boolean => body === undefined || (isPlainObject(body) && Object.keys(body as object).length === 0);

/**
 * After the parsers: the readers expect an object of fields. A body no parser read (text, XML,
 * multipart) is a 415 and a parsed one of another shape (a JSON array or scalar, text, from the
 * host's own parsers) a 400 or 415, rather than a TypeError further on that reads as an outage.
 */
function requireFieldsBody(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  // body-parser (ours or the host's) sets `_body` once it has read a body.
  const read = (req as { _body?: unknown })._body === true;
  if (hasBody && !read && isEmpty(req.body)) {
    next(new TwoFactorError('bad_request', `unsupported body type ${req.headers['content-type'] ?? 'none'}`, { status: 415 }));
    return;
  }
  if (req.body === undefined) req.body = {};
  if (isPlainObject(req.body)) {
    next();
    return;
  }
  const text = typeof req.body === 'string' || Buffer.isBuffer(req.body);
  next(new TwoFactorError('bad_request', 'the body is not an object of fields', text ? { status: 415 } : {}));
}

/** Form and JSON bodies read, anything else refused: what every router of ours reads fields from. */
export function formBodies(): RequestHandler[] {
  return [express.urlencoded(FORM_LIMITS), express.json(JSON_LIMITS), requireFieldsBody];
}

/** What every router of ours puts in front of its forms: the origin check, the bodies, then CSRF. */
export function formProtection(): RequestHandler[] {
  return [refuseCrossOrigin, ...formBodies(), createCsrf().csrfSynchronisedProtection];
}
