import util from 'node:util';
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { secondFactor, TwoFactorError, type SecondFactorOptions, type TwoFactorEvent } from 'passport-second-factor';
import { codeAt, csrfFrom, enrolTotp, signIn, signOut, startPortal, submitCode, totpKeyFrom } from './helpers/portal.js';

const quiet = { info() {}, warn() {}, error() {} };

function startupError(options: Record<string, unknown>): TwoFactorError {
  try {
    secondFactor({ issuer: 'Acme', logger: quiet, ...options } as SecondFactorOptions);
  } catch (error) {
    assert.ok(error instanceof TwoFactorError, `expected TwoFactorError, got ${String(error)}`);
    return error;
  }
  assert.fail('secondFactor() accepted bad options');
}

describe('notify: telling the person about changes to their sign-in', () => {
  it('is called for enrolment, recovery-code use, method change, lockout and reset, and for nothing else', async () => {
    const notified: Array<{ user: { id: string }; event: TwoFactorEvent }> = [];
    const portal = startPortal({ secondFactor: { maxFailedAttempts: 3, notify: (user, event) => void notified.push({ user, event }) } });

    const abe = portal.agent();
    await signIn(abe, 'acme.ops');
    const { recoveryCodes } = await enrolTotp(abe, portal.clock);
    await signOut(abe);

    const recovering = portal.agent();
    await signIn(recovering, 'acme.ops');
    const entry = await recovering.get('/2fa/recovery');
    await recovering.post('/2fa/recovery').type('form').send({ _csrf: csrfFrom(entry.text), recoveryCode: recoveryCodes[0] }).expect(200);
    const settings = await recovering.get('/2fa/settings');
    await recovering.post('/2fa/settings/method').type('form').send({ _csrf: csrfFrom(settings.text), method: 'totp' }).expect(303);
    const enrol = await recovering.get('/2fa/settings/method/totp');
    const newSecret = totpKeyFrom(enrol.text);
    portal.clock.advance(30);
    await recovering.post('/2fa/settings/method/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: codeAt(newSecret, portal.clock.t) }).expect(200);
    await signOut(recovering);

    const guesser = portal.agent();
    await signIn(guesser, 'acme.ops');
    const wrong = String((Number(codeAt(newSecret, portal.clock.t)) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 3; i += 1) await submitCode(guesser, wrong);

    const admin = portal.agent();
    await signIn(admin, 'bot.admin');
    await enrolTotp(admin, portal.clock);
    const self = await admin.get('/admin/2fa');
    await admin.post('/admin/2fa/users/u1/reset').type('form').send({ _csrf: csrfFrom(self.text) }).expect(404);
    const confirm = await admin.get('/admin/2fa/users/u6/reset').expect(200);
    await admin.post('/admin/2fa/users/u6/reset').type('form').send({ _csrf: csrfFrom(confirm.text), reason: 'Lost their phone' }).expect(303);

    assert.deepEqual(
      notified.map(({ user, event }) => `${user.id} ${event.type}`),
      ['u6 enrolled', 'u6 recovery_code_used', 'u6 method_changed', 'u6 locked', 'u1 enrolled', 'u6 reset'],
    );
    for (const { event } of notified) {
      // The event onEvent got, with the "This wasn't me" link (notMePath) only in notify's copy.
      const { notMePath, ...audited } = event;
      assert.ok(portal.events.some((e) => util.isDeepStrictEqual(e, audited)), `the same event onEvent got: ${event.type}`);
      assert.equal(notMePath !== undefined, ['enrolled', 'method_changed', 'reset'].includes(event.type), `a link only where one is offered: ${event.type}`);
    }
    assert.ok(portal.events.some((e) => e.type === 'failed'), 'failed codes raise events…');
    assert.ok(portal.events.some((e) => e.type === 'reset_refused'), '…and so does a refused reset, neither of which is notified');
  });

  it('logs a notify that throws or rejects, and the sign-in goes on', async () => {
    for (const [notify, logged] of [
      // Called once the link of the notification is stored, so a throw arrives as a rejection.
      [() => { throw new Error('mail server down'); }, /^error second factor: notify rejected for "enrolled": Error: mail server down$/],
      [() => Promise.reject(new Error('mail queue full')), /^error second factor: notify rejected for "enrolled": Error: mail queue full$/],
    ] as const) {
      const portal = startPortal({ secondFactor: { notify } });
      const agent = portal.agent();
      await signIn(agent, 'acme.ops');
      await enrolTotp(agent, portal.clock);
      await agent.get('/dashboard').expect(200);
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(portal.logs.some((line) => logged.test(line)), `logged: ${portal.logs.join(' | ')}`);
      assert.ok(portal.events.some((e) => e.type === 'enrolled'), 'onEvent still got the event');
    }
  });

  it('checks notify, freshSecondFactorSeconds and policy.rememberDeviceDays at start-up, naming them', () => {
    assert.match(startupError({ notify: 'mail' }).message, /option "notify" must be a function/);
    assert.match(startupError({ freshSecondFactorSeconds: 0 }).message, /option "freshSecondFactorSeconds" must be .*\(got 0\)/);
    assert.match(startupError({ policy: { rememberDeviceDays: 400 } }).message, /option "policy.rememberDeviceDays" must be .*\(got 400\)/);
    assert.match(startupError({ policy: { rememberDeviceDays: 1.5 } }).message, /option "policy.rememberDeviceDays"/);
    assert.match(startupError({ policy: { rememberDevicesDays: 30 } }).message, /did you mean "policy.rememberDeviceDays"/);
  });
});
