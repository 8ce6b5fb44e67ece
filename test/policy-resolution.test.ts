import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  endOfDay,
  firmPath,
  isLooser,
  isStricter,
  modeUnderProposal,
  resolvePolicy,
  skipCountdown,
  type Because,
  type FirmSetting,
  type ModeSetting,
} from '../src/flow/policy-resolution.js';

const DAY = 24 * 60 * 60 * 1000;
const now = Date.UTC(2027, 0, 3, 9, 0, 0);
const soon: ModeSetting = { mode: 'optional', deadline: { kind: 'date', date: '2027-01-15' } };
const passed: ModeSetting = { mode: 'optional', deadline: { kind: 'date', date: '2027-01-01' } };
const roleModes = { 'bot-admin': 'required', 'client-ops': 'optional' } as const;

type Row = [portal: ModeSetting, firm: FirmSetting | undefined, role: string, mode: string, because: Because, skipUntil?: number];

const required: ModeSetting = { mode: 'required' };
const optional: ModeSetting = { mode: 'optional' };
const off: ModeSetting = { mode: 'off' };
const endOf15th = Date.UTC(2027, 0, 16);
const firm = (setting: ModeSetting) => setting as FirmSetting;
const byFirm: Because = { rule: 'firm', firm: 'northwind' };

/** portal × firm × role (× deadline before/after): the effective mode and the rule that decided. */
const table: Row[] = [
  // The portal switch off turns everything off: no firm, no role brings it back.
  [off, undefined, 'client-ops', 'off', { rule: 'portal' }],
  [off, firm(required), 'bot-admin', 'off', { rule: 'portal' }],
  // No firm policy: the existing role overrides, loosening included.
  [required, undefined, 'partner-ops', 'required', { rule: 'portal' }],
  [required, undefined, 'client-ops', 'optional', { rule: 'role', role: 'client-ops' }],
  [optional, undefined, 'bot-admin', 'required', { rule: 'role', role: 'bot-admin' }],
  [optional, undefined, 'partner-ops', 'optional', { rule: 'portal' }],
  // A firm tightens, never loosens.
  [optional, firm(required), 'partner-ops', 'required', byFirm],
  [optional, firm(soon), 'partner-ops', 'optional', byFirm, endOf15th],
  [required, firm(optional), 'partner-ops', 'required', { rule: 'portal' }],
  [soon, firm(optional), 'partner-ops', 'optional', { rule: 'portal' }, endOf15th],
  [required, firm(required), 'client-ops', 'required', byFirm],
  // The role made optional still meets the firm's requirement.
  [required, firm(soon), 'client-ops', 'optional', byFirm, endOf15th],
  // Deadlines before and after.
  [soon, undefined, 'partner-ops', 'optional', { rule: 'portal' }, endOf15th],
  [passed, undefined, 'partner-ops', 'required', { rule: 'deadline', by: 'portal' }],
  [optional, firm(passed), 'partner-ops', 'required', { rule: 'deadline', by: { firm: 'northwind' } }],
  [passed, firm(soon), 'partner-ops', 'required', { rule: 'deadline', by: 'portal' }],
  // The role's optional mode carries the portal's deadline.
  [passed, undefined, 'client-ops', 'required', { rule: 'deadline', by: 'portal' }],
];

describe('policy resolution', () => {
  for (const [portal, firmSetting, role, mode, because, skipUntil] of table) {
    const firms = firmSetting ? [{ firm: 'northwind', setting: firmSetting }] : [];
    it(`portal ${JSON.stringify(portal)}, firm ${JSON.stringify(firmSetting ?? 'none')}, ${role}: ${mode} by ${JSON.stringify(because)}`, () => {
      const result = resolvePolicy({ portal, firms, roleModes, role, now, timeZone: 'UTC' });
      assert.deepEqual(result, { mode, because, ...(skipUntil !== undefined ? { skipUntil } : {}) });
    });
  }

  it('the client firm below a partner firm tightens further, and the earlier deadline wins', () => {
    const result = resolvePolicy({
      portal: optional,
      firms: [
        { firm: 'northwind', setting: { mode: 'optional', deadline: { kind: 'date', date: '2027-02-01' } } },
        { firm: 'northwind/acme', setting: { mode: 'optional', deadline: { kind: 'date', date: '2027-01-15' } } },
      ],
      roleModes: {},
      role: 'client-ops',
      now,
      timeZone: 'UTC',
    });
    assert.deepEqual(result, { mode: 'optional', skipUntil: endOf15th, because: { rule: 'firm', firm: 'northwind/acme' } });
  });

  it('N days count from the first sign-in under the policy, and from now when there was none', () => {
    const days: ModeSetting = { mode: 'optional', deadline: { kind: 'days', days: 14 } };
    const base = { portal: days, firms: [], roleModes: {}, role: 'partner-ops', timeZone: 'UTC' };
    assert.equal(resolvePolicy({ ...base, now }).skipUntil, now + 14 * DAY);
    assert.equal(resolvePolicy({ ...base, now, firstSignInAt: now - 13 * DAY }).skipUntil, now + DAY);
    assert.deepEqual(resolvePolicy({ ...base, now, firstSignInAt: now - 14 * DAY }), { mode: 'required', because: { rule: 'deadline', by: 'portal' } });
  });

  it('firm ids are the prefixes of the tenant path', () => {
    assert.deepEqual(firmPath([]), []);
    assert.deepEqual(firmPath(['northwind', 'acme']), ['northwind', 'northwind/acme']);
  });

  it('tells a looser firm setting from a stricter one', () => {
    assert.equal(isLooser(optional, required), true);
    assert.equal(isLooser(optional, soon), true, 'no deadline is looser than a deadline');
    assert.equal(isLooser({ mode: 'optional', deadline: { kind: 'date', date: '2027-02-01' } }, soon), true, 'a later date');
    assert.equal(isLooser(passed, soon), false, 'an earlier date');
    assert.equal(isLooser(required, soon), false);
    assert.equal(isLooser(optional, off), false, 'anything is within an off portal');
    assert.equal(isStricter(required, optional), true);
    assert.equal(isStricter(soon, undefined), true, 'a new firm deadline');
    assert.equal(isStricter(undefined, required), false, 'removing a firm policy');
    assert.equal(isStricter(required, off), true);
    assert.equal(isStricter(soon, soon), false);
  });

  it('gives the dry run the mode under a proposed policy', () => {
    const proposed = { portal: optional, firms: { northwind: { mode: 'required' as const } }, roleModes, timeZone: 'UTC', now };
    assert.equal(modeUnderProposal({ role: 'client-ops', tenant: ['northwind', 'acme'] }, proposed), 'required');
    assert.equal(modeUnderProposal({ role: 'client-ops', tenant: ['southpaw', 'globex'] }, proposed), 'optional');
    assert.equal(modeUnderProposal({ role: 'bot-admin', tenant: [] }, proposed), 'required');
  });
});

describe('deadline dates across time zones', () => {
  const cases: [zone: string, date: string, endsAt: string][] = [
    ['UTC', '2027-01-15', '2027-01-16T00:00:00.000Z'],
    // Summer in New Zealand: UTC+13, so the 15th ends on the 15th at 11:00 UTC.
    ['Pacific/Auckland', '2027-01-15', '2027-01-15T11:00:00.000Z'],
    ['America/Los_Angeles', '2027-01-15', '2027-01-16T08:00:00.000Z'],
    // Los Angeles springs forward on 14 March 2027: that day ends at midnight PDT (UTC-7).
    ['America/Los_Angeles', '2027-03-14', '2027-03-15T07:00:00.000Z'],
    // The day before, still PST: the day ends at 08:00 UTC.
    ['America/Los_Angeles', '2027-03-13', '2027-03-14T08:00:00.000Z'],
    // Auckland falls back on 4 April 2027 (UTC+13 -> +12): the day ends at midnight NZST.
    ['Pacific/Auckland', '2027-04-04', '2027-04-04T12:00:00.000Z'],
  ];
  for (const [zone, date, endsAt] of cases) {
    it(`${date} in ${zone} ends at ${endsAt}`, () => {
      assert.equal(new Date(endOfDay(date, zone)).toISOString(), endsAt);
    });
  }

  it('the same instant is before the deadline in Los Angeles and after it in Auckland', () => {
    const instant = Date.parse('2027-01-15T12:00:00Z');
    const at = (timeZone: string) => resolvePolicy({ portal: soon, firms: [], roleModes: {}, role: undefined, now: instant, timeZone }).mode;
    assert.equal(at('America/Los_Angeles'), 'optional');
    assert.equal(at('Pacific/Auckland'), 'required');
    assert.equal(at('UTC'), 'optional');
  });

  it('counts the days left in the portal zone and names the last day in the page language', () => {
    assert.deepEqual(skipCountdown(endOfDay('2027-01-15', 'UTC'), now, 'UTC', 'en'), { lastDay: '15 January', daysLeft: 12 });
    assert.deepEqual(skipCountdown(endOfDay('2027-01-15', 'UTC'), now, 'UTC', 'es'), { lastDay: '15 de enero', daysLeft: 12 });
    // 23:30 on the 14th in Auckland is already the 15th there: the last day, today.
    const late = Date.parse('2027-01-14T11:30:00Z');
    assert.deepEqual(skipCountdown(endOfDay('2027-01-15', 'Pacific/Auckland'), late, 'Pacific/Auckland', 'en'), { lastDay: '15 January', daysLeft: 0 });
    assert.equal(skipCountdown(endOfDay('2027-01-15', 'America/Los_Angeles'), late, 'America/Los_Angeles', 'en').daysLeft, 1);
  });
});
