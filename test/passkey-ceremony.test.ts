import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import express from 'express';
import { after, before, describe, it } from 'mocha';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import {
  authenticationOptions,
  checkAuthentication,
  checkRegistration,
  defaultPasskeyName,
  MAX_STORED_BYTES,
  passkeyName,
  registrationOptions,
  userHandle,
  type RelyingParty,
  type StoredPasskey,
} from '../src/factors/passkey/ceremony.js';
import { passkeyMessages } from '../src/factors/passkey/messages.js';
import { en, format } from '../src/web/messages.js';
import { addVirtualKey, failingFindings, launchBrowser, runAxe } from './e2e/helpers.js';

/**
 * The passkey ceremony (src/factors/passkey/ceremony.ts) against a real browser: Debian's
 * Chromium with DevTools virtual authenticators, on the package's real views
 * (views/passkey/*.ejs), public/passkey.js and the @simplewebauthn/browser bundle, served
 * under a strict CSP from http://localhost:<port> (localhost: an RP ID must be a domain).
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const viewsDir = join(root, 'views');
const require = createRequire(import.meta.url);
// The UMD bundle is not in the package's "exports": found from its main entry (script/index.js).
const browserBundle = join(dirname(require.resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const table: Record<string, string> = { ...en, ...passkeyMessages.en };
const t = (key: string, params?: Record<string, string | number>) => format(table[key] ?? key, params);

/** A page of ours rendered as render() would, with an includer that resolves 'partials/x' by name. */
function renderView(view: string, data: Record<string, unknown>, source?: string): string {
  const file = join(viewsDir, `${view}.ejs`);
  const template = ejs.compile(source ?? readFileSync(file, 'utf8'), {
    filename: file,
    includer: (path: string) => ({ filename: join(viewsDir, path.endsWith('.ejs') ? path : `${path}.ejs`) }),
  });
  return template({
    t,
    lang: 'en',
    brand: { name: 'Test portal' },
    issuer: 'Test portal',
    base: '/2fa',
    assets: '/assets',
    csrfToken: 'test-csrf-token',
    rememberDeviceDays: 30,
    formAction: '/done',
    ...data,
  }) as string;
}

interface Harness {
  readonly url: string;
  /** The page GET /ceremony shows next. */
  show(view: string, data: Record<string, unknown>, source?: string): void;
  /** The next form POST to /done: its fields. */
  nextPost(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const app = express();
  let current = '';
  const waiting: ((body: Record<string, string>) => void)[] = [];
  app.use((_req, res, next) => {
    res.set('Content-Security-Policy', CSP);
    next();
  });
  app.get('/assets/simplewebauthn-browser.js', (_req, res) => res.type('js').send(readFileSync(browserBundle)));
  app.use('/assets', express.static(join(root, 'public'), { index: false, fallthrough: false }));
  app.get('/ceremony', (_req, res) => res.type('html').send(current));
  app.post('/done', express.urlencoded({ extended: false, limit: '100kb' }), (req, res) => {
    waiting.shift()?.(req.body as Record<string, string>);
    res.type('html').send('<!doctype html><html lang="en"><head><title>Done</title></head><body><main><h1>Done</h1></main></body></html>');
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    show(view, data, source) {
      current = renderView(view, data, source);
    },
    nextPost: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One person's browser: a context with a virtual authenticator of the given transport. */
interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly cdp: CDPSession;
  readonly problems: string[];
}

async function openPerson(browser: Browser, transport: 'internal' | 'usb'): Promise<Person> {
  const context = await browser.newContext({ locale: 'en-US' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  const { cdp } = await addVirtualKey(context, page, transport);
  return { context, page, cdp, problems };
}

describe('passkey ceremony (Chromium, virtual authenticators)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let harness: Harness;
  let rp: RelyingParty;
  let alice: Person;
  let bob: Person;
  let aliceKey: StoredPasskey;
  let bobKey: StoredPasskey;

  before(async () => {
    browser = await launchBrowser();
    harness = await startHarness();
    rp = { id: 'localhost', name: 'Test portal', origins: [harness.url], userVerification: 'preferred' };
    alice = await openPerson(browser, 'internal');
    bob = await openPerson(browser, 'usb');
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  /** Opens a view, checks it with axe, presses its button and returns what the form posted. */
  async function runPage(person: Person, view: string, data: Record<string, unknown>, button: string): Promise<Record<string, string>> {
    harness.show(view, data);
    await person.page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
    const failing = failingFindings(await runAxe(person.page));
    assert.deepEqual(failing, [], `axe findings on ${view}`);
    const posted = harness.nextPost();
    await person.page.getByRole('button', { name: button }).click();
    const body = await posted;
    // The answer to the POST leads to /done: wait for that page, or the next goto races it.
    await person.page.waitForURL(/\/done$/, { waitUntil: 'load' });
    assert.deepEqual(person.problems, [], `no CSP violation or script error on ${view}`);
    return body;
  }

  async function register(person: Person, userId: string, name: string, existing: readonly StoredPasskey[] = []): Promise<StoredPasskey> {
    const { options, challenge } = await registrationOptions(rp, { userId, userName: userId, displayName: userId, existing });
    const body = await runPage(person, 'passkey/enrol', { title: 'passkey.title.enrol', passkeyOptions: options }, 'Set up passkey or security key');
    assert.equal(body._csrf, 'test-csrf-token');
    const result = await checkRegistration(rp, { response: body.response, expectedChallenge: challenge, name: body.name || name, now: 1_700_000_000_000, existing });
    assert.ok(result.ok, `the registration of ${userId} is accepted (got ${JSON.stringify(result)})`);
    return result.credential;
  }

  /** Runs the verify page for `allow` and returns the raw response JSON and its challenge. */
  async function assertion(person: Person, allow: readonly StoredPasskey[]): Promise<{ response: string; challenge: string }> {
    const { options, challenge } = await authenticationOptions(rp, { allow });
    const body = await runPage(person, 'passkey/verify', { title: 'passkey.title.verify', passkeyOptions: options }, 'Use your passkey or security key');
    return { response: body.response, challenge };
  }

  it('builds registration options: excluded keys, no attestation, an opaque user handle', async () => {
    const existing: StoredPasskey = { id: 'AAECAwQFBgcICQoLDA0ODw', publicKey: 'pQ', counter: 0, transports: ['usb'], backedUp: false, deviceType: 'singleDevice', name: 'Old', createdAt: 1 };
    const { options, challenge } = await registrationOptions(rp, { userId: 'alice@example.com', userName: 'alice@example.com', displayName: 'Alice', existing: [existing] });
    assert.equal(options.challenge, challenge);
    assert.ok(challenge.length >= 32, 'a random challenge of 32 bytes or more');
    assert.notEqual((await registrationOptions(rp, { userId: 'alice@example.com', userName: 'a', displayName: 'a', existing: [] })).challenge, challenge);
    assert.equal(options.attestation, 'none');
    assert.deepEqual(options.authenticatorSelection, { residentKey: 'preferred', userVerification: 'preferred', requireResidentKey: false });
    assert.deepEqual(options.excludeCredentials, [{ id: existing.id, type: 'public-key', transports: ['usb'] }]);
    assert.deepEqual(options.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257]);
    const handle = Buffer.from(options.user.id, 'base64url');
    assert.equal(handle.length, 32, 'the user handle is a SHA-256');
    assert.ok(!handle.toString('latin1').includes('alice'), 'the user handle is not the raw user id');
    assert.deepEqual(handle, Buffer.from(userHandle('alice@example.com')), 'and stable for the same user id');
  });

  it('registers a passkey (internal) and a security key (usb) into small records', async () => {
    aliceKey = await register(alice, 'alice@example.com', 'MacBook');
    bobKey = await register(bob, 'bob@example.com', 'YubiKey 5');
    assert.equal(aliceKey.name, 'MacBook');
    assert.equal(aliceKey.createdAt, 1_700_000_000_000);
    assert.equal(aliceKey.lastUsedAt, undefined);
    assert.deepEqual(aliceKey.transports, ['internal']);
    assert.deepEqual(bobKey.transports, ['usb']);
    assert.notEqual(aliceKey.id, bobKey.id);
    assert.deepEqual(Object.keys(aliceKey).sort(), ['backedUp', 'counter', 'createdAt', 'deviceType', 'id', 'name', 'publicKey', 'transports']);
    for (const key of [aliceKey, bobKey]) {
      const bytes = Buffer.byteLength(JSON.stringify(key));
      console.log(`      StoredPasskey JSON (${key.transports?.join()}): ${bytes} bytes`);
      assert.ok(bytes < MAX_STORED_BYTES && bytes < 512, `a StoredPasskey is small (${bytes} bytes)`);
    }
  });

  it('authenticates, moves the counter forward and stamps lastUsedAt; a replay is refused', async () => {
    const { response, challenge } = await assertion(alice, [aliceKey]);
    const first = await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [bobKey, aliceKey], now: 1_700_000_100_000 });
    assert.ok(first.ok, `the assertion is accepted (got ${JSON.stringify(first)})`);
    assert.equal(first.credential.id, aliceKey.id);
    assert.ok(first.credential.counter > aliceKey.counter, `the counter moved forward (${aliceKey.counter} -> ${first.credential.counter})`);
    assert.equal(first.credential.lastUsedAt, 1_700_000_100_000);
    assert.equal(first.credential.name, 'MacBook');
    assert.equal(first.credential.createdAt, aliceKey.createdAt);

    // The same response again, with the same challenge (a caller that failed to forget it): the
    // counter did not increase. With a fresh challenge: the challenge does not match.
    const updated = first.credential;
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [updated], now: 1_700_000_200_000 }), { ok: false, reason: 'counter' });
    const fresh = await authenticationOptions(rp, { allow: [updated] });
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: fresh.challenge, credentials: [updated], now: 1_700_000_200_000 }), { ok: false, reason: 'invalid' });

    // A second sign-in goes on from the saved counter.
    const next = await assertion(alice, [updated]);
    const second = await checkAuthentication(rp, { response: next.response, expectedChallenge: next.challenge, credentials: [updated], now: 1_700_000_300_000 });
    assert.ok(second.ok && second.credential.counter > updated.counter, 'the next sign-in is accepted with a higher counter');
    aliceKey = second.credential;
  });

  it('builds authentication options limited to the person’s keys, with their transports', async () => {
    const { options, challenge } = await authenticationOptions(rp, { allow: [aliceKey, bobKey] });
    assert.equal(options.challenge, challenge);
    assert.equal(options.rpId, 'localhost');
    assert.equal(options.userVerification, 'preferred');
    assert.deepEqual(options.allowCredentials, [
      { id: aliceKey.id, type: 'public-key', transports: ['internal'] },
      { id: bobKey.id, type: 'public-key', transports: ['usb'] },
    ]);
  });

  it('refuses an assertion checked against another origin or another RP ID', async () => {
    const { response, challenge } = await assertion(bob, [bobKey]);
    const elsewhere: RelyingParty = { ...rp, origins: ['http://localhost:1'] };
    assert.deepEqual(await checkAuthentication(elsewhere, { response, expectedChallenge: challenge, credentials: [bobKey], now: 1 }), { ok: false, reason: 'invalid' });
    const otherRp: RelyingParty = { ...rp, id: 'example.com' };
    assert.deepEqual(await checkAuthentication(otherRp, { response, expectedChallenge: challenge, credentials: [bobKey], now: 1 }), { ok: false, reason: 'invalid' });
    // The same response is fine for the right RP: only the origin or RP ID made the difference.
    const right = await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [bobKey], now: 1 });
    assert.ok(right.ok);
    bobKey = right.credential;
  });

  it('refuses another person’s credential as unknown_credential', async () => {
    // Bob proves his own key, but the check is made against Alice's list.
    const { response, challenge } = await assertion(bob, [bobKey]);
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [aliceKey], now: 1 }), { ok: false, reason: 'unknown_credential' });
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [], now: 1 }), { ok: false, reason: 'unknown_credential' });
  });

  it('refuses a signature that does not match the stored key, and tampered data', async () => {
    const { response, challenge } = await assertion(alice, [aliceKey]);
    const parsed = JSON.parse(response);
    // Bob's public key under Alice's credential id: the signature does not verify.
    const impostor = { ...aliceKey, publicKey: bobKey.publicKey };
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [impostor], now: 1 }), { ok: false, reason: 'invalid' });
    const signature = Buffer.from(parsed.response.signature, 'base64url');
    signature[signature.length - 1] ^= 1;
    const badSignature = { ...parsed, response: { ...parsed.response, signature: signature.toString('base64url') } };
    assert.deepEqual(await checkAuthentication(rp, { response: badSignature, expectedChallenge: challenge, credentials: [aliceKey], now: 1 }), { ok: false, reason: 'invalid' });
    const client = JSON.parse(Buffer.from(parsed.response.clientDataJSON, 'base64url').toString('utf8'));
    const badClient = { ...parsed, response: { ...parsed.response, clientDataJSON: Buffer.from(JSON.stringify({ ...client, origin: 'http://localhost:1' })).toString('base64url') } };
    assert.deepEqual(await checkAuthentication(rp, { response: badClient, expectedChallenge: challenge, credentials: [aliceKey], now: 1 }), { ok: false, reason: 'invalid' });
    // An assertion is not a registration.
    assert.deepEqual(await checkRegistration(rp, { response, expectedChallenge: challenge, name: 'x', now: 1 }), { ok: false, reason: 'invalid' });
    // The untouched response is still good (as an object too, not only as the form's JSON text).
    const good = await checkAuthentication(rp, { response: parsed, expectedChallenge: challenge, credentials: [aliceKey], now: 1 });
    assert.ok(good.ok);
    aliceKey = good.credential;
  });

  it('refuses a registration for another challenge or origin, and a key already registered', async () => {
    const { options, challenge } = await registrationOptions(rp, { userId: 'carol', userName: 'carol', displayName: 'Carol', existing: [] });
    const body = await runPage(alice, 'passkey/enrol', { title: 'passkey.title.enrol', passkeyOptions: options }, 'Set up passkey or security key');
    const other = await registrationOptions(rp, { userId: 'carol', userName: 'carol', displayName: 'Carol', existing: [] });
    assert.deepEqual(await checkRegistration(rp, { response: body.response, expectedChallenge: other.challenge, name: '', now: 1 }), { ok: false, reason: 'invalid' });
    assert.deepEqual(await checkRegistration({ ...rp, origins: ['http://localhost:1'] }, { response: body.response, expectedChallenge: challenge, name: '', now: 1 }), { ok: false, reason: 'invalid' });
    assert.deepEqual(await checkRegistration({ ...rp, id: 'example.com' }, { response: body.response, expectedChallenge: challenge, name: '', now: 1 }), { ok: false, reason: 'invalid' });
    const accepted = await checkRegistration(rp, { response: body.response, expectedChallenge: challenge, name: '   ', now: Date.UTC(2025, 0, 31) });
    assert.ok(accepted.ok);
    assert.equal(accepted.credential.name, 'Passkey 2025-01-31', 'an empty name becomes the default name');
    assert.deepEqual(await checkRegistration(rp, { response: body.response, expectedChallenge: challenge, name: 'again', now: 1, existing: [accepted.credential] }), { ok: false, reason: 'duplicate' });
  });

  it('refuses malformed responses of every shape without throwing', async () => {
    const { response, challenge } = await assertion(alice, [aliceKey]);
    const good = JSON.parse(response);
    const huge = 'A'.repeat(2_000_000);
    const shapes: unknown[] = [
      undefined, null, 0, 42, NaN, true, '', 'not json', '"a string"', '[]', '{}', 'null', '{"id":', huge, JSON.stringify({ ...good, junk: huge }),
      [], {}, [good], { id: good.id }, { ...good, type: 'other' }, { ...good, rawId: 'different' }, { ...good, id: 42, rawId: 42 },
      { ...good, id: 'not base64url!', rawId: 'not base64url!' }, { ...good, response: null }, { ...good, response: 'x' }, { ...good, response: [] },
      { ...good, response: { ...good.response, clientDataJSON: 7 } }, { ...good, response: { ...good.response, clientDataJSON: huge } },
      { ...good, response: { ...good.response, authenticatorData: undefined } }, { ...good, response: { ...good.response, signature: { a: 1 } } },
      { ...good, response: { ...good.response, userHandle: 12 } }, { ...good, response: { ...good.response, clientDataJSON: Buffer.from('{]').toString('base64url') } },
      { ...good, response: { ...good.response, authenticatorData: 'AAAA' } }, { ...good, response: { ...good.response, clientDataJSON: 'e30' } },
      JSON.parse('{"__proto__": {"polluted": true}, "id": "x"}'), Object.create(null), new Date(), () => good, Symbol('x'), 10n,
      { ...good, response: { ...good.response, attestationObject: huge } },
    ];
    for (const shape of shapes) {
      const label = typeof shape === 'string' ? `string of ${shape.length}` : typeof shape;
      const auth = await checkAuthentication(rp, { response: shape, expectedChallenge: challenge, credentials: [aliceKey], now: 1 });
      assert.equal(auth.ok, false, `an authentication response (${label}) is refused`);
      assert.ok(!auth.ok && ['invalid', 'unknown_credential'].includes(auth.reason), `with a reason code (${label}: ${JSON.stringify(auth)})`);
      const reg = await checkRegistration(rp, { response: shape, expectedChallenge: challenge, name: 'x', now: 1 });
      assert.deepEqual(reg, { ok: false, reason: 'invalid' }, `a registration response (${label}) is refused`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
    // An empty expected challenge never matches.
    assert.deepEqual(await checkAuthentication(rp, { response, expectedChallenge: '', credentials: [aliceKey], now: 1 }), { ok: false, reason: 'invalid' });
    // ...and the response itself was fine.
    assert.ok((await checkAuthentication(rp, { response, expectedChallenge: challenge, credentials: [aliceKey], now: 1 })).ok);
  });

  it('the enrol page shows the duplicate message when the key is already registered, and can try again', async () => {
    const { options } = await registrationOptions(rp, { userId: 'alice@example.com', userName: 'alice@example.com', displayName: 'Alice', existing: [aliceKey] });
    harness.show('passkey/enrol', { title: 'passkey.title.enrol', passkeyOptions: options });
    await alice.page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
    const button = alice.page.getByRole('button', { name: 'Set up passkey or security key' });
    await button.click();
    const alert = alice.page.getByRole('alert');
    await alert.filter({ hasText: 'already set up' }).waitFor({ state: 'visible' });
    assert.equal(await alert.count(), 1, 'one alert');
    assert.equal(await button.isEnabled(), true, 'the button can be pressed again');
    assert.equal(await button.getAttribute('aria-busy'), null, 'and is no longer busy');
    assert.deepEqual(failingFindings(await runAxe(alice.page)), []);
    assert.deepEqual(alice.problems, []);
  });

  it('the verify page shows the cancelled message when no key answers, with recovery codes offered', async () => {
    // Bob's key is not on Alice's authenticator: the request ends without a credential (the
    // short timeout bounds the wait; nothing here measures time).
    const { options } = await authenticationOptions(rp, { allow: [bobKey] });
    harness.show('passkey/verify', { title: 'passkey.title.verify', passkeyOptions: { ...options, timeout: 3_000 } });
    await alice.page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
    const button = alice.page.getByRole('button', { name: 'Use your passkey or security key' });
    await button.click();
    await alice.page.getByRole('alert').filter({ hasText: 'wasn’t used' }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await alice.page.getByRole('alert').innerText(), /use a recovery code/);
    assert.equal(await button.isEnabled(), true);
    assert.equal(await alice.page.getByRole('link', { name: 'Use a recovery code' }).count(), 1);
    assert.deepEqual(failingFindings(await runAxe(alice.page)), []);
    assert.deepEqual(alice.problems, []);
  });

  it('without WebAuthn the pages say so and hide the form', async () => {
    const context = await browser.newContext();
    try {
      await context.addInitScript(() => {
        delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
      });
      const page = await context.newPage();
      const { options } = await authenticationOptions(rp, { allow: [aliceKey] });
      harness.show('passkey/verify', { title: 'passkey.title.verify', passkeyOptions: options });
      await page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
      await page.getByText('This browser can’t use passkeys or security keys').waitFor({ state: 'visible' });
      assert.equal(await page.getByRole('button', { name: 'Use your passkey or security key' }).count(), 0, 'no button to press');
      assert.equal(await page.getByRole('link', { name: 'Use a recovery code' }).count(), 1);
      assert.deepEqual(failingFindings(await runAxe(page)), []);
    } finally {
      await context.close();
    }
  });

  it('without scripts the pages show the noscript message and no dead button', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const { options } = await registrationOptions(rp, { userId: 'dana', userName: 'dana', displayName: 'Dana', existing: [] });
      harness.show('passkey/enrol', { title: 'passkey.title.enrol', passkeyOptions: options });
      await page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
      // Playwright's text selectors skip <noscript>; the rendered text shows what a person sees.
      assert.match(await page.locator('main').innerText(), /Passkeys and security keys need JavaScript/);
      assert.equal(await page.getByRole('button', { name: 'Set up passkey or security key' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: 'Choose another method' }).count(), 1);
    } finally {
      await context.close();
    }
  });

  it('the list partial names each key, its dates, and a remove form with the CSRF token', async () => {
    const page = alice.page;
    const wrapper = "<%- include('partials/top') %><%- include('partials/passkey-list') %><%- include('partials/bottom') %>";
    const entry = (key: StoredPasskey, lastUsed?: string) => ({ id: key.id, name: key.name, added: { text: '14 Nov 2023, 22:13 UTC' }, lastUsed: lastUsed ? { text: lastUsed } : undefined, synced: key.backedUp });
    harness.show('page', { title: 'page.title.settings', passkeys: [entry(aliceKey, '15 Nov 2023, 08:00 UTC'), entry({ ...bobKey, name: '<b>YubiKey</b> 5' })] }, wrapper);
    await page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
    assert.deepEqual(failingFindings(await runAxe(page)), []);
    const items = page.locator('.sf-places li');
    assert.equal(await items.count(), 2);
    assert.match(await items.nth(0).innerText(), /MacBook[\s\S]*Added 14 Nov 2023, 22:13 UTC[\s\S]*Last used 15 Nov 2023, 08:00 UTC/);
    assert.match(await items.nth(1).innerText(), /<b>YubiKey<\/b> 5[\s\S]*Not used to sign in yet/, 'names are escaped');
    const remove = page.getByRole('button', { name: 'Remove MacBook' });
    assert.equal(await remove.count(), 1);
    const form = remove.locator('xpath=ancestor::form');
    assert.equal(await form.getAttribute('method'), 'post');
    assert.equal(await form.getAttribute('action'), '/2fa/settings/passkeys/remove');
    assert.equal(await form.locator('input[name="_csrf"]').inputValue(), 'test-csrf-token');
    assert.equal(await form.locator('input[name="id"]').inputValue(), aliceKey.id);

    harness.show('page', { title: 'page.title.settings', passkeys: [entry(aliceKey)] }, wrapper);
    await page.goto(`${harness.url}/ceremony`, { waitUntil: 'load' });
    assert.equal(await page.getByRole('button', { name: /^Remove/ }).count(), 0, 'the only key has no remove button');
    await page.getByText('This is your only key').waitFor({ state: 'visible' });
    assert.deepEqual(failingFindings(await runAxe(page)), []);
    assert.deepEqual(alice.problems, []);
  });

  it('passkeyName keeps 1 to 64 plain characters', () => {
    assert.equal(passkeyName('  YubiKey 5  '), 'YubiKey 5');
    assert.equal(passkeyName('Clé de Zoë 🔑'), 'Clé de Zoë 🔑');
    assert.equal(passkeyName('🔑'.repeat(64)), '🔑'.repeat(64), '64 characters, counted as code points');
    assert.equal(passkeyName('x'.repeat(65)), undefined);
    for (const bad of ['', '   ', 'a\nb', 'a\u0000b', 'evil\u202Egnp.exe', 'a\u2028b', 42, null, undefined, {}, ['x']]) {
      assert.equal(passkeyName(bad), undefined, `refused: ${JSON.stringify(bad)}`);
    }
    assert.equal(defaultPasskeyName(Date.UTC(2025, 0, 31, 23, 59)), 'Passkey 2025-01-31');
    assert.equal(defaultPasskeyName(Date.UTC(2025, 0, 31), 'Llave de acceso'), 'Llave de acceso 2025-01-31');
  });
});
