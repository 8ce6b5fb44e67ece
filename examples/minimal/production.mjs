// server.mjs for production: sessions and second-factor state in Redis, text messages through
// MessageBird, secrets from the environment. It refuses to start without them.
// NODE_ENV=production REDIS_URL=redis://… SESSION_SECRET=… TWO_FACTOR_KEY=… MESSAGEBIRD_ACCESS_KEY=… node production.mjs
import { scryptSync, timingSafeEqual } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { createClient } from 'redis';
import { RedisStore as RedisSessionStore } from 'connect-redis';
import { secondFactor, RedisStore, messageBirdSender } from 'passport-second-factor';

const required = ['REDIS_URL', 'SESSION_SECRET', 'TWO_FACTOR_KEY', 'MESSAGEBIRD_ACCESS_KEY'];
const missing = required.filter((name) => !process.env[name]);
if (missing.length > 0) {
  console.error(`production.mjs: set the environment variables ${missing.join(', ')} (make TWO_FACTOR_KEY with: openssl rand -base64 32)`);
  process.exit(1);
}
const { REDIS_URL, SESSION_SECRET, TWO_FACTOR_KEY, MESSAGEBIRD_ACCESS_KEY } = process.env;

// Demo users. A real app reads its own user table, which keeps only salted password hashes.
const hash = (password) => scryptSync(password, 'demo-salt', 32);
const users = [{ id: '1', username: 'ada', name: 'Ada Lovelace', passwordHash: hash('correct horse battery staple') }];

passport.use(new LocalStrategy((username, password, done) => {
  const user = users.find((u) => u.username === username);
  // Hash even for an unknown name, and compare in constant time: the answer takes as long
  // either way and tells nothing about which part was wrong.
  const given = hash(password);
  done(null, user && timingSafeEqual(given, user.passwordHash) ? user : false);
}));
passport.serializeUser((user, done) => done(null, user.id));
passport.deserializeUser((id, done) => done(null, users.find((u) => u.id === id) ?? false));

// disableOfflineQueue: while Redis is away, requests get a 503 at once instead of hanging.
const redis = createClient({ url: REDIS_URL, disableOfflineQueue: true });
// Without an error listener node-redis ends the process when Redis restarts; with one it
// logs and reconnects.
redis.on('error', (error) => console.error(`redis: ${error.message}`));
await redis.connect();

const twoFactor = secondFactor({
  issuer: 'Acme Portal',
  encryptionKey: TWO_FACTOR_KEY, // 32 bytes that encrypt the authenticator secrets at rest
  store: new RedisStore({ client: redis }),
  sms: messageBirdSender({ accessKey: MESSAGEBIRD_ACCESS_KEY, originator: 'AcmePortal' }),
});

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title>${body}</html>`;

const app = express();
// Behind one TLS-terminating proxy: req.secure follows X-Forwarded-Proto, so secure: 'auto'
// marks the cookie Secure for HTTPS visitors.
app.set('trust proxy', 1);
app.use(session({
  store: new RedisSessionStore({ client: redis, prefix: 'sess:' }),
  secret: SESSION_SECRET,
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto' },
}));
app.use(passport.authenticate('session'));

// The host's own sign-in: Passport checks the password, then afterLogin starts the second factor.
app.get('/login', (req, res) => {
  res.send(page('Sign in', `
    ${'failed' in req.query ? '<p role="alert">Wrong username or password.</p>' : ''}
    <form method="post" action="/login">
      <label>Username <input name="username" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button>Sign in</button>
    </form>`));
});
app.post('/login', express.urlencoded({ extended: false }),
  passport.authenticate('local', { failureRedirect: '/login?failed' }), twoFactor.afterLogin);
app.use('/2fa', twoFactor.router); // the person's pages: before the guard, which sends people there
app.use(twoFactor.guard);          // nothing below runs until the second factor is done

app.get('/', (req, res) => {
  if (!req.user) return res.redirect('/login');
  // Sign-out is the package's route, so the form carries the package's CSRF token.
  res.send(page('Home', `
    <p>Signed in as ${escapeHtml(req.user.name)}.</p>
    <form method="post" action="/2fa/logout">
      <input type="hidden" name="_csrf" value="${escapeHtml(twoFactor.csrfToken(req))}">
      <button>Sign out</button>
    </form>`));
});

app.use(twoFactor.errorHandler); // last: failures become a clear page, never a stack trace

const port = Number(process.env.PORT ?? 3000);
app.listen(port, (error) => {
  if (error) throw error; // Express 5 reports a port in use here, not as a crash
  console.log(`Listening on http://localhost:${port}`);
});
