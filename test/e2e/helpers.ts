import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before } from 'mocha';
import { generateSync } from 'otplib';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Locator, type Page } from 'playwright-core';
import { createClient, type RedisClientType } from 'redis';
import { RedisStore, type SecondFactorOptions, type TwoFactorEvent } from 'passport-second-factor';
import { createPortal, type Portal } from '../../examples/portal/app.js';
import { DEMO_PASSWORD } from '../../examples/portal/users.js';
import { capturingSender, type CapturingSender } from '../helpers/capturing-sender.js';
import { BrowserClient, csrfTokenIn, loginForm } from '../helpers/http-client.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

// --- the browser -----------------------------------------------------------------------------

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that work in containers and CI: no sandbox (no user namespaces there), nothing phoning home. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium, headless. One per test file; each journey gets its own context. A browser
 * that cannot start is a failure that says how to get one, never a skipped test.
 */
export async function launchBrowser(executablePath = CHROMIUM_PATH): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS], timeout: 30_000 });
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(
      `e2e: could not launch Chromium at ${executablePath}: ${reason}. ` +
        'The browser journeys need it: run `npm test` (scripts/test.sh installs it) or `apt-get install -y chromium`.',
    );
  }
}

/** A virtual authenticator, which answers every WebAuthn prompt on its page by itself. */
export interface VirtualKey {
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
}

/**
 * A DevTools virtual authenticator on `page`: CTAP 2.1 with resident keys, the person verified
 * and presence simulated, so prompts complete without a human. `internal` is a platform
 * passkey, `usb` a security key.
 */
export async function addVirtualKey(context: BrowserContext, page: Page, transport: 'internal' | 'usb'): Promise<VirtualKey> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport,
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

// --- the example portal, in this process, on a free loopback port --------------------------

/** Test-only key: 32 bytes, base64. */
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface E2eRedis {
  readonly server: RedisServer;
  readonly client: RedisClientType<any, any, any, any, any>;
  stop(): Promise<void>;
}

/** A real `redis-server` on a free loopback port and a connected client. */
export async function startE2eRedis(): Promise<E2eRedis> {
  const server = await startRedis();
  const client: RedisClientType<any, any, any, any, any> = createClient({ url: server.url });
  client.on('error', () => {});
  await client.connect();
  return {
    server,
    client,
    async stop() {
      await client.close().catch(() => {});
      await server.stop();
    },
  };
}

export interface E2ePortal extends Portal {
  readonly url: string;
  /** The same portal by IP address (http://127.0.0.1:PORT), for set-up over plain HTTP. */
  readonly loopbackUrl: string;
  /** Every text message "sent", with its code. */
  readonly sms: CapturingSender;
  readonly events: TwoFactorEvent[];
  stop(): Promise<void>;
}

/**
 * The example portal (createPortal) with sessions and 2FA state in the given Redis, the real
 * clock, and text messages captured instead of sent. `prefix` keeps the 2FA state of several
 * portals on one Redis apart (the policy switch lives there too).
 */
/** A free loopback port, reserved by listening on it and closing it again. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    probe.once('listening', resolve);
    probe.once('error', reject);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface E2ePortalOptions {
  readonly prefix: string;
  readonly secondFactor?: Partial<SecondFactorOptions>;
  /**
   * Offers passkeys: the portal gets a port reserved first, its `url` is
   * http://localhost:PORT (an RP ID must be a domain) and `secondFactor.passkeys` is
   * `{ rpId: 'localhost', origins: ['http://localhost:PORT'] }`, or the given origins.
   */
  readonly passkeys?: true | { readonly origins: readonly string[] };
}

export async function startE2ePortal(redis: E2eRedis, options: E2ePortalOptions): Promise<E2ePortal> {
  const sms = capturingSender();
  const events: TwoFactorEvent[] = [];
  const reserved = options.passkeys ? await freePort() : 0;
  const passkeys = options.passkeys
    ? { passkeys: { rpId: 'localhost', origins: options.passkeys === true ? [`http://localhost:${reserved}`] : [...options.passkeys.origins] } }
    : {};
  const portal = createPortal({
    redis: redis.client,
    secondFactor: {
      store: new RedisStore({ client: redis.client, prefix: options.prefix }),
      sms,
      encryptionKey: ENCRYPTION_KEY,
      onEvent: (event) => {
        events.push(event);
      },
      logger: { info() {}, warn() {}, error: (message) => console.error(`portal: ${message}`) },
      ...passkeys,
      ...options.secondFactor,
    },
  });
  const server = portal.app.listen(reserved, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...portal,
    url: options.passkeys ? `http://localhost:${port}` : `http://127.0.0.1:${port}`,
    loopbackUrl: `http://127.0.0.1:${port}`,
    sms,
    events,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * For a describe block: a browser, a Redis server and a portal on it for its tests, all stopped
 * after them. `browser` and `portal` are there once `before` ran.
 */
export function e2eSuite(options: E2ePortalOptions): { readonly browser: Browser; readonly portal: E2ePortal; readonly redis: E2eRedis } {
  let browser: Browser | undefined;
  let redis: E2eRedis | undefined;
  let portal: E2ePortal | undefined;

  before(async () => {
    browser = await launchBrowser();
    redis = await startE2eRedis();
    portal = await startE2ePortal(redis, options);
  });

  after(async () => {
    await browser?.close();
    await portal?.stop();
    await redis?.stop();
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser and portal are started in a before hook');
    return value;
  };
  return {
    get browser() {
      return ready(browser);
    },
    get portal() {
      return ready(portal);
    },
    /** The suite's Redis, for a second portal on the same store. */
    get redis() {
      return ready(redis);
    },
  };
}

// --- the authenticator app ---------------------------------------------------------------------

/** The key as the enrolment page shows it (groups of four), without the spaces. */
export async function keyOnPage(page: Page): Promise<string> {
  const shown = await page.locator('#totp-key').innerText();
  const key = shown.replace(/\s+/g, '');
  assert.match(key, /^[A-Z2-7]{32}$/, `the key on the page looks like a base32 secret (got ${JSON.stringify(shown)})`);
  return key;
}

/** What an authenticator app shows now, or `steps` 30-second steps away from now. */
export function appCode(secret: string, steps = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

/** A six-digit code that is none of the codes the server accepts around now (one step of drift). */
export function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1].map((steps) => appCode(secret, steps)));
  let code = Number(appCode(secret));
  do code = (code + 1) % 1_000_000;
  while (near.has(String(code).padStart(6, '0')));
  return String(code).padStart(6, '0');
}

/**
 * Set-up for journeys that start with an enrolled person: enrols `username` with an
 * authenticator app over plain HTTP (not through the browser: the journey under test starts
 * later, at the login page) and returns the secret. It confirms with the code of the previous
 * 30-second step, which the server accepts (one step of drift) and then never accepts again,
 * so the journey can sign in with the code the app shows now without waiting for a new step.
 * Also returns the recovery codes the enrolment showed.
 */
export async function enrolAuthenticatorOverHttp(baseUrl: string, username: string): Promise<{ key: string; recoveryCodes: string[] }> {
  const client = new BrowserClient(new Agent({ keepAlive: false }));
  const login = await client.request(baseUrl, '/login', { form: await loginForm(client, baseUrl, { username, password: DEMO_PASSWORD }) });
  assert.equal(login.location, '/2fa/enrol', `set-up: ${username} signs in with the password (got ${login.status} ${login.location})`);
  const choose = await client.request(baseUrl, '/2fa/enrol');
  const chosen = await client.request(baseUrl, '/2fa/enrol', { form: { _csrf: csrfTokenIn(choose.text), method: 'totp' } });
  assert.equal(chosen.status, 303, `set-up: ${username} chooses the authenticator app`);
  const enrol = await client.request(baseUrl, '/2fa/enrol/totp');
  const key = /id="totp-key">([A-Z2-7 ]+)</.exec(enrol.text)?.[1]?.replace(/ /g, '');
  assert.ok(key, `set-up: the enrolment page of ${username} shows a key`);
  const done = await client.request(baseUrl, '/2fa/enrol/totp', { form: { _csrf: csrfTokenIn(enrol.text), code: appCode(key, -1) } });
  assert.ok(done.status === 200 || done.status === 303, `set-up: the enrolment of ${username} is confirmed (got ${done.status})`);
  // The page after the confirmation shows the recovery codes, once.
  const recoveryCodes = [...done.text.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  return { key, recoveryCodes };
}

// --- a journey: one browser context, every page checked -------------------------------------

const requireFromHere = createRequire(import.meta.url);
const axeSource = readFileSync(requireFromHere.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe rules that fail a page whatever impact axe gives them, on top of every serious and
 * critical finding: the ones the pages promise (headings in order, one main landmark, one h1,
 * content inside landmarks).
 */
const ALWAYS_FAIL = new Set(['heading-order', 'landmark-one-main', 'page-has-heading-one', 'region']);

export interface AxeFinding {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * axe-core, in the page. Not with `addScriptTag`: that adds an inline <script>, which the
 * portal's CSP (script-src 'self') blocks, as it should. A DevTools evaluation is not subject
 * to the page's CSP, so the checker runs without loosening the policy under test.
 */
export async function runAxe(page: Page): Promise<AxeFinding[]> {
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: any[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({
      id: String(v.id),
      impact: v.impact ?? null,
      help: String(v.help),
      targets: (v.nodes as { target: unknown[] }[]).map((node) => node.target.join(' ')),
    }));
  });
}

/** The findings that fail a test: serious or critical, or one of {@link ALWAYS_FAIL}. */
export function failingFindings(findings: readonly AxeFinding[]): AxeFinding[] {
  return findings.filter((f) => f.impact === 'serious' || f.impact === 'critical' || ALWAYS_FAIL.has(f.id));
}

const screenshotsDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const scratchScreenshotsDir = join(tmpdir(), 'passport-second-factor-screenshots');

/**
 * Where a screenshot goes. The committed ones in docs/screenshots/ are written when missing or
 * when UPDATE_SCREENSHOTS=1: pages with a fresh key, QR code or date differ on every run, and a
 * test run should not leave the working tree changed. Otherwise the picture (still taken, so the
 * page is rendered) goes to a scratch folder in the temp directory.
 */
function screenshotPath(name: string): string {
  const committed = join(screenshotsDir, `${name}.png`);
  if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(committed)) {
    mkdirSync(screenshotsDir, { recursive: true });
    return committed;
  }
  mkdirSync(scratchScreenshotsDir, { recursive: true });
  return join(scratchScreenshotsDir, `${name}.png`);
}

export interface PageCheck {
  /** The HTTP status the page must have been served with. @default 200 */
  readonly status?: number;
  /** Saves a screenshot of the viewport as docs/screenshots/<name>.png. */
  readonly screenshot?: string;
}

export interface JourneyOptions {
  readonly javaScriptEnabled?: boolean;
}

/**
 * One person's browser: a fresh context (own cookies), 900×700. Every page it loads goes
 * through {@link Journey.visit} or {@link Journey.navigate}, which wait for it and check it:
 * its status, axe (JavaScript-enabled contexts: axe cannot run where scripts are off), no
 * Content Security Policy violation, no script error, no failed stylesheet or script. A page
 * loaded any other way (an unexpected navigation) fails the next check.
 */
export class Journey {
  readonly #cspViolations: string[] = [];
  readonly #pageErrors: string[] = [];
  readonly #failedResources: string[] = [];
  #documentStatus = 0;
  #loads = 0;
  #checkedLoads = 0;
  /** Every page checked, by path, for the report. */
  readonly visited: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly baseUrl: string,
    readonly javaScriptEnabled: boolean,
  ) {}

  static async open(browser: Browser, baseUrl: string, options: JourneyOptions = {}): Promise<Journey> {
    const javaScriptEnabled = options.javaScriptEnabled ?? true;
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 900, height: 700 }, locale: 'en-US' });
    // Well under the test's own timeout, so a missing button fails as itself.
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const journey = new Journey(context, page, baseUrl, javaScriptEnabled);
    journey.#listen();
    if (javaScriptEnabled) await journey.#listenForViolationEvents();
    return journey;
  }

  #listen(): void {
    const { page } = this;
    // The browser reports every violation on the console, with scripts on or off.
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) this.#cspViolations.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.#pageErrors.push(error.message));
    page.on('load', () => {
      this.#loads += 1;
    });
    page.on('response', (response) => {
      const request = response.request();
      if (request.frame() !== page.mainFrame()) return;
      if (request.isNavigationRequest()) {
        this.#documentStatus = response.status();
      } else if (response.status() >= 400 && !new URL(response.url()).pathname.endsWith('/favicon.ico')) {
        this.#failedResources.push(`${response.status()} ${response.url()}`);
      }
    });
    page.on('requestfailed', (request) => {
      if (!request.isNavigationRequest()) this.#failedResources.push(`${request.failure()?.errorText ?? 'failed'} ${request.url()}`);
    });
  }

  /** Also listens for `securitypolicyviolation` events (scripts on), reported straight to the test. */
  async #listenForViolationEvents(): Promise<void> {
    await this.page.exposeFunction('__e2eCspViolation', (violation: string) => {
      this.#cspViolations.push(`event: ${violation}`);
    });
    await this.page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (window as unknown as { __e2eCspViolation?: (v: string) => void }).__e2eCspViolation;
        report?.(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`);
      });
    });
  }

  get path(): string {
    return new URL(this.page.url()).pathname;
  }

  /** Types a URL into the address bar, as it were. */
  async visit(path: string, check: PageCheck = {}): Promise<void> {
    const response = await this.page.goto(new URL(path, this.baseUrl).href, { waitUntil: 'load' });
    assert.ok(response, `a document was loaded for ${path}`);
    this.#documentStatus = response.status();
    await this.#checkNewPage(check);
  }

  /** Runs an action that loads the next page (a click, Enter on a form), waits for it and checks it. */
  async navigate(action: () => Promise<unknown>, check: PageCheck = {}): Promise<void> {
    const loaded = this.page.waitForEvent('load', { timeout: 15_000 });
    await action();
    await loaded;
    await this.#checkNewPage(check);
  }

  async #checkNewPage(check: PageCheck): Promise<void> {
    this.#checkedLoads += 1;
    const where = `${this.path} (${this.javaScriptEnabled ? 'scripts on' : 'scripts off'})`;
    assert.equal(this.#loads, this.#checkedLoads, `every page the journey loads is checked (an unexpected navigation happened before ${where})`);
    assert.equal(this.#documentStatus, check.status ?? 200, `${where} answered ${this.#documentStatus}`);
    this.visited.push(this.path);
    if (this.javaScriptEnabled) {
      const findings = await runAxe(this.page);
      // E2E_REPORT=1 lists every finding, the ones below the failing level too.
      if (process.env.E2E_REPORT === '1') console.log(`    axe ${where}: ${findings.map((f) => `${f.impact} ${f.id} (${f.targets.join(', ')})`).join('; ') || 'nothing'}`);
      const failing = failingFindings(findings);
      assert.deepEqual(failing, [], `axe findings on ${where}:\n${failing.map((f) => `  ${f.impact} ${f.id}: ${f.help} at ${f.targets.join(', ')}`).join('\n')}`);
    }
    this.assertClean(where);
    if (check.screenshot) {
      await this.page.evaluate(() => window.scrollTo(0, 0));
      writeFileSync(screenshotPath(check.screenshot), await this.page.screenshot({ type: 'png' }));
    }
  }

  /** No CSP violation, no script error, no failed stylesheet or script so far. */
  assertClean(where = this.path): void {
    assert.deepEqual(this.#cspViolations, [], `Content Security Policy violations on ${where}`);
    assert.deepEqual(this.#pageErrors, [], `script errors on ${where}`);
    assert.deepEqual(this.#failedResources, [], `failed stylesheets, scripts or images on ${where}`);
  }

  /** The element that has the keyboard focus, as `tag#id` or `tag "text"`. */
  async focused(): Promise<string> {
    return this.page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return 'body';
      const tag = el.tagName.toLowerCase();
      return el.id ? `${tag}#${el.id}` : `${tag} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    });
  }

  async isFocused(target: Locator): Promise<boolean> {
    return target.evaluate((el) => el === document.activeElement);
  }

  /** Presses Tab until `target` has the focus; fails, naming the stops, if it never does. */
  async tabTo(target: Locator, maxPresses = 15): Promise<void> {
    const stops: string[] = [];
    for (let i = 0; i < maxPresses; i += 1) {
      await this.page.keyboard.press('Tab');
      if (await this.isFocused(target)) {
        await this.assertFocusVisible(target);
        return;
      }
      stops.push(await this.focused());
    }
    assert.fail(`Tab never reached ${target} on ${this.path}; focus went: ${stops.join(' -> ')}`);
  }

  /** The focused element shows a focus ring of at least 2 px. */
  async assertFocusVisible(target: Locator): Promise<void> {
    const ring = await target.evaluate((el) => {
      const style = getComputedStyle(el);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    assert.ok(ring.style !== 'none' && ring.width >= 2, `${target} shows a focus ring on ${this.path} (outline ${ring.style} ${ring.width}px)`);
  }

  /** The text of the page's alert (role="alert"), which must be visible. */
  async alertText(): Promise<string> {
    const alert = this.page.getByRole('alert');
    assert.equal(await alert.count(), 1, `one alert on ${this.path}`);
    assert.ok(await alert.isVisible(), `the alert on ${this.path} is visible`);
    return (await alert.innerText()).trim();
  }

  async close(): Promise<void> {
    try {
      assert.equal(this.#loads, this.#checkedLoads, 'every page the journey loaded was checked');
      this.assertClean();
    } finally {
      await this.context.close();
    }
  }
}

/** Waits up to `timeoutMs` for `condition`, checking every 200 ms. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

/**
 * The password step on the portal's login page, typed as a person would: with the keyboard
 * alone (the username field has the focus; Tab; Enter) or with the mouse. Ends on the page
 * the sign-in leads to, checked with `next`.
 */
export async function signInWithPassword(journey: Journey, username: string, next: PageCheck = {}, options: { keyboard?: boolean; login?: PageCheck } = {}): Promise<void> {
  const { page } = journey;
  await journey.visit('/login', options.login);
  if (options.keyboard) {
    assert.equal(await journey.focused(), 'input#username', 'the login page puts the focus on the username');
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    assert.equal(await journey.focused(), 'input#password', 'Tab leads from the username to the password');
    await page.keyboard.type(DEMO_PASSWORD);
    await journey.navigate(() => page.keyboard.press('Enter'), next);
  } else {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await journey.navigate(() => page.getByRole('button', { name: 'Sign in' }).click(), next);
  }
}

/** The page's one h1. */
export async function heading(page: Page): Promise<string> {
  return (await page.locator('h1').innerText()).trim();
}

/**
 * From the method choice to the dashboard with the mouse: the authenticator app, the key read
 * off the page, the code it gives, the recovery codes page. Returns the key.
 */
export async function enrolAuthenticatorInBrowser(journey: Journey): Promise<string> {
  const { page } = journey;
  assert.equal(journey.path, '/2fa/enrol', 'enrolment starts at the method choice');
  await page.getByRole('radio', { name: 'Authenticator app (recommended)' }).check();
  await journey.navigate(() => page.getByRole('button', { name: 'Continue' }).click());
  const key = await keyOnPage(page);
  await page.getByLabel('6-digit code').fill(appCode(key));
  await journey.navigate(() => page.getByRole('button', { name: 'Confirm and continue' }).click());
  assert.equal(await heading(page), 'Save your recovery codes');
  await journey.navigate(() => page.getByRole('button', { name: /continue/i }).click());
  assert.equal(journey.path, '/dashboard', 'the enrolment ends on the dashboard');
  return key;
}

/**
 * A bot admin's way to a person on the admin page: sign in (enrolling an authenticator app),
 * "Admin: reset 2FA", search by `search`, and the row of the person named `name`.
 */
export async function botAdminFinds(admin: Journey, search: string, name: RegExp, options: { screenshot?: string } = {}): Promise<Locator> {
  const { page } = admin;
  await signInWithPassword(admin, 'bot.admin');
  await enrolAuthenticatorInBrowser(admin);
  await admin.navigate(() => page.getByRole('link', { name: 'Admin: reset 2FA' }).click());
  await page.getByLabel('Search by name or email').fill(search);
  await admin.navigate(() => page.getByRole('button', { name: 'Search' }).click(), options.screenshot ? { screenshot: options.screenshot } : {});
  return page.locator('tr', { has: page.getByRole('rowheader', { name }) });
}
