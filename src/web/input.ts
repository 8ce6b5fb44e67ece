import { TwoFactorError } from '../errors.js';

/**
 * A code as typed: spaces and dashes are ignored, anything else must be exactly `digits`
 * digits. Arrays, objects, oversized and empty values are refused before any evaluation, so
 * they neither count as an attempt nor reach otplib (which throws on them).
 */
export function readCode(value: unknown, digits = 6): string {
  if (typeof value !== 'string' || value.length > 32) {
    throw new TwoFactorError('malformed_code', 'the code is not a short string');
  }
  const code = value.replace(/[\s-]/g, '');
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) {
    throw new TwoFactorError('malformed_code', `the code is not ${digits} digits`);
  }
  return code;
}

/** A single short string form field, or `undefined`. */
export function readField(value: unknown, maxLength = 200): string | undefined {
  return typeof value === 'string' && value.length <= maxLength ? value : undefined;
}
