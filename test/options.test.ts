import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { MemoryStore, secondFactor, TwoFactorError, type SecondFactorOptions } from '../src/index.js';

const quiet = { info() {}, warn() {}, error() {} };
const key = Buffer.alloc(32, 7).toString('base64');

function startupError(options: unknown): TwoFactorError {
  try {
    secondFactor(options as SecondFactorOptions);
  } catch (error) {
    assert.ok(error instanceof TwoFactorError, `expected TwoFactorError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_option');
    return error;
  }
  assert.fail('secondFactor() accepted bad options');
}

describe('options checked at start-up', () => {
  it('names a misspelled option and suggests the right one', () => {
    const error = startupError({ isuer: 'Acme', logger: quiet });
    assert.match(error.message, /unknown option "isuer"; did you mean "issuer"\?/);
    assert.match(startupError({ issuer: 'Acme', lockoutSecond: 5, logger: quiet }).message, /did you mean "lockoutSeconds"/);
  });

  it('names a required option that is missing', () => {
    assert.match(startupError({ logger: quiet }).message, /option "issuer" is required/);
  });

  it('names an option of the wrong type or range and shows the value', () => {
    assert.match(startupError({ issuer: 'Acme', maxFailedAttempts: -1, logger: quiet }).message, /option "maxFailedAttempts" must be .*\(got -1\)/);
    assert.match(startupError({ issuer: 'Acme', basePath: 'https://evil.example', logger: quiet }).message, /option "basePath" must be a path/);
    assert.match(startupError({ issuer: 'Acme', store: {}, logger: quiet }).message, /option "store" must implement TwoFactorStore/);
    assert.match(startupError({ issuer: 'Acme', userId: 'id', logger: quiet }).message, /option "userId" must be a function/);
  });

  it('never echoes an encryption key that is wrong', () => {
    const error = startupError({ issuer: 'Acme', encryptionKey: 'too-short-secret-value', logger: quiet });
    assert.match(error.message, /option "encryptionKey" must be 32 bytes/);
    assert.doesNotMatch(error.message, /too-short-secret-value/);
  });

  it('refuses to run in production without an encryption key', () => {
    const error = startupError({ issuer: 'Acme', production: true, store: new MemoryStore(), allowMemoryStoreInProduction: true, logger: quiet });
    assert.match(error.message, /"encryptionKey" is required in production/);
  });

  it('refuses a memory store in production unless explicitly allowed', () => {
    assert.match(startupError({ issuer: 'Acme', production: true, encryptionKey: key, logger: quiet }).message, /"store" is required in production/);
    assert.match(
      startupError({ issuer: 'Acme', production: true, encryptionKey: key, store: new MemoryStore(), logger: quiet }).message,
      /MemoryStore in production/,
    );
    const sms = { send: async () => ({ id: 'sent' }) };
    assert.doesNotThrow(() => secondFactor({ issuer: 'Acme', production: true, encryptionKey: key, store: new MemoryStore(), allowMemoryStoreInProduction: true, sms, logger: quiet }));
  });

  it('warns, in development, that a generated key does not survive a restart', () => {
    const warnings: string[] = [];
    secondFactor({ issuer: 'Acme', production: false, logger: { ...quiet, warn: (m: string) => warnings.push(m) } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /random key/);
  });

  it('explains misuse as middleware', () => {
    const fakeRequest = { method: 'GET', url: '/', headers: {} };
    assert.match(startupError(fakeRequest).message, /call it first/);
  });

  it('does not mutate the options object it was given', () => {
    const options = Object.freeze({ issuer: 'Acme', encryptionKey: key, logger: quiet });
    assert.doesNotThrow(() => secondFactor(options));
  });
});
