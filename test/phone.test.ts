import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { maskPhone, normaliseUsPhone } from '../src/factors/sms/phone.js';

describe('US phone numbers', () => {
  for (const typed of ['(415) 555-0123', '415-555-0123', '+1 415 555 0123', '4155550123', '1-415-555-0123', ' 415.555.0123 ', '+14155550123']) {
    it(`reads ${JSON.stringify(typed)} as +14155550123`, () => {
      assert.deepEqual(normaliseUsPhone(typed), { ok: true, e164: '+14155550123', last4: '0123' });
    });
  }

  const problems: Array<[unknown, string]> = [
    ['', 'missing'],
    ['   ', 'missing'],
    [undefined, 'missing'],
    [['4155550123'], 'missing'],
    ['+44 20 7946 0958', 'not_us'],
    ['+33 1 23 45 67 89', 'not_us'],
    ['+1 416 555 0123', 'not_us'],
    ['+1 787 234 5678', 'not_us'],
    ['415 555 012', 'invalid'],
    ['555-0123', 'invalid'],
    ['+1 976 234 5678', 'invalid'],
    ['not a number', 'invalid'],
    ['+1 415 555 0123 ext. 5', 'invalid'],
    ['4'.repeat(41), 'invalid'],
    ['12345', 'short_code'],
    ['911', 'short_code'],
    ['*611', 'short_code'],
    ['+1 900 234 5678', 'premium'],
    ['1-800-234-5678', 'toll_free'],
    ['(888) 555-0123', 'toll_free'],
    ['+1 500 234 5678', 'special'],
  ];
  for (const [typed, problem] of problems) {
    it(`refuses ${JSON.stringify(typed)} as ${problem}`, () => {
      assert.deepEqual(normaliseUsPhone(typed), { ok: false, problem });
    });
  }

  it('masks all but the last four digits', () => {
    assert.equal(maskPhone('9443'), 'xxx-xxx-9443');
    assert.equal(maskPhone('0012'), 'xxx-xxx-0012');
    assert.equal(maskPhone('<b>'), 'xxx-xxx-xxxx');
    assert.equal(maskPhone(''), 'xxx-xxx-xxxx');
  });
});
