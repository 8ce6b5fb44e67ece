import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkTotp, groupForTyping, newTotpSecret, totpUri } from '../src/factors/totp/otp.js';
import { readCode } from '../src/web/input.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const rfcSecret = new TextEncoder().encode('12345678901234567890');

describe('TOTP code path', () => {
  it('passes the RFC 6238 Appendix B vectors at a frozen clock (6 digits)', async () => {
    const vectors: Array<[number, string]> = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
    ];
    for (const [seconds, code] of vectors) {
      const step = await checkTotp(rfcSecret, code, seconds * 1000);
      assert.equal(step, Math.floor(seconds / 30), `t=${seconds} code ${code}`);
    }
  });

  it('passes the 8-digit RFC 6238 vector at t=59', async () => {
    assert.equal(await checkTotp(rfcSecret, '94287082', 59_000, 8), 1);
  });

  it('accepts one step of drift either way and no more', async () => {
    const at = 1111111109_000;
    assert.equal(await checkTotp(rfcSecret, '081804', at + 30_000), 37037036, 'previous step still accepted');
    assert.equal(await checkTotp(rfcSecret, '081804', at - 30_000), 37037036, 'next step already accepted');
    assert.equal(await checkTotp(rfcSecret, '081804', at + 61_000), undefined, 'two steps late is refused');
  });

  it('refuses wrong and malformed codes without throwing', async () => {
    assert.equal(await checkTotp(rfcSecret, '287083', 59_000), undefined);
    for (const bad of ['', '28708', '2870822', 'abcdef', '28708a']) {
      assert.equal(await checkTotp(rfcSecret, bad, 59_000), undefined, bad);
    }
  });

  it('makes 160-bit base32 secrets and a Google Authenticator URI', () => {
    const secret = newTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(secret, newTotpSecret());
    const uri = new URL(totpUri('Acme Portal', 'ada@acme.example', secret));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Acme Portal:ada@acme.example');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('issuer'), 'Acme Portal');
    assert.equal(groupForTyping('ABCDEFGHIJ'), 'ABCD EFGH IJ');
  });

  it('reads typed codes leniently but only as six digits', () => {
    assert.equal(readCode(' 123 456 '), '123456');
    assert.equal(readCode('123-456'), '123456');
    for (const bad of [undefined, 123456, ['123456'], '12345', '1234567', 'l23456', '1'.repeat(40)]) {
      assert.throws(() => readCode(bad), { code: 'malformed_code' }, String(bad));
    }
  });
});
