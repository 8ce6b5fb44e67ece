import { createHash } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { PasskeyCredential } from '../../store/types.js';

/**
 * The server side of the passkey / security key factor (WebAuthn), over @simplewebauthn/server.
 * Pure: no Express, no store, no clock of its own (`now` comes in). The caller keeps the
 * challenge of each ceremony (in the session), hands it back once, and forgets it whatever the
 * outcome: a challenge is single-use, which is what makes a replayed response fail.
 */

/** One registered credential (defined with the record it is stored in: store/types.ts). */
export type StoredPasskey = PasskeyCredential;

/** The site as WebAuthn sees it. */
export interface RelyingParty {
  /** The RP ID: a registrable domain ("example.com", "localhost"), never an IP address. */
  id: string;
  /** Shown by some authenticators when a passkey is made. */
  name: string;
  /** The exact origins pages are served from ("https://example.com"); anything else is refused. */
  origins: readonly string[];
  userVerification: 'required' | 'preferred' | 'discouraged';
}

export type RegistrationResult =
  | { readonly ok: true; readonly credential: StoredPasskey }
  /**
   * `invalid`: not a valid registration for this challenge, origin and RP (any malformation too).
   * `duplicate`: the credential is already one of `existing`.
   * `too_large`: valid, but its id and key would not fit the compact record (see MAX_STORED_BYTES).
   */
  | { readonly ok: false; readonly reason: 'invalid' | 'duplicate' | 'too_large' };

export type AuthenticationResult =
  | { readonly ok: true; readonly credential: StoredPasskey }
  | { readonly ok: false; readonly reason: 'invalid' | 'unknown_credential' | 'counter' };

/**
 * Algorithms offered and accepted: EdDSA, ES256, RS256. Named rather than the library's default,
 * which adds ML-DSA-44 where the runtime has it: its 1.3 KB public keys alone would break the
 * record's 1 KiB budget, and a runtime upgrade should not change what is accepted.
 */
const ALGORITHMS = [-8, -7, -257];

/** Transports worth remembering; anything else a client sends is dropped, not stored. */
const KNOWN_TRANSPORTS: readonly string[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

/** A credential id longer than this (bytes; the spec allows 1023) is refused as `too_large`. */
const MAX_CREDENTIAL_ID_BYTES = 255;
/** The JSON of one StoredPasskey must fit in this many bytes (a whole record stays under 1 KiB). */
export const MAX_STORED_BYTES = 800;

/**
 * Caps on what a browser may send, checked before the library sees anything: a response is a
 * few hundred bytes to a few KB ('none' attestation carries no certificates), so a bigger one
 * is junk, refused without decoding it.
 */
const LIMITS = { json: 32_768, id: 1_400, clientData: 4_096, attestation: 16_384, authData: 4_096, signature: 2_048, userHandle: 128 };

/** The person's opaque user handle: 32 bytes of SHA-256 of the user id, never the id itself. */
export function userHandle(userId: string): Uint8Array<ArrayBuffer> {
  // The handle is stored by the authenticator and returned in assertions; hashing keeps an email
  // address (a common user id) off the authenticator while staying stable for the same person.
  return Uint8Array.from(createHash('sha256').update(`passport-second-factor:webauthn:${userId}`).digest());
}

/** Options for `startRegistration`, and the challenge to keep until the response comes back. */
export async function registrationOptions(
  rp: RelyingParty,
  input: { userId: string; userName: string; displayName: string; existing: readonly StoredPasskey[] },
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }> {
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: userHandle(input.userId),
    userName: input.userName,
    userDisplayName: input.displayName,
    // 'none': the site trusts any authenticator, so it keeps no attestation (nor its certificates).
    attestationType: 'none',
    // The same key twice is refused by the browser itself, before anything is made.
    excludeCredentials: input.existing.map(descriptor),
    // 'preferred': a passkey where the authenticator can make one, a plain security key otherwise.
    authenticatorSelection: { residentKey: 'preferred', userVerification: rp.userVerification },
    supportedAlgorithmIDs: ALGORITHMS,
  });
  return { options, challenge: options.challenge };
}

/**
 * Checks a registration response (the browser's `startRegistration` result, as an object or as
 * the JSON text of the form's hidden field) against the challenge of the options it answered.
 * Never throws for what a client sent and never returns the library's error text: a reason code.
 * `name` goes through {@link passkeyName}; when it is not a valid name the default name is used
 * (the authenticator already made the key: callers validate the name first to report it).
 */
export async function checkRegistration(
  rp: RelyingParty,
  input: { response: unknown; expectedChallenge: string; name: string; now: number; existing?: readonly StoredPasskey[] },
): Promise<RegistrationResult> {
  const response = registrationShape(parseResponse(input.response));
  if (!response || !input.expectedChallenge) return { ok: false, reason: 'invalid' };
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: rp.userVerification === 'required',
      supportedAlgorithmIDs: ALGORITHMS,
    });
  } catch {
    // The library throws for every mismatch (challenge, origin, RP ID, flags, CBOR, algorithm).
    return { ok: false, reason: 'invalid' };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid' };
  const info = verified.registrationInfo;
  const credential: StoredPasskey = {
    id: info.credential.id,
    publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
    counter: info.credential.counter,
    ...transportsOf(info.credential.transports),
    backedUp: info.credentialBackedUp,
    deviceType: info.credentialDeviceType,
    name: passkeyName(input.name) ?? defaultPasskeyName(input.now),
    createdAt: input.now,
  };
  if (input.existing?.some((known) => known.id === credential.id)) return { ok: false, reason: 'duplicate' };
  if (base64urlByteLength(credential.id) > MAX_CREDENTIAL_ID_BYTES) return { ok: false, reason: 'too_large' };
  if (Buffer.byteLength(JSON.stringify(credential)) > MAX_STORED_BYTES) return { ok: false, reason: 'too_large' };
  return { ok: true, credential };
}

/** Options for `startAuthentication` limited to this person's credentials, and the challenge to keep. */
export async function authenticationOptions(
  rp: RelyingParty,
  input: { allow: readonly StoredPasskey[] },
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: string }> {
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    // Listing the credentials makes this a second factor for a known person (no account picker)
    // and, with the transports, lets the browser go straight to the right authenticator.
    allowCredentials: input.allow.map(descriptor),
    userVerification: rp.userVerification,
  });
  return { options, challenge: options.challenge };
}

/**
 * Checks an authentication response against the challenge and THIS person's credentials only.
 * On success, returns the credential with its new counter, backup state and `lastUsedAt`, which
 * the caller saves. The library checks the challenge, origin, RP ID, flags and signature; the
 * counter is checked here, after the signature, so `counter` is reported only for a genuine
 * signature whose counter did not move forward (a cloned authenticator, or a replay).
 */
export async function checkAuthentication(
  rp: RelyingParty,
  input: { response: unknown; expectedChallenge: string; credentials: readonly StoredPasskey[]; now: number },
): Promise<AuthenticationResult> {
  const response = authenticationShape(parseResponse(input.response));
  if (!response || !input.expectedChallenge) return { ok: false, reason: 'invalid' };
  const stored = input.credentials.find((credential) => credential.id === response.id);
  if (!stored) return { ok: false, reason: 'unknown_credential' };
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      // Counter 0 turns the library's own counter check off; ours below runs after the signature.
      credential: { id: stored.id, publicKey: isoBase64URL.toBuffer(stored.publicKey), counter: 0, transports: stored.transports },
      requireUserVerification: rp.userVerification === 'required',
    });
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid' };
  const { newCounter, credentialBackedUp, credentialDeviceType } = verified.authenticationInfo;
  // WebAuthn §6.1.1: a counter that is used (either value non-zero) must increase.
  if ((newCounter > 0 || stored.counter > 0) && newCounter <= stored.counter) return { ok: false, reason: 'counter' };
  return {
    ok: true,
    credential: { ...stored, counter: newCounter, backedUp: credentialBackedUp, deviceType: credentialDeviceType, lastUsedAt: input.now },
  };
}

/**
 * The name a person gave a key: trimmed (and NFC-normalised), 1 to 64 characters (code points),
 * with no control, line-separator or bidirectional-override characters (which could make one
 * name look like another in the list). `undefined` when empty or not acceptable: the caller
 * shows an error, or uses {@link defaultPasskeyName} for an empty field.
 */
export function passkeyName(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 1_024) return undefined;
  const name = input.normalize('NFC').trim();
  const length = [...name].length;
  if (length < 1 || length > 64) return undefined;
  if (/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(name)) return undefined;
  return name;
}

/**
 * The name of a key the person did not name: "Passkey 2025-01-31" (`label` and the UTC date of
 * `now`). ISO dates read the same in every language; pass a translated `label` (the message
 * `passkey.defaultName`) to have it in the person's language.
 */
export function defaultPasskeyName(now: number, label = 'Passkey'): string {
  return `${label} ${new Date(now).toISOString().slice(0, 10)}`;
}

/** base64url helpers, re-exported so callers need not import the library's helpers themselves. */
export const base64url = {
  fromBytes: (bytes: Uint8Array<ArrayBuffer>): string => isoBase64URL.fromBuffer(bytes),
  toBytes: (text: string): Uint8Array<ArrayBuffer> => isoBase64URL.toBuffer(text),
  isValid: (text: string): boolean => isoBase64URL.isBase64URL(text),
};

// --- internals -------------------------------------------------------------------------------

function descriptor(credential: StoredPasskey): { id: string; transports?: string[] } {
  return { id: credential.id, ...transportsOf(credential.transports) };
}

/** Known transports only, each once, at most seven; no key at all when there are none. */
function transportsOf(transports: readonly unknown[] | undefined): { transports?: string[] } {
  const known = KNOWN_TRANSPORTS.filter((transport) => transports?.includes(transport));
  return known.length > 0 ? { transports: known } : {};
}

function base64urlByteLength(text: string): number {
  return Math.floor((text.replace(/=+$/, '').length * 3) / 4);
}

/**
 * The response as an object: the form field's JSON text is parsed, objects (a JSON body parsed
 * by the host) pass; either way no bigger than LIMITS.json, so junk is refused before any work.
 */
function parseResponse(input: unknown): unknown {
  if (typeof input !== 'string') return withinBudget(input, LIMITS.json, 0) >= 0 ? input : undefined;
  if (input.length > LIMITS.json) return undefined;
  try {
    return JSON.parse(input);
  } catch {
    return undefined;
  }
}

/**
 * What is left of `budget` (characters, roughly as JSON) after `value`, or -1 when it does not
 * fit or nests deeper than a WebAuthn response does. Stops walking as soon as it is over.
 */
function withinBudget(value: unknown, budget: number, depth: number): number {
  if (budget < 0 || depth > 6) return -1;
  if (typeof value === 'string') return budget - value.length - 2;
  if (typeof value !== 'object' || value === null) return budget - 8;
  let left = budget;
  for (const [key, item] of Object.entries(value)) {
    left = withinBudget(item, left - key.length - 4, depth + 1);
    if (left < 0) return -1;
  }
  return left;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A base64url string of at most `max` characters, or undefined. */
function b64(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max && /^[A-Za-z0-9_-]+={0,2}$/.test(value) ? value : undefined;
}

/**
 * The fields both kinds of response share, copied into a fresh object: the library then sees
 * only well-typed, bounded strings (no getters, no prototype tricks, no megabyte extras).
 */
function commonShape(value: unknown): { id: string; response: Record<string, unknown>; clientDataJSON: string } | undefined {
  if (!isRecord(value) || value.type !== 'public-key' || !isRecord(value.response)) return undefined;
  const id = b64(value.id, LIMITS.id);
  if (!id || value.rawId !== id) return undefined;
  const clientDataJSON = b64(value.response.clientDataJSON, LIMITS.clientData);
  return clientDataJSON ? { id, response: value.response, clientDataJSON } : undefined;
}

function registrationShape(value: unknown): RegistrationResponseJSON | undefined {
  const common = commonShape(value);
  if (!common) return undefined;
  const attestationObject = b64(common.response.attestationObject, LIMITS.attestation);
  if (!attestationObject) return undefined;
  const sent = common.response.transports;
  const transports = Array.isArray(sent) && sent.length <= 16 ? transportsOf(sent) : {};
  return {
    id: common.id,
    rawId: common.id,
    type: 'public-key',
    response: { clientDataJSON: common.clientDataJSON, attestationObject, ...transports },
    clientExtensionResults: {},
  };
}

function authenticationShape(value: unknown): AuthenticationResponseJSON | undefined {
  const common = commonShape(value);
  if (!common) return undefined;
  const authenticatorData = b64(common.response.authenticatorData, LIMITS.authData);
  const signature = b64(common.response.signature, LIMITS.signature);
  if (!authenticatorData || !signature) return undefined;
  const sentHandle = common.response.userHandle;
  const userHandle = sentHandle === undefined || sentHandle === null || sentHandle === '' ? undefined : b64(sentHandle, LIMITS.userHandle);
  if (sentHandle && !userHandle) return undefined;
  return {
    id: common.id,
    rawId: common.id,
    type: 'public-key',
    response: { clientDataJSON: common.clientDataJSON, authenticatorData, signature, ...(userHandle ? { userHandle } : {}) },
    clientExtensionResults: {},
  };
}
