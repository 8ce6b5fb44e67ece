import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { enrolAuthenticatorInBrowser, e2eSuite, heading, Journey, signInWithPassword } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

describe('browser journeys: a firm’s own policy', function () {
  this.timeout(90_000);
  const e2e = e2eSuite({
    prefix: 'e2e-firm-policy:',
    secondFactor: { policy: { mode: 'optional', roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' } } },
  });

  it('7. a partner admin sets a skip deadline for their firm, sees the preview and saves; their client sees the countdown on “Skip for now”', async () => {
    // Twelve days from today (UTC, the portal's zone): the last day the skip is offered.
    const lastDay = new Date(Date.now() + 12 * DAY);
    const date = lastDay.toISOString().slice(0, 10);
    const shownDay = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long' }).format(lastDay);

    const partner = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = partner;
    try {
      await signInWithPassword(partner, 'northwind.admin');
      await enrolAuthenticatorInBrowser(partner);
      await partner.navigate(() => page.getByRole('link', { name: 'Your firm’s 2FA policy' }).click(), { screenshot: 'policy-firm-1-page' });
      assert.equal(await heading(page), 'Two-step verification for your firm');
      assert.match(await page.locator('main').innerText(), /Your firm: Northwind Partners/);

      await page.getByRole('radio', { name: 'Optional', exact: true }).check();
      await page.getByRole('radio', { name: 'Until the end of a date' }).check();
      await page.getByLabel('Last day (YYYY-MM-DD, in UTC)').fill(date);
      await partner.navigate(() => page.getByRole('button', { name: 'Save the firm’s setting' }).click(), { screenshot: 'policy-firm-2-preview' });
      assert.match(await page.locator('main').innerText(), /Check this change before you save it/);
      assert.match(await page.locator('main').innerText(), new RegExp(`People may skip until the end of ${date} \\(UTC\\)`));
      // The dry run counts the firm and its client as the deadline passes: everyone of them
      // but the partner admin (enrolled above) would have to set up two-step verification.
      const dryRun = page.locator('[data-dry-run-stopped]');
      assert.equal(await dryRun.getAttribute('data-dry-run-stopped'), '3');
      assert.match(await dryRun.innerText(), new RegExp(`once the deadline has passed \\(${date} is the last day to skip\\)`));
      assert.match(await dryRun.innerText(), /Abe Acme/, 'the list names them');
      await partner.navigate(() => page.getByRole('button', { name: 'Save this change' }).click());
      assert.match(await page.getByRole('status').first().innerText(), /Saved/);
      assert.match(await page.locator('main').innerText(), /Your firm’s setting: Optional/);
    } finally {
      await partner.close();
    }

    const client = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await signInWithPassword(client, 'acme.ops', { screenshot: 'policy-firm-3-countdown' });
      assert.equal(client.path, '/2fa/enrol');
      const skip = client.page.getByRole('button', { name: 'Skip for now' });
      assert.ok(await skip.isVisible(), 'the firm’s optional mode offers the skip');
      assert.match(await client.page.locator('main').innerText(), new RegExp(`You can skip until ${shownDay} \\(12 days left\\)\\.`));
      await client.navigate(() => skip.click());
      assert.equal(client.path, '/dashboard');
    } finally {
      await client.close();
    }
  });
});
