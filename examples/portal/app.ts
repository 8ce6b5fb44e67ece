import { RedisStore as SessionRedisStore } from 'connect-redis';
import { csrfSync } from 'csrf-sync';
import express, { type Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { timingSafeEqual } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { secondFactor, canAdminister, seedRolePreset, MemoryStore, RedisStore, type SecondFactor, type SecondFactorOptions, type TwoFactorStore } from 'passport-second-factor';
import { DEMO_PASSWORD, demoUsers, findByUsername, findUser, searchUsers, type PortalUser } from './users.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User extends PortalUser {}
  }
}

export interface PortalOptions {
  /** A connected node-redis client: sessions and 2FA state then live in Redis. */
  readonly redis?: RedisClientType<any, any, any, any, any>;
  /** Options passed on to secondFactor() (store and issuer have portal defaults). */
  readonly secondFactor?: Partial<SecondFactorOptions>;
  /** Session secret. */
  readonly sessionSecret?: string;
  /**
   * The Secure flag on the session cookie. By default it is set when the request came over
   * HTTPS (`req.secure`), which behind a TLS-terminating proxy needs `trust proxy`.
   * @default 'auto'
   */
  readonly secureCookies?: boolean;
}

export interface Portal {
  readonly app: Express;
  readonly twoFactor: SecondFactor;
  readonly store: TwoFactorStore;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Acme Portal</title><link rel="stylesheet" href="/2fa/assets/second-factor.css"></head>
<body><header class="sf-header"><span class="sf-brand">Acme Portal</span></header>
<main id="main" class="sf-main"><div class="sf-card">${body}</div></main></body></html>`;
}

type Alert = { readonly kind: 'alert' | 'notice'; readonly text: string };

function alertHtml(alert: Alert | undefined): string {
  if (!alert) return '';
  return alert.kind === 'alert'
    ? `<div class="sf-alert" role="alert"><p>${escape(alert.text)}</p></div>`
    : `<div class="sf-notice" role="status"><p>${escape(alert.text)}</p></div>`;
}

function loginPage(csrfToken: string, returnTo: string, alert?: Alert): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
${alertHtml(alert)}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${escape(csrfToken)}">
<input type="hidden" name="returnTo" value="${escape(returnTo)}">
<div class="sf-field"><label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" required autofocus></div>
<div class="sf-field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button type="submit" class="sf-button">Sign in</button>
</form>
<p class="sf-hint">Demo accounts: ${demoUsers.map((u) => `<code>${escape(u.username)}</code>`).join(', ')}; password <code>${DEMO_PASSWORD}</code>.</p>`,
  );
}

function passwordMatches(given: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(DEMO_PASSWORD);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The example portal: passport-local, express-session, the second factor in front of everything. */
export function createPortal(options: PortalOptions = {}): Portal {
  const app = express();
  app.set('trust proxy', 'loopback');
  // helmet's default CSP, made strict for styles too (its default style-src allows https: and
  // 'unsafe-inline'): no inline script, no inline style, nothing from other origins. The 2FA
  // pages need nothing more (test/e2e checks every page for violations).
  app.use(helmet({ contentSecurityPolicy: { directives: { styleSrc: ["'self'"] } } }));

  const store: TwoFactorStore = options.secondFactor?.store ?? (options.redis ? new RedisStore({ client: options.redis }) : new MemoryStore());

  const sessionStore = options.redis ? new SessionRedisStore({ client: options.redis, prefix: 'portal-sess:' }) : undefined;
  app.use(
    session({
      name: 'portal.sid',
      secret: options.sessionSecret ?? 'portal-demo-session-secret-change-me',
      resave: false,
      saveUninitialized: false,
      ...(sessionStore ? { store: sessionStore } : {}),
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.secureCookies ?? 'auto', maxAge: 8 * 60 * 60 * 1000 },
    }),
  );

  // One Passport instance per portal, so several portals in one process (tests) stay apart.
  const auth = new passport.Passport();
  auth.use(
    new LocalStrategy((username, password, done) => {
      const user = findByUsername(username);
      if (!user || !passwordMatches(password)) return done(null, false);
      return done(null, user);
    }),
  );
  auth.serializeUser((user, done) => done(null, user.id));
  auth.deserializeUser((id: string, done) => done(null, findUser(id) ?? false));
  app.use(auth.initialize());
  app.use(auth.session());

  // The portal's own forms (sign in, sign out) carry a synchronizer token like the package's
  // pages. The login form comes before any sign-in, so showing it starts a session to hold the
  // token; the password step then regenerates the session (passport 0.7), so that pre-login
  // session never becomes a signed-in one (no fixation).
  const csrf = csrfSync({ getTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined });
  const ownForm = express.urlencoded({ extended: false, limit: '4kb' });

  const twoFactor = secondFactor({
    issuer: 'Acme Portal',
    // Platform staff and partner admins must enrol even when the portal is "optional".
    policy: { mode: 'required', roleModes: { 'bot-admin': 'required', 'partner-admin': 'required' }, rememberDeviceDays: 30 },
    canManagePolicy: (user) => user.role === 'bot-admin',
    users: {
      find: (id) => findUser(id),
      search: (query, { offset, limit }) => searchUsers(query, offset, limit),
    },
    roles: { roleOf: (user) => user.role, tenantOf: (user) => user.tenant, rules: seedRolePreset },
    ...options.secondFactor,
    store,
  });

  app.get('/login', (req, res) => {
    const returnTo = typeof req.query.returnTo === 'string' ? req.query.returnTo : '';
    const alert: Alert | undefined =
      req.query.failed === '1' ? { kind: 'alert', text: 'Wrong username or password.' } : req.query.signedOut === '1' ? { kind: 'notice', text: 'You’re signed out.' } : undefined;
    res.set('Cache-Control', 'no-store');
    res.type('html').send(loginPage(csrf.generateToken(req), returnTo, alert));
  });

  /**
   * Checked before the password is: a login form posted from another site (or one whose
   * session has expired) is answered with the form again and a token that works, 403.
   */
  const loginFormProtection: express.RequestHandler = (req, res, next) => {
    if (csrf.isRequestValid(req)) return next();
    const { returnTo } = req.body as Record<string, unknown>;
    res.status(403).set('Cache-Control', 'no-store');
    return res.type('html').send(loginPage(csrf.generateToken(req), typeof returnTo === 'string' ? returnTo : '', { kind: 'alert', text: 'This sign-in form has expired. Please sign in again.' }));
  };

  app.post('/login', ownForm, loginFormProtection, auth.authenticate('local', { failureRedirect: '/login?failed=1' }), twoFactor.afterLogin);

  app.use('/2fa', twoFactor.router);
  app.use(twoFactor.guard);
  app.use('/admin/2fa', twoFactor.adminRouter);

  app.post('/logout', ownForm, (req, res, next) => {
    // Another site must not sign people out; a stale page's button is sent back to the app.
    if (!csrf.isRequestValid(req)) {
      return res
        .status(403)
        .type('html')
        .send(page('Sign out', '<h1>Sign out</h1><div class="sf-alert" role="alert"><p>This page has expired. Go back to the portal and sign out from there.</p></div><p><a href="/dashboard">Back to the portal</a></p>'));
    }
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy(() => res.redirect(303, '/login?signedOut=1'));
    });
  });

  const requireLogin: express.RequestHandler = (req, res, next) => {
    if (req.user) return next();
    if (req.accepts(['html', 'json']) === 'json') return res.status(401).json({ error: 'not_signed_in' });
    return res.redirect(303, `/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
  };

  app.get('/', (_req, res) => res.redirect(303, '/dashboard'));

  app.get('/dashboard', requireLogin, async (req, res, next) => {
    const user = req.user!;
    let status;
    try {
      status = await twoFactor.statusOf(user);
    } catch (error) {
      return next(error);
    }
    const secondStep = status.method
      ? `<p>You signed in with your password and a second factor (${status.method === 'totp' ? 'authenticator app' : 'text message'}). <a href="/2fa/settings">Two-step verification settings</a></p>`
      : status.skipped
        ? `<p>Two-step verification is off for your account. <a href="/2fa/enable">Enable 2FA</a></p>`
        : '<p>Two-step verification is not asked on this portal right now.</p>';
    const admin =
      (canAdminister(seedRolePreset, { role: user.role }) ? '<p><a href="/admin/2fa">Admin: reset 2FA</a></p>' : '') +
      (user.role === 'bot-admin' ? '<p><a href="/admin/2fa/policy">Portal 2FA setting</a></p>' : '') +
      // A partner admin sets their own firm's policy (it covers the firm's clients): stricter than the portal, never looser.
      (user.tenant !== '' && canAdminister(seedRolePreset, { role: user.role }) ? '<p><a href="/admin/2fa/policy/firm">Your firm’s 2FA policy</a></p>' : '');
    res.type('html').send(
      page(
        'Dashboard',
        `<h1>Dashboard</h1><p>Welcome, <strong>${escape(user.name)}</strong> (${escape(user.role)}, ${escape(user.firm)}).</p>
${secondStep}${admin}
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${escape(csrf.generateToken(req))}"><button type="submit" class="sf-button sf-secondary">Sign out</button></form>`,
      ),
    );
  });

  app.get('/api/me', requireLogin, (req, res) => {
    const user = req.user!;
    res.json({ id: user.id, name: user.name, role: user.role });
  });

  // Last: every failure (a session store that is down, say) is a clear page, never a stack trace.
  app.use(twoFactor.errorHandler);

  return { app, twoFactor, store };
}
