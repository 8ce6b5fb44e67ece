import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The keys everything at rest is protected with, derived once from the host's
 * `encryptionKey`: one for AES-256-GCM (TOTP secrets, phone numbers), one for keyed hashes
 * (text-message codes, recovery codes, remembered-device tokens).
 */
export interface SecretBox {
  /** Encrypts `plain`, bound to `context` (the user id): a ciphertext moved to another user fails. */
  seal(plain: string, context: string): string;
  /** Decrypts what `seal` produced with the same context; throws when it was tampered with. */
  open(sealed: string, context: string): string;
  /** A keyed hash (HMAC-SHA-256, base64url). */
  hash(value: string): string;
  /** Compares a value with a stored keyed hash in constant time. */
  matches(value: string, storedHash: string): boolean;
}

const VERSION = 'v1';

/** Accepts 32 raw bytes, or a string of 64 hex digits or of base64/base64url for 32 bytes. */
export function decodeEncryptionKey(key: string | Uint8Array): Buffer | undefined {
  if (typeof key !== 'string') return key.length === 32 ? Buffer.from(key) : undefined;
  const text = key.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

export function createSecretBox(masterKey: Buffer): SecretBox {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
  const encryptionKey = derive('passport-second-factor/encrypt/v1');
  const hashKey = derive('passport-second-factor/hash/v1');

  const hash = (value: string) => createHmac('sha256', hashKey).update(value, 'utf8').digest('base64url');

  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format');
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
    hash,
    matches(value, storedHash) {
      return constantTimeEqual(hash(value), storedHash);
    },
  };
}

/** Equal-length-independent constant-time comparison of two strings. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Compare against itself when lengths differ so the time does not depend on where they differ.
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** A random id (128 bits, base64url) for enrolments, devices and code bindings. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * The id of one enrolment (remembered devices and recovery codes are bound to it): 96 random
 * bits, 16 characters, kept in every person's record, so shorter than the 128-bit ids of
 * things that live minutes. It only has to differ from the person's other enrolments.
 */
export const newFactorId = (): string => randomId(12);
