import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { consoleNotify } from '../../examples/portal/notify.js';
import { botAdminFinds, e2eSuite, enrolAuthenticatorInBrowser, eventually, heading, Journey, signInWithPassword } from './helpers.js';

describe('browser journeys: "This wasn\'t me"', function () {
  this.timeout(60_000);
  // The example portal's own console notification, its lines kept: the journey follows the
  // link as the person would from that mail.
  const printed: string[] = [];
  const e2e = e2eSuite({ prefix: 'e2e-not-me:', secondFactor: { notify: consoleNotify(() => e2e.portal.url, (line) => void printed.push(line)) } });

  it('the mail\'s link, confirmed in another browser, signs the person out everywhere, locks their second factor, and the admin sees "Needs review"', async () => {
    const gia = await Journey.open(e2e.browser, e2e.portal.url);
    let link = '';
    try {
      await signInWithPassword(gia, 'globex.ops');
      await enrolAuthenticatorInBrowser(gia);
      const mailLine = () => printed.find((line) => line.startsWith('[notify] would email gia@globex.example about enrolled'));
      await eventually(async () => mailLine() !== undefined, 5_000, 'the enrolment is notified');
      const full = / — not you\? (\S+)$/.exec(mailLine()!)?.[1] ?? '';
      assert.equal(new URL(full).origin, new URL(e2e.portal.url).origin, `a full link on the portal's origin: ${mailLine()}`);
      link = new URL(full).pathname;
      assert.match(link, /^\/2fa\/not-me\//, 'with a link');

      // The real Gia reads the mail on another device, signed out there.
      const mail = await Journey.open(e2e.browser, e2e.portal.url);
      try {
        await mail.visit(link, { screenshot: 'not-me-1-confirm' });
        assert.equal(await heading(mail.page), 'Was this you?');
        assert.match(await mail.page.locator('main').innerText(), /Two-step verification was set up on your account on \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);
        await mail.navigate(() => mail.page.getByRole('button', { name: 'This wasn’t me — secure my account' }).click(), { screenshot: 'not-me-2-secured' });
        assert.equal(await heading(mail.page), 'Your account is secured');
        assert.match(await mail.page.getByRole('status').innerText(), /an administrator will review it/);
        // The same link again: spent.
        await mail.visit(link, { status: 410 });
        assert.match(await mail.alertText(), /already used or has expired/);
      } finally {
        await mail.close();
      }

      // The browser that enrolled is signed out...
      await gia.visit('/dashboard');
      assert.equal(gia.path, '/login');
      // ...and the password alone leads nowhere until an admin reviews.
      await signInWithPassword(gia, 'globex.ops', { status: 423 });
      assert.match(await gia.alertText(), /Two-step verification is locked until an administrator reviews your account/);
    } finally {
      await gia.close();
    }

    const admin = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = admin;
    try {
      const row = await botAdminFinds(admin, 'Gia', /Gia Globex/, { screenshot: 'not-me-3-admin' });
      assert.match(await row.innerText(), /Needs review/);
      assert.equal(await row.getByRole('link', { name: /Reset 2FA/ }).count(), 1, 'the admin can reset, which lifts the lock');
    } finally {
      await admin.close();
    }
    assert.ok(e2e.portal.events.some((e) => e.type === 'not_me' && e.userId === 'u10'), 'a not_me event');
  });
});
