import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { generateSecret, generateURI, OTP, ScureBase32Plugin } from 'otplib';
import QRCode from 'qrcode';

/** 30-second steps, 6 digits, SHA-1: what every authenticator app understands. */
export const TOTP_PERIOD_SECONDS = 30;
/** One step of drift either way: a code from the previous or next 30 s still counts. */
const TOLERANCE_SECONDS = TOTP_PERIOD_SECONDS;
/**
 * One otplib instance, with Node's own HMAC rather than its default pure-JavaScript one, and
 * the secret decoded once per check: otplib's functions build their options and safety limits,
 * and decode a base32 secret, for each of the up to three steps a check tries.
 */
const otp = new OTP({ crypto: new NodeCryptoPlugin() });
const base32 = new ScureBase32Plugin();
const CODE_SHAPE = { 6: /^\d{6}$/, 8: /^\d{8}$/ } as const;

/** A fresh base32 secret of 20 bytes (160 bits, RFC 4226's recommendation). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** A Google-Authenticator-compatible `otpauth://totp/Issuer:account?...` URI. */
export function totpUri(issuer: string, accountName: string, secret: string): string {
  return generateURI({ issuer, label: accountName, secret, period: TOTP_PERIOD_SECONDS, digits: 6 });
}

/** The QR code of the URI as an SVG document, rendered here: no third-party image service. */
export function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** The secret in groups of four for typing by hand. */
export function groupForTyping(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

/**
 * Checks a six-digit code at `nowMs` with one step of drift either way. Returns the accepted
 * time step, which the caller must claim atomically in the store (a step accepted once is
 * never accepted again), or `undefined` when the code is wrong. otplib compares in constant time.
 */
export async function checkTotp(secret: string | Uint8Array, code: string, nowMs: number, digits: 6 | 8 = 6): Promise<number | undefined> {
  // otplib throws on a malformed token instead of answering "invalid": callers validate first.
  if (!CODE_SHAPE[digits].test(code)) return undefined;
  const result = await otp.verify({
    secret: typeof secret === 'string' ? base32.decode(secret) : secret,
    token: code,
    digits,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
