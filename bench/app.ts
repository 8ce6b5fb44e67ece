import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { RedisStore as SessionRedisStore } from 'connect-redis';
import express, { type Express } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { RedisClientType } from 'redis';
import { RedisStore, secondFactor, type SecondFactorOptions, type TwoFactorStore } from '../src/index.js';

/**
 * The benchmarked app, in two variants that differ only by the second-factor bundle: the
 * same express-session + connect-redis + passport-local set-up as the example portal, with
 * `afterLogin`, the 2FA router and the guard mounted, or without them. No helmet or other
 * middleware: the less the app does per request, the more visible the guard's share is.
 */
export interface BenchAppOptions {
  readonly redis: RedisClientType<any, any, any, any, any>;
  readonly withSecondFactor: boolean;
  readonly encryptionKey: string;
  /**
   * The password check of the next login, asked at each login (the bench switches it between
   * runs). `plain`: a constant-time comparison (the example portal's demo check). `pbkdf2`: the
   * check of Passport's own tutorial app (todos-express-password): PBKDF2-HMAC-SHA256, 310,000
   * iterations, 32 bytes.
   */
  readonly passwordCheck: () => PasswordCheck;
  /** The second-factor store, in place of a RedisStore on `redis` (a test wraps it to count calls). */
  readonly store?: (store: TwoFactorStore) => TwoFactorStore;
  /** The session store, in place of connect-redis on `redis` (a test wraps it to count writes). */
  readonly sessionStore?: (store: SessionRedisStore) => session.Store;
  /** More options of `secondFactor()` (a test's SMS sender, a longer policy cache). */
  readonly secondFactor?: Partial<SecondFactorOptions>;
  /**
   * The package to mount: this one, or another version of it (the bench's "before" app: the
   * sources of an earlier commit, extracted by bench/before.ts).
   */
  readonly pkg?: BundlePackage;
  /** Without the bundle, the sign-in's four requests with no second-factor work (see mountFloor). */
  readonly floor?: boolean;
}

/** What the bench app takes from the package. */
export interface BundlePackage {
  readonly secondFactor: typeof secondFactor;
  readonly RedisStore: typeof RedisStore;
}

export type PasswordCheck = 'plain' | 'pbkdf2';

export const BENCH_PASSWORD = 'bench-password';
export const SESSION_SECRET = 'bench-session-secret';
/** Where the bench keeps second-factor state in Redis. */
export const STORE_PREFIX = 'sf:';

export interface BenchUser {
  readonly id: string;
  readonly username: string;
  readonly name: string;
}

/** Every id of the form `<letters><digits>` is a user, with the id as username: no lookup table. */
export function benchUser(id: string): BenchUser | undefined {
  return /^[a-z]{1,8}\d{1,9}$/.test(id) ? { id, username: id, name: `Bench ${id}` } : undefined;
}

const pbkdf2Async = promisify(pbkdf2);
const SALT = Buffer.from('bench-salt-0123456789abcdef');
const ITERATIONS = 310_000;

export function createBenchApp(options: BenchAppOptions): Express {
  const app = express();
  app.set('trust proxy', 'loopback');

  const expected = Buffer.from(BENCH_PASSWORD);
  const storedHash = pbkdf2Async(BENCH_PASSWORD, SALT, ITERATIONS, 32, 'sha256');
  const passwordMatches = async (given: string): Promise<boolean> => {
    if (options.passwordCheck() === 'pbkdf2') {
      const derived = await pbkdf2Async(given, SALT, ITERATIONS, 32, 'sha256');
      return timingSafeEqual(derived, await storedHash);
    }
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };

  app.use(
    session({
      name: 'bench.sid',
      secret: SESSION_SECRET,
      resave: false,
      saveUninitialized: false,
      store: (options.sessionStore ?? ((store) => store))(new SessionRedisStore({ client: options.redis, prefix: 'bench-sess:' })),
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 8 * 60 * 60 * 1000 },
    }),
  );

  const auth = new passport.Passport();
  auth.use(
    new LocalStrategy((username, password, done) => {
      const user = benchUser(username);
      if (!user) return done(null, false);
      // The bench's users are not the example portal's (whose type Express.User is in this program).
      passwordMatches(password).then((ok) => done(null, ok ? (user as unknown as Express.User) : false), done);
    }),
  );
  auth.serializeUser((user, done) => done(null, (user as unknown as BenchUser).id));
  auth.deserializeUser((id: string, done) => done(null, (benchUser(id) as unknown as Express.User | undefined) ?? false));
  app.use(auth.initialize());
  app.use(auth.session());

  const login = [express.urlencoded({ extended: false, limit: '4kb' }), auth.authenticate('local', { failureRedirect: '/login?failed=1' })];

  if (options.withSecondFactor) {
    const pkg = options.pkg ?? { secondFactor, RedisStore };
    const twoFactor = pkg.secondFactor({
      issuer: 'Bench Portal',
      store: (options.store ?? ((store) => store))(new pkg.RedisStore({ client: options.redis, prefix: STORE_PREFIX })),
      encryptionKey: options.encryptionKey,
      successRedirect: '/dashboard',
      // The bench signs in with authenticator codes only: no text message is ever sent.
      allowConsoleSenderInProduction: true,
      logger: { info: () => {}, warn: () => {}, error: (message) => console.error(message) },
      ...options.secondFactor,
    });
    app.post('/login', ...login, twoFactor.afterLogin);
    app.use('/2fa', twoFactor.router);
    app.use(twoFactor.guard);
  } else if (options.floor) {
    mountFloor(app, login);
  } else {
    app.post('/login', ...login, (_req, res) => res.redirect(303, '/dashboard'));
  }

  const requireLogin: express.RequestHandler = (req, res, next) => {
    if (req.user) return next();
    res.status(401).json({ error: 'not_signed_in' });
  };

  app.get('/api/me', requireLogin, (req, res) => {
    res.json({ id: (req.user as unknown as BenchUser).id });
  });

  app.get('/dashboard', requireLogin, (req, res) => {
    res.type('html').send(`<!doctype html><title>Dashboard</title><h1>Dashboard</h1><p>Welcome, ${(req.user as unknown as BenchUser).id}.</p>`);
  });

  return app;
}

/**
 * The floor of a four-request sign-in: the same requests as with the bundle (login, its
 * redirect to a code page, the code POST, the dashboard), each doing only what the framework
 * does (a session write at the password step, a page with a token kept in the session, a body
 * parsed, the session regenerated), with no second factor checked. What the bundle costs above
 * this is its own work.
 */
function mountFloor(app: Express, login: express.RequestHandler[]): void {
  app.post('/login', ...login, (req, res) => {
    (req.session as unknown as Record<string, unknown>).floor = { pending: true, token: randomBytes(32).toString('hex') };
    res.redirect(303, '/2fa/verify');
  });
  app.get('/2fa/verify', (req, res) => {
    const { token } = (req.session as unknown as { floor: { token: string } }).floor;
    res.type('html').send(`<!doctype html><title>Code</title><form method="post" action="/2fa/verify"><input type="hidden" name="_csrf" value="${token}"><input name="code"></form>`);
  });
  app.post('/2fa/verify', express.urlencoded({ extended: false, limit: '4kb' }), (req, res, next) => {
    const session = req.session as unknown as { floor?: { token: string }; passport: unknown };
    if (req.body._csrf !== session.floor?.token) return void res.status(403).end();
    const passportState = session.passport;
    req.session.regenerate((error) => {
      if (error) return next(error);
      (req.session as unknown as { passport: unknown }).passport = passportState;
      res.redirect(303, '/dashboard');
    });
  });
}
