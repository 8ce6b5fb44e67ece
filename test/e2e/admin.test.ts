import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  e2eSuite,
  enrolAuthenticatorInBrowser,
  enrolAuthenticatorOverHttp,
  heading,
  Journey,
  signInWithPassword,
} from './helpers.js';

describe('browser journeys: admin reset', function () {
  this.timeout(60_000);
  const e2e = e2eSuite({ prefix: 'e2e-admin:' });

  /** Names in the first column of the admin list. */
  const listedNames = async (journey: Journey) =>
    (await journey.page.locator('table.sf-table tbody th[scope="row"]').allInnerTexts()).map((cell) => cell.split('\n')[0]!.trim());

  it('5. a bot admin finds a person, resets their 2FA after a confirmation that names them, and their next sign-in enrols again', async () => {
    await enrolAuthenticatorOverHttp(e2e.portal.url, 'southpaw.ops');

    const admin = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = admin;
    try {
      await signInWithPassword(admin, 'bot.admin');
      await enrolAuthenticatorInBrowser(admin);
      await admin.navigate(() => page.getByRole('link', { name: 'Admin: reset 2FA' }).click());
      assert.equal(await heading(page), 'Reset two-step verification');
      await page.getByLabel('Search by name or email').fill('Sue');
      await admin.navigate(() => page.getByRole('button', { name: 'Search' }).click(), { screenshot: 'admin-1-search' });
      assert.deepEqual(await listedNames(admin), ['Sue South']);
      const row = page.locator('tr', { has: page.getByRole('rowheader', { name: /Sue South/ }) });
      assert.match(await row.innerText(), /Enrolled \(authenticator app\)/);

      await admin.navigate(() => page.getByRole('link', { name: 'Reset 2FA for Sue South' }).click(), { screenshot: 'admin-2-confirm' });
      assert.equal(await heading(page), 'Reset two-step verification for Sue South (sue@southpaw.example)?');
      // The reason is required: the browser holds an empty one back, the server refuses a too short one.
      await page.getByRole('button', { name: 'Reset two-step verification' }).click();
      assert.equal(admin.path, '/admin/2fa/users/u8/reset', 'an empty reason is not sent');
      await page.getByLabel('Reason').fill('ok');
      await admin.navigate(() => page.getByRole('button', { name: 'Reset two-step verification' }).click(), { status: 400 });
      assert.equal(await admin.alertText(), 'Enter a reason of at least 3 characters.');
      assert.equal(await page.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('Reason').fill('New phone, authenticator not moved');
      await admin.navigate(() => page.getByRole('button', { name: 'Reset two-step verification' }).click(), { screenshot: 'admin-3-done' });
      assert.equal(admin.path, '/admin/2fa');
      assert.match(await page.getByRole('status').innerText(), /Two-step verification was reset for Sue South/);
      assert.match(await page.locator('ul.sf-recent').innerText(), /Bea Admin reset two-step verification for Sue South\. Reason: “New phone, authenticator not moved”/);
      const after = page.locator('tr', { has: page.getByRole('rowheader', { name: /Sue South/ }) });
      assert.match(await after.innerText(), /Not enrolled/);

      // The portal-wide switch, from the dashboard (looked at, not changed).
      await admin.visit('/dashboard');
      await admin.navigate(() => page.getByRole('link', { name: 'Portal 2FA setting' }).click());
      assert.equal(await heading(page), 'Two-step verification for the portal');
      assert.ok(await page.getByRole('radio', { name: 'Required for everyone' }).isChecked(), 'the portal requires 2FA');
    } finally {
      await admin.close();
    }

    const sue = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await signInWithPassword(sue, 'southpaw.ops');
      assert.equal(sue.path, '/2fa/enrol', 'after the reset, the next sign-in asks to enrol');
      await enrolAuthenticatorInBrowser(sue);
      assert.match(await sue.page.locator('main').innerText(), /Welcome, Sue South/);
    } finally {
      await sue.close();
    }
  });

  it('5. a partner admin neither sees nor reaches another firm’s people', async () => {
    const partner = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = partner;
    try {
      await signInWithPassword(partner, 'northwind.admin');
      await enrolAuthenticatorInBrowser(partner);
      await partner.navigate(() => page.getByRole('link', { name: 'Admin: reset 2FA' }).click());
      const everyone = await listedNames(partner);
      assert.ok(everyone.length > 0, 'the partner admin sees their own firm');
      assert.ok(everyone.includes('Ned North') && everyone.includes('Abe Acme'), `Northwind and its client are listed (${everyone.join(', ')})`);
      for (const name of ['Sam South', 'Sue South', 'Gil Globex', 'Gia Globex']) assert.ok(!everyone.includes(name), `${name} (another firm) is not listed`);

      await page.getByLabel('Search by name or email').fill('South');
      await partner.navigate(() => page.getByRole('button', { name: 'Search' }).click());
      assert.deepEqual(await listedNames(partner), []);
      assert.match(await page.locator('main').innerText(), /No one you can manage matches\./);

      // Sue South (Southpaw) and Gia Globex (Southpaw's client), by typing the address.
      for (const id of ['u8', 'u10']) {
        await partner.visit(`/admin/2fa/users/${id}/reset`, { status: 404, ...(id === 'u8' ? { screenshot: 'admin-4-partner-not-found' } : {}) });
        assert.equal(await partner.alertText(), 'That page doesn’t exist, or you can’t see it.');
        assert.equal(await page.getByRole('button', { name: 'Reset two-step verification' }).count(), 0, 'no reset button');
      }
    } finally {
      await partner.close();
    }
  });
});
