// A complete host app on the package's embedded defaults: second-factor state in memory and
// text-message codes printed on this console, so it runs with no account anywhere.
// `node server.mjs`, open http://localhost:3000, sign in as ada / correct horse battery staple.
// The .mjs extension makes it an ES module whatever package.json says ("type": "commonjs").
import { scryptSync, timingSafeEqual } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { secondFactor } from 'passport-second-factor';

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

const twoFactor = secondFactor({ issuer: 'Acme Portal' });

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title>${body}</html>`;

const app = express();
app.use(session({
  secret: process.env.SESSION_SECRET ?? 'dev-only-secret', // development fallback: set SESSION_SECRET anywhere else
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
