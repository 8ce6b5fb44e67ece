import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { CDPSession, Page } from 'playwright-core';
import {
  addVirtualKey,
  botAdminFinds,
  e2eSuite,
  enrolAuthenticatorInBrowser,
  heading,
  Journey,
  signInWithPassword,
  startE2ePortal,
  type PageCheck,
  type VirtualKey,
} from './helpers.js';

/**
 * Browser journeys with passkeys and security keys: Chromium's DevTools virtual authenticators
 * stand in for a phone's screen lock (ctap2, internal) and a YubiKey (ctap2, usb). The portal
 * is opened as http://localhost:PORT: an RP ID must be a domain, never an IP address.
 */

const PREFIX = 'e2e-passkey:';

/** A virtual authenticator on the journey's page. */
const addJourneyKey = (journey: Journey, transport: 'internal' | 'usb'): Promise<VirtualKey> => addVirtualKey(journey.context, journey.page, transport);

async function credentialsOn(key: VirtualKey) {
  return (await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId })).credentials;
}

type Credentials = Awaited<ReturnType<typeof credentialsOn>>;

/**
 * The same key in another browser: `credentials` (of another authenticator) on a new one of the
 * same transport (the browser offers a listed credential only to an authenticator of the
 * transports it was registered with).
 */
async function keyWith(credentials: Credentials, transport: 'internal' | 'usb', to: Journey): Promise<VirtualKey> {
  const key = await addJourneyKey(to, transport);
  for (const credential of credentials) await key.cdp.send('WebAuthn.addCredential', { authenticatorId: key.authenticatorId, credential });
  return key;
}

const passkeyButton = (page: Page) => page.getByRole('button', { name: 'Use your passkey or security key' });

/** From the method choice to the gated dashboard with a passkey named `name`. */
async function enrolWithPasskey(journey: Journey, name: string, enrolCheck: PageCheck = {}): Promise<void> {
  const { page } = journey;
  assert.equal(journey.path, '/2fa/enrol', 'enrolment starts at the method choice');
  await page.getByRole('radio', { name: /^Passkey or security key/ }).check();
  await journey.navigate(() => page.getByRole('button', { name: 'Continue' }).click(), enrolCheck);
  assert.equal(journey.path, '/2fa/enrol/passkey');
  assert.equal(await heading(page), 'Set up a passkey or security key');
  await page.getByLabel('Name this key').fill(name);
  await journey.navigate(() => page.getByRole('button', { name: 'Set up passkey or security key' }).click());
  assert.equal(await heading(page), 'Save your recovery codes');
  const codes = await page.getByRole('list', { name: 'Your recovery codes' }).getByRole('listitem').allInnerTexts();
  assert.equal(codes.length, 10, `ten recovery codes are shown (got ${codes.length})`);
  await journey.navigate(() => page.getByRole('button', { name: /continue/i }).click());
  assert.equal(journey.path, '/dashboard', 'the enrolment ends on the page behind the gate');
}

/** The verify page after the password, its passkey button pressed: ends where the assertion leads. */
async function signInWithPasskey(journey: Journey, username: string, verifyCheck: PageCheck = {}, next: PageCheck = {}): Promise<void> {
  await signInWithPassword(journey, username, verifyCheck);
  assert.equal(journey.path, '/2fa/verify');
  assert.equal(await heading(journey.page), 'Use your passkey or security key');
  await journey.navigate(() => passkeyButton(journey.page).click(), next);
}

async function signOut(journey: Journey): Promise<void> {
  await journey.visit('/dashboard');
  await journey.navigate(() => journey.page.getByRole('button', { name: 'Sign out' }).click());
  assert.equal(journey.path, '/login');
}

/** The `response` field of every form post to /2fa/verify this page makes (the browser's assertions). */
function captureAssertions(page: Page): string[] {
  const captured: string[] = [];
  page.on('request', (request) => {
    if (request.method() !== 'POST' || new URL(request.url()).pathname !== '/2fa/verify') return;
    const response = new URLSearchParams(request.postData() ?? '').get('response');
    if (response) captured.push(response);
  });
  return captured;
}

/** Puts `response` in the verify form and submits it, as a browser replaying it would. */
async function postAssertion(journey: Journey, response: string, check: PageCheck): Promise<void> {
  await journey.navigate(
    () =>
      journey.page.evaluate((value) => {
        const form = document.querySelector<HTMLFormElement>('form[data-passkey="authenticate"]')!;
        form.querySelector<HTMLInputElement>('input[name="response"]')!.value = value;
        form.submit();
      }, response),
    check,
  );
}

/** Still not past the gate: the dashboard sends the person back to the second step. */
async function assertNotSignedIn(journey: Journey, who: string): Promise<void> {
  await journey.visit('/dashboard');
  assert.equal(journey.path, '/2fa/verify', `${who} is not signed in: the dashboard asks for the second step`);
}

describe('browser journeys: passkeys and security keys', function () {
  this.timeout(90_000);
  const e2e = e2eSuite({ prefix: PREFIX, passkeys: true });

  it('1. enrols with a passkey, saves the recovery codes, reaches the dashboard; signs in again with it', async () => {
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = journey;
    try {
      const key = await addJourneyKey(journey, 'internal');
      await signInWithPassword(journey, 'acme.ops');
      await enrolWithPasskey(journey, 'MacBook', { screenshot: 'passkey-enrol' });
      assert.match(await page.locator('main').innerText(), /Welcome, Abe Acme/);
      assert.equal((await credentialsOn(key)).length, 1, 'the authenticator holds one credential for the portal');
      assert.ok(e2e.portal.events.some((e) => e.type === 'enrolled' && e.userId === 'u6' && e.method === 'passkey'), 'the enrolment was emitted');

      await signOut(journey);
      await signInWithPasskey(journey, 'acme.ops', { screenshot: 'passkey-verify' });
      assert.equal(journey.path, '/dashboard', 'the key opens the gate');
      assert.match(await page.locator('main').innerText(), /Welcome, Abe Acme/);
      assert.ok(e2e.portal.events.some((e) => e.type === 'verified' && e.userId === 'u6' && e.method === 'passkey'), 'the sign-in was emitted');
    } finally {
      await journey.close();
    }
  });

  it('2. adds a security key beside the passkey, sees both listed, removes one; the last has no remove button', async () => {
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = journey;
    try {
      const phone = await addJourneyKey(journey, 'internal');
      await signInWithPassword(journey, 'northwind.ops');
      await enrolWithPasskey(journey, 'Phone');

      await journey.visit('/2fa/settings');
      assert.equal(await heading(page), 'Two-step verification settings');
      // The key just set up is a fresh second factor: no "confirm it's you" first.
      assert.equal(await passkeyButton(page).count(), 0, 'the settings open without asking for the key again');
      const list = page.getByRole('region', { name: 'Passkeys and security keys' });
      assert.match(await list.innerText(), /You have 1 key set up\.[\s\S]*Phone/);
      assert.equal(await list.getByRole('button', { name: /^Remove/ }).count(), 0, 'the only key has no remove button');

      // The security key is the one at hand now: the phone's authenticator is gone from this browser.
      await phone.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: phone.authenticatorId });
      const yubikey = await addJourneyKey(journey, 'usb');
      await journey.navigate(() => page.getByRole('link', { name: 'Add another passkey or security key' }).click());
      assert.equal(journey.path, '/2fa/settings/passkeys/add');
      assert.equal(await heading(page), 'Set up a passkey or security key');
      await page.getByLabel('Name this key').fill('YubiKey 5');
      await journey.navigate(() => page.getByRole('button', { name: 'Set up passkey or security key' }).click());
      assert.equal(journey.path, '/2fa/settings');
      assert.match(await page.getByRole('status').innerText(), /“YubiKey 5” is set up\./);
      assert.equal((await credentialsOn(yubikey)).length, 1, 'the security key holds the new credential');
      assert.match(await list.innerText(), /You have 2 keys set up\.[\s\S]*Phone[\s\S]*YubiKey 5/);
      assert.equal(await list.getByRole('button', { name: /^Remove/ }).count(), 2, 'each of two keys can be removed');

      await journey.navigate(() => list.getByRole('button', { name: 'Remove Phone' }).click());
      assert.match(await page.getByRole('status').innerText(), /“Phone” was removed\./);
      assert.match(await list.innerText(), /You have 1 key set up\.[\s\S]*YubiKey 5/);
      assert.doesNotMatch(await list.innerText(), /Phone/);
      assert.equal(await list.getByRole('button', { name: /^Remove/ }).count(), 0, 'the last key has no remove button');
      assert.match(await list.innerText(), /This is your only key, so it can’t be removed\./);
      // Nor by posting the form anyway (with this browser's cookies, outside the page): the last
      // key is the second factor.
      const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
      const removeUrl = new URL('/2fa/settings/passkeys/remove', e2e.portal.url).href;
      const unknown = await journey.context.request.post(removeUrl, { form: { _csrf: csrf, id: 'not-a-key-of-theirs' }, maxRedirects: 0 });
      assert.equal(unknown.status(), 404, 'a key that is not theirs is not found');
      const [only] = await credentialsOn(yubikey);
      const id = Buffer.from(only!.credentialId, 'base64').toString('base64url');
      const lastStatus = (await journey.context.request.post(removeUrl, { form: { _csrf: csrf, id }, maxRedirects: 0 })).status();
      assert.equal(lastStatus, 403, 'removing the last key is refused');
      await journey.visit('/2fa/settings');
      assert.match(await list.innerText(), /You have 1 key set up\.[\s\S]*YubiKey 5/, 'the key is still there');
      assert.ok(e2e.portal.events.some((e) => e.type === 'passkey_added' && e.userId === 'u4'));
      assert.ok(e2e.portal.events.some((e) => e.type === 'passkey_removed' && e.userId === 'u4'));

      // The security key left signs in.
      await signOut(journey);
      await signInWithPasskey(journey, 'northwind.ops');
      assert.equal(journey.path, '/dashboard');
    } finally {
      await journey.close();
    }
  });

  it('3. a bot admin sees “Passkey (1)”, resets the person, whose next sign-in goes to the method choice', async () => {
    const gia = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await addJourneyKey(gia, 'internal');
      await signInWithPassword(gia, 'globex.ops');
      await enrolWithPasskey(gia, 'Laptop');
    } finally {
      await gia.close();
    }

    const admin = await Journey.open(e2e.browser, e2e.portal.url);
    const { page } = admin;
    try {
      const row = await botAdminFinds(admin, 'Gia', /Gia Globex/);
      assert.match(await row.innerText(), /Passkey \(1\)/, 'the status column names the factor and the number of keys');
      await admin.navigate(() => page.getByRole('link', { name: 'Reset 2FA for Gia Globex' }).click());
      await page.getByLabel('Reason').fill('Lost her security key');
      await admin.navigate(() => page.getByRole('button', { name: 'Reset two-step verification' }).click());
      assert.match(await page.getByRole('status').innerText(), /Two-step verification was reset for Gia Globex/);
      assert.match(await row.innerText(), /Not enrolled/);
      assert.ok(e2e.portal.events.some((e) => e.type === 'reset' && e.userId === 'u10' && e.actorId === 'u1'), 'the reset was emitted, naming the admin');
    } finally {
      await admin.close();
    }

    const again = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await signInWithPassword(again, 'globex.ops');
      assert.equal(again.path, '/2fa/enrol', 'after the reset, the next sign-in goes to the method choice');
      assert.equal(await heading(again.page), 'Set up two-step verification');
    } finally {
      await again.close();
    }
  });

  it('4. refuses a replayed assertion, an assertion for another origin and another person’s key', async () => {
    // Sue enrols and signs in once; the assertion her browser posted is kept.
    const sue = await Journey.open(e2e.browser, e2e.portal.url);
    let sueCredentials: Credentials;
    let captured: string[];
    try {
      const sueKey = await addJourneyKey(sue, 'internal');
      captured = captureAssertions(sue.page);
      await signInWithPassword(sue, 'southpaw.ops');
      await enrolWithPasskey(sue, 'Sue’s key');
      await signOut(sue);
      await signInWithPasskey(sue, 'southpaw.ops');
      assert.equal(sue.path, '/dashboard');
      assert.equal(captured.length, 1, 'the assertion was posted once');

      // Replayed in a new sign-in: its challenge is spent.
      await signOut(sue);
      await signInWithPassword(sue, 'southpaw.ops');
      await postAssertion(sue, captured[0]!, { status: 401 });
      assert.equal(await sue.alertText(), 'That didn’t work: the passkey or security key couldn’t be checked. Try again.');
      await assertNotSignedIn(sue, 'Sue, with a replayed assertion,');
      assert.ok(await passkeyButton(sue.page).isVisible(), 'the key can still be used');
      await sue.navigate(() => passkeyButton(sue.page).click());
      assert.equal(sue.path, '/dashboard', 'a fresh assertion still works');
      // Her key as it is now (its use counter too), for the same person in another browser.
      sueCredentials = await credentialsOn(sueKey);
    } finally {
      await sue.close();
    }

    // The same store, served from an origin the portal does not list.
    const elsewhere = await startE2ePortal(e2e.redis, { prefix: PREFIX, passkeys: { origins: ['http://localhost:1'] } });
    const wrongOrigin = await Journey.open(e2e.browser, elsewhere.url);
    try {
      await keyWith(sueCredentials, 'internal', wrongOrigin);
      await signInWithPasskey(wrongOrigin, 'southpaw.ops', {}, { status: 401 });
      assert.equal(await wrongOrigin.alertText(), 'That didn’t work: the passkey or security key couldn’t be checked. Try again.');
      await assertNotSignedIn(wrongOrigin, 'Sue, on a portal of another origin,');
      // Only the origin was wrong: the same sign-in (the portals share sessions and store),
      // finished on the portal's own origin with the same key, goes through.
      await wrongOrigin.visit(new URL('/2fa/verify', e2e.portal.url).href);
      await wrongOrigin.navigate(() => passkeyButton(wrongOrigin.page).click());
      assert.equal(wrongOrigin.path, '/dashboard', 'the same key is accepted from the listed origin');
    } finally {
      await wrongOrigin.close();
      await elsewhere.stop();
    }

    // Otto has a key of his own and posts Sue's assertion.
    const otto = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await addJourneyKey(otto, 'usb');
      await signInWithPassword(otto, 'bot.ops');
      await enrolWithPasskey(otto, 'Otto’s key');
      await signOut(otto);
      await signInWithPassword(otto, 'bot.ops');
      await postAssertion(otto, captured[0]!, { status: 401 });
      assert.equal(await otto.alertText(), 'That key isn’t set up for your account. Use the passkey or security key you set up, or a recovery code.');
      await assertNotSignedIn(otto, 'Otto, with Sue’s assertion,');
    } finally {
      await otto.close();
    }
  });

  it('5. without WebAuthn the verify page says so and offers a recovery code; without scripts too', async () => {
    const ada = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await addJourneyKey(ada, 'internal');
      await signInWithPassword(ada, 'acme.admin');
      await enrolWithPasskey(ada, 'Ada’s key');
    } finally {
      await ada.close();
    }

    const noWebAuthn = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await noWebAuthn.context.addInitScript(() => {
        delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
      });
      await signInWithPassword(noWebAuthn, 'acme.admin');
      const { page } = noWebAuthn;
      assert.equal(noWebAuthn.path, '/2fa/verify');
      await page.getByText('This browser can’t use passkeys or security keys. Try another browser, or use a recovery code instead.').waitFor({ state: 'visible' });
      assert.equal(await passkeyButton(page).count(), 0, 'no button that cannot work');
      assert.ok(await page.getByRole('link', { name: 'Use a recovery code' }).isVisible(), 'a recovery code is offered');
    } finally {
      await noWebAuthn.close();
    }

    const noScript = await Journey.open(e2e.browser, e2e.portal.url, { javaScriptEnabled: false });
    try {
      await signInWithPassword(noScript, 'acme.admin');
      const { page } = noScript;
      assert.equal(noScript.path, '/2fa/verify');
      // Playwright's text selectors skip <noscript>; the rendered text shows what a person sees.
      assert.match(await page.locator('main').innerText(), /Passkeys and security keys need JavaScript\. Turn it on in your browser, or use a recovery code instead\./);
      assert.equal(await passkeyButton(page).count(), 0, 'no dead button');
      assert.ok(await page.getByRole('link', { name: 'Use a recovery code' }).isVisible(), 'a recovery code is offered');
    } finally {
      await noScript.close();
    }
  });
});
