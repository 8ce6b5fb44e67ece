import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { enrolAuthenticatorInBrowser, e2eSuite, heading, Journey, signInWithPassword } from './helpers.js';

describe('browser journeys: optional mode', function () {
  this.timeout(60_000);
  const e2e = e2eSuite({
    prefix: 'e2e-optional:',
    secondFactor: { policy: { mode: 'optional', roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' } } },
  });

  it('4. "Skip for now" signs in, the next sign-in goes straight in; "Enable 2FA" signs out and the next sign-in enrols', async () => {
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = journey;
    const main = () => page.locator('main').innerText();
    try {
      await signInWithPassword(journey, 'globex.ops', { screenshot: 'optional-1-choose-with-skip' });
      assert.equal(journey.path, '/2fa/enrol');
      const skip = page.getByRole('button', { name: 'Skip for now' });
      assert.ok(await skip.isVisible(), 'optional mode offers "Skip for now"');
      assert.match(await main(), /You won’t be asked again at sign-in/, 'the skip button says what skipping means');
      await journey.navigate(() => skip.click());
      assert.equal(journey.path, '/dashboard');
      assert.match(await main(), /Two-step verification is off for your account/);

      await journey.navigate(() => page.getByRole('button', { name: 'Sign out' }).click());
      await signInWithPassword(journey, 'globex.ops');
      assert.equal(journey.path, '/dashboard', 'after a skip, the next sign-in goes straight to the dashboard');

      await journey.navigate(() => page.getByRole('link', { name: 'Enable 2FA' }).click(), { screenshot: 'optional-2-enable' });
      assert.equal(await heading(page), 'Turn on two-step verification');
      assert.match(await main(), /you will be signed out/);
      await journey.navigate(() => page.getByRole('button', { name: 'Sign out and set up' }).click());
      assert.match(await main(), /You are signed out\. At your next sign-in you will set up two-step verification\./);
      await journey.navigate(() => page.getByRole('link', { name: 'Sign in again' }).click());
      assert.equal(journey.path, '/login');

      await signInWithPassword(journey, 'globex.ops');
      assert.equal(journey.path, '/2fa/enrol', 'the next sign-in asks to enrol');
      assert.equal(await page.getByRole('button', { name: 'Skip for now' }).count(), 0, 'no "Skip for now" after asking for 2FA');
      await enrolAuthenticatorInBrowser(journey);
      assert.match(await main(), /second factor \(authenticator app\)/);
    } finally {
      await journey.close();
    }
  });
});
