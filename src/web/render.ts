import ejs from 'ejs';
import type { Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../options.js';
import type { MessageKey } from './messages.js';

/** The package's own `views/` and `public/`, found from this file in `src/web` or `dist/web`. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const packageViewsDir = join(packageRoot, 'views');
export const packagePublicDir = join(packageRoot, 'public');

type Template = (data: Record<string, unknown>) => string;

export interface PageData {
  readonly title: MessageKey;
  /**
   * The page's alert. `general`: a problem of the page (a text that could not be sent, a resend
   * too soon), not of what was typed, so no field is marked invalid.
   */
  readonly error?: { readonly key: MessageKey; readonly params?: Readonly<Record<string, string | number>>; readonly general?: boolean };
  readonly [name: string]: unknown;
}

/**
 * Renders the package's EJS pages with `ejs` directly, so the host's own view engine and
 * settings are left alone. A view or partial is looked up first in the host's folders, then
 * in ours; compiled templates are cached by resolved file.
 */
export function createRenderer(config: Config) {
  const dirs = [...config.viewDirs.map((dir) => resolve(dir)), packageViewsDir];
  const located = new Map<string, string>();
  const compiled = new Map<string, Template>();
  const partials = partialCache();

  const locate = (name: string): string => {
    let file = located.get(name);
    if (file) return file;
    const wanted = name.endsWith('.ejs') ? name : `${name}.ejs`;
    file = dirs.map((dir) => join(dir, wanted)).find((candidate) => existsSync(candidate));
    if (!file) throw new Error(`second factor: view "${name}" not found in ${dirs.join(', ')}`);
    located.set(name, file);
    return file;
  };

  const template = (file: string): Template => {
    let fn = compiled.get(file);
    if (!fn) {
      fn = ejs.compile(readFileSync(file, 'utf8'), {
        filename: file,
        // Partials resolve through the same override chain as pages, to absolute files...
        includer: (path: string) => ({ filename: locate(path) }),
        // ...and EJS keeps each compiled partial by that file name (without `cache` it reads and
        // compiles every include again at every render), in this renderer's own cache: see render.
        cache: true,
        // Line tracking makes a template error name its line, at a quarter of a render's time:
        // for development, where views are written and overridden.
        compileDebug: !config.production,
      }) as Template;
      compiled.set(file, fn);
    }
    return fn;
  };

  return function render(req: Request, res: Response, status: number, view: string, data: PageData): void {
    const csrfToken = typeof req.csrfToken === 'function' && req.session ? req.csrfToken() : '';
    const lang = config.i18n.localeOf(req);
    const html = withPartials(partials, template(locate(view)), {
      ...data,
      t: config.i18n.translator(lang),
      lang,
      brand: config.brand,
      issuer: config.issuer,
      base: config.basePath,
      assets: `${config.basePath}/assets`,
      loginPath: config.loginPath,
      // Where "Back to …" links lead from pages outside a sign-in (admin, policy): the host's
      // own landing page, the same place a finished sign-in goes.
      homeHref: config.successRedirect,
      rememberDeviceDays: config.policy.rememberDeviceDays ?? 0,
      csrfToken,
    });
    res.status(status);
    // Pages that hold a secret or a code form must not be kept by shared or back-button caches.
    res.set('Cache-Control', 'no-store');
    res.type('html').send(html);
  };
}

export type Render = ReturnType<typeof createRenderer>;

/** A cache of compiled partials, by resolved file, of one renderer. */
function partialCache(): ejs.Cache {
  const entries = new Map<string, ejs.TemplateFunction>();
  return {
    get: (file) => entries.get(file),
    set: (file, fn) => void entries.set(file, fn),
    reset: () => entries.clear(),
  };
}

/**
 * Runs a page with `cache` as EJS's partial cache. EJS has one global cache, but a compiled
 * partial carries the includer of the renderer that compiled it: a host partial that includes
 * another would resolve it through the wrong renderer's overrides if two renderers shared
 * entries. The swap is safe because rendering is synchronous: nothing else runs in between.
 */
function withPartials(cache: ejs.Cache, page: Template, data: Record<string, unknown>): string {
  const shared = ejs.cache;
  ejs.cache = cache;
  try {
    return page(data);
  } finally {
    ejs.cache = shared;
  }
}
