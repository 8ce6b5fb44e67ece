import type { TwoFactorError } from '../errors.js';
import { errorMessageKey } from './messages.js';
import type { PageData } from './render.js';

export type PageError = NonNullable<PageData['error']>;

export function errorFor(error: TwoFactorError): PageError {
  const seconds = error.retryAfterSeconds;
  return { key: errorMessageKey(error.code), ...(seconds === undefined ? {} : { params: { seconds, minutes: Math.ceil(seconds / 60) } }) };
}
