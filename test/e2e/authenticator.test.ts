import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'mocha';
import {
  appCode,
  e2eSuite,
  enrolAuthenticatorOverHttp,
  heading,
  Journey,
  keyOnPage,
  signInWithPassword,
  wrongCode,
} from './helpers.js';

describe('browser journeys: the authenticator app (required mode)', function () {
  this.timeout(60_000);
  const e2e = e2eSuite({ prefix: 'e2e-totp:' });

  it('1. first sign-in, with the keyboard alone: chooses the app, types the key, confirms, saves the recovery codes, reaches the dashboard', async () => {
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = journey;
    try {
      await signInWithPassword(journey, 'acme.ops', { screenshot: 'authenticator-1-choose' }, { keyboard: true });
      assert.equal(journey.path, '/2fa/enrol');
      assert.equal(await heading(page), 'Set up two-step verification');
      assert.equal(await page.getByRole('button', { name: 'Skip for now' }).count(), 0, 'no "Skip for now" when 2FA is required');

      // The first Tab stop is the skip link, and it shows itself when focused.
      await page.keyboard.press('Tab');
      const skipLink = page.getByRole('link', { name: 'Skip to main content' });
      assert.ok(await journey.isFocused(skipLink), `the skip link is the first Tab stop (focus: ${await journey.focused()})`);
      const box = await skipLink.boundingBox();
      assert.ok(box && box.x >= 0 && box.y >= 0 && box.width > 0, 'the focused skip link is on screen');

      const app = page.getByRole('radio', { name: 'Authenticator app (recommended)' });
      await journey.tabTo(app);
      assert.ok(await app.isChecked(), 'the authenticator app is the preselected choice');
      await journey.tabTo(page.getByRole('button', { name: 'Continue' }));
      await journey.navigate(() => page.keyboard.press('Enter'), { screenshot: 'authenticator-2-enrol' });

      assert.equal(journey.path, '/2fa/enrol/totp');
      assert.equal(await heading(page), 'Set up your authenticator app');
      assert.ok(await page.getByRole('img', { name: /QR code for adding Acme Portal/ }).isVisible(), 'the QR code is shown, named for screen readers');
      assert.equal(await journey.focused(), 'input#code', 'the code field has the focus');
      const key = await keyOnPage(page);
      await page.keyboard.type(appCode(key));
      await journey.navigate(() => page.keyboard.press('Enter'), { screenshot: 'authenticator-3-recovery-codes' });

      assert.equal(await heading(page), 'Save your recovery codes');
      const codes = (await page.getByRole('list', { name: 'Your recovery codes' }).getByRole('listitem').allInnerTexts()).map((c) => c.trim());
      assert.equal(codes.length, 10, `ten recovery codes are shown (got ${codes.length})`);
      assert.equal(new Set(codes).size, 10, 'the recovery codes are all different');
      // Download as text: a link, no script needed.
      await journey.tabTo(page.getByRole('link', { name: 'Download as text' }));
      const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
      assert.equal(download.suggestedFilename(), 'acme-portal-recovery-codes.txt');
      const saved = await readFile(await download.path());
      for (const code of codes) assert.ok(saved.toString('utf8').includes(code), `the downloaded file holds ${code}`);

      await journey.tabTo(page.getByRole('button', { name: /continue/i }));
      await journey.navigate(() => page.keyboard.press('Enter'));
      assert.equal(journey.path, '/dashboard');
      assert.match(await page.locator('main').innerText(), /Welcome, Abe Acme[\s\S]*second factor \(authenticator app\)/);
    } finally {
      await journey.close();
    }
  });

  for (const javaScriptEnabled of [true, false]) {
    const how = javaScriptEnabled ? 'with the keyboard alone' : 'with scripts off';
    it(`2. next sign-in, ${how}: a wrong app code gets a clear alert and keeps the field ready, the right one signs in`, async () => {
      const username = javaScriptEnabled ? 'northwind.ops' : 'southpaw.ops';
      const { key } = await enrolAuthenticatorOverHttp(e2e.portal.url, username);
      const journey = await Journey.open(e2e.browser, e2e.portal.url, { javaScriptEnabled });
      const { page } = journey;
      try {
        await signInWithPassword(journey, username, {}, { keyboard: javaScriptEnabled });
        assert.equal(journey.path, '/2fa/verify');
        assert.equal(await heading(page), 'Two-step verification');
        assert.equal(await journey.focused(), 'input#code', 'the code field has the focus');
        const field = page.getByLabel('6-digit code');

        if (javaScriptEnabled) {
          await page.keyboard.type(wrongCode(key));
          await journey.navigate(() => page.keyboard.press('Enter'), { status: 401, screenshot: 'authenticator-4-wrong-code' });
        } else {
          await field.fill(wrongCode(key));
          await journey.navigate(() => page.getByRole('button', { name: 'Verify' }).click(), { status: 401 });
        }
        assert.equal(await journey.alertText(), 'That code didn’t work. Check the code and try again.');
        assert.equal(await journey.focused(), 'input#code', 'after a wrong code the focus is back on the code field');
        assert.equal(await field.getAttribute('aria-invalid'), 'true');
        assert.match((await field.getAttribute('aria-describedby')) ?? '', /\bsf-error\b/, 'the field is described by the error');
        assert.equal(await field.inputValue(), '', 'the field is empty, ready for the next try');
        assert.ok(await field.isEditable(), 'the field can be typed in');

        if (javaScriptEnabled) {
          await page.keyboard.type(appCode(key));
          await journey.navigate(() => page.keyboard.press('Enter'));
        } else {
          await field.fill(appCode(key));
          await journey.navigate(() => page.getByRole('button', { name: 'Verify' }).click());
        }
        assert.equal(journey.path, '/dashboard');
        assert.match(await page.locator('main').innerText(), /second factor \(authenticator app\)/);
      } finally {
        await journey.close();
      }
    });
  }

  it('2. without the phone: a wrong recovery code gets an alert, a saved one signs in and opens the settings', async () => {
    const { recoveryCodes } = await enrolAuthenticatorOverHttp(e2e.portal.url, 'bot.ops');
    assert.equal(recoveryCodes.length, 10, 'the enrolment showed ten recovery codes');
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = journey;
    try {
      await signInWithPassword(journey, 'bot.ops');
      await journey.navigate(() => page.getByRole('link', { name: 'Use a recovery code' }).click(), { screenshot: 'authenticator-5-recovery-code' });
      assert.equal(await heading(page), 'Use a recovery code');
      assert.equal(await journey.focused(), 'input#recovery-code', 'the recovery code field has the focus');
      const field = page.getByLabel('Recovery code');
      await field.fill('zzzzz-zzzzz');
      await journey.navigate(() => page.getByRole('button', { name: 'Sign in' }).click(), { status: 401 });
      assert.match(await journey.alertText(), /That recovery code didn’t work/);
      assert.equal(await journey.focused(), 'input#recovery-code', 'the field has the focus again');
      await field.fill(recoveryCodes[0]!);
      await journey.navigate(() => page.getByRole('button', { name: 'Sign in' }).click());
      assert.match(await page.getByRole('status').innerText(), /You have 9 recovery codes left\./);

      // The recovery code was a fresh second factor: settings open without asking for another.
      await journey.navigate(() => page.getByRole('link', { name: 'Go to settings' }).click(), { screenshot: 'authenticator-6-settings' });
      assert.equal(await heading(page), 'Two-step verification settings');
      assert.match(await page.locator('main').innerText(), /You have 9 of 10 recovery codes left\./);
      assert.ok(await page.getByRole('button', { name: 'Make new recovery codes' }).isVisible(), 'new recovery codes can be made');
    } finally {
      await journey.close();
    }
  });
});
