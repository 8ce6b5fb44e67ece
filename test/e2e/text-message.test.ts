import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'mocha';
import { e2eSuite, eventually, heading, Journey, signInWithPassword } from './helpers.js';

/** Short, so a journey can wait it out; long enough to try a resend inside it on a slow machine. */
const COOLDOWN_SECONDS = 8;

describe('browser journeys: text messages (US numbers)', function () {
  this.timeout(90_000);
  const e2e = e2eSuite({ prefix: 'e2e-sms:', secondFactor: { resendCooldownSeconds: COOLDOWN_SECONDS } });

  for (const javaScriptEnabled of [true, false]) {
    const username = javaScriptEnabled ? 'acme.ops' : 'globex.ops';
    const last4 = javaScriptEnabled ? '0142' : '0177';
    const number = `+1415555${last4}`;
    const how = javaScriptEnabled ? 'scripts on' : 'scripts off';
    const shot = (name: string) => (javaScriptEnabled ? { screenshot: `text-${name}` } : {});

    it(`3. enrols (415) 555-${last4}, then signs in with a texted code; Resend waits out its cooldown, in the browser and on the server (${how})`, async () => {
      const journey = await Journey.open(e2e.browser, e2e.portal.url, { javaScriptEnabled });
      const { page } = journey;
      const resend = page.getByRole('button', { name: /^Resend/ });
      const codesTo = () => e2e.portal.sms.sent.filter((m) => m.to === number).length;
      /** The page shows the masked number and never the whole one. */
      const assertMasked = async () => {
        const text = await page.locator('main').innerText();
        assert.match(text, new RegExp(`Code sent to xxx-xxx-${last4}\\.`));
        assert.ok(!(await page.content()).includes(`555${last4}`) && !text.includes(`555-${last4}`), 'the whole number is not on the page');
      };
      try {
        // Enrolment.
        await signInWithPassword(journey, username);
        await page.getByRole('radio', { name: 'Text message (US only)' }).check();
        await journey.navigate(() => page.getByRole('button', { name: 'Continue' }).click(), shot('1-phone'));
        assert.equal(journey.path, '/2fa/enrol/sms');
        assert.equal(await journey.focused(), 'input#phone', 'the phone field has the focus');
        await page.getByLabel('US mobile phone number').fill(`(415) 555-${last4}`);
        await journey.navigate(() => page.getByRole('button', { name: 'Text me a code' }).click());
        assert.equal(journey.path, '/2fa/enrol/sms/confirm');
        assert.equal(codesTo(), 1, 'one text went to the number');
        await assertMasked();
        assert.equal(await journey.focused(), 'input#code', 'the code field has the focus');
        await page.getByLabel('6-digit code').fill(e2e.portal.sms.lastCode(number));
        await journey.navigate(() => page.getByRole('button', { name: 'Confirm and continue' }).click());
        assert.equal(await heading(page), 'Save your recovery codes');
        await journey.navigate(() => page.getByRole('button', { name: /continue/i }).click());
        assert.match(await page.locator('main').innerText(), /second factor \(text message\)/);
        await journey.navigate(() => page.getByRole('button', { name: 'Sign out' }).click());
        assert.equal(journey.path, '/login');

        // The next sign-in, at once: the password step texts a code although the enrolment's
        // text was moments ago (the resend cooldown belongs to one sign-in).
        await signInWithPassword(journey, username, shot('2-verify-countdown'));
        assert.equal(journey.path, '/2fa/verify');
        assert.equal(codesTo(), 2, 'the password step texted a code');
        await assertMasked();
        assert.equal(await journey.focused(), 'input#code', 'the code field has the focus');
        const waitText = page.getByText(/^You can ask for a new code in \d+ seconds\.$/);
        assert.ok(await waitText.isVisible(), 'the page says when a new code can be asked for');

        if (javaScriptEnabled) {
          // The button counts down, disabled.
          assert.ok(await resend.isDisabled(), 'Resend is disabled during the cooldown');
          const seconds = async () => Number(/^Resend \((\d+)s\)$/.exec((await resend.innerText()).trim())?.[1]);
          const first = await seconds();
          assert.ok(first > 0 && first <= COOLDOWN_SECONDS, `the button shows the seconds left (${await resend.innerText()})`);
          await eventually(async () => (await seconds()) < first, 3_000, 'the countdown goes down');
          // The server does not rely on the button: the form sent anyway during the cooldown is refused.
          await journey.navigate(() => page.locator('form[action$="/resend"]').evaluate((form: HTMLFormElement) => form.submit()), { status: 429 });
        } else {
          // Without scripts the button stays usable and the server's answer does the explaining.
          assert.ok(await resend.isEnabled(), 'without scripts, Resend is a plain button');
          assert.equal((await resend.innerText()).trim(), 'Resend');
          await journey.navigate(() => resend.click(), { status: 429, screenshot: 'text-3-resend-too-soon-no-script' });
        }
        const alert = await journey.alertText();
        const wait = Number(/^Please wait (\d+) seconds before asking for a new code\.$/.exec(alert)?.[1]);
        assert.ok(wait > 0 && wait <= COOLDOWN_SECONDS, `the 429 page says how long to wait (${alert})`);
        assert.equal(codesTo(), 2, 'nothing was sent during the cooldown');
        assert.equal(await page.getByLabel('6-digit code').getAttribute('aria-invalid'), null, 'a resend too soon does not mark the code field invalid');

        if (javaScriptEnabled) {
          await eventually(() => resend.isEnabled(), (wait + 3) * 1000, 'Resend is enabled again after the countdown');
          assert.equal((await resend.innerText()).trim(), 'Resend');
        } else {
          await sleep(wait * 1000 + 500);
        }
        await journey.navigate(() => resend.click());
        assert.equal(journey.path, '/2fa/verify');
        assert.equal(codesTo(), 3, 'a new code was texted');
        await assertMasked();
        await page.getByLabel('6-digit code').fill(e2e.portal.sms.lastCode(number));
        await journey.navigate(() => page.getByRole('button', { name: 'Verify' }).click());
        assert.equal(journey.path, '/dashboard');
        assert.match(await page.locator('main').innerText(), /second factor \(text message\)/);
      } finally {
        await journey.close();
      }
    });
  }
});
