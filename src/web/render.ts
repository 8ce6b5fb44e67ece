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
 * in ours; compiled templates (pages and partials) are cached by resolved file.
 */
export function createRenderer(config: Config) {
  const dirs = [...config.viewDirs.map((dir) => resolve(dir)), packageViewsDir];
  const located = new Map<string, string>();
  const compiled = new Map<string, Template>();

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
        // Line tracking makes a template error name its line, at a quarter of a render's time:
        // for development, where views are written and overridden.
        compileDebug: !config.production,
      }) as Template;
      compiled.set(file, fn);
    }
    return fn;
  };

  /**
   * The data of a page or partial, with an `include` of our own. EJS's include copies the data
   * and its own options and asks the file system whether the file exists, at every call (a
   * third of a page's render); ours resolves the name through the same override chain as
   * pages, once, and runs the compiled partial on the same data (merged with the call's, if
   * any). It takes the place of EJS's because a template runs `with (locals)`, whose own
   * `include` property a call finds first.
   */
  const withInclude = (data: Record<string, unknown>): Record<string, unknown> => {
    const locals: Record<string, unknown> = { ...data };
    locals.include = (name: string, extra?: Record<string, unknown>) => template(locate(name))(extra ? withInclude({ ...locals, ...extra }) : locals);
    return locals;
  };

  return function render(req: Request, res: Response, status: number, view: string, data: PageData): void {
    const csrfToken = typeof req.csrfToken === 'function' && req.session ? req.csrfToken() : '';
    const lang = config.i18n.localeOf(req);
    const html = template(locate(view))(withInclude({
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
    }));
    res.status(status);
    // Pages that hold a secret or a code form must not be kept by shared or back-button caches.
    res.set('Cache-Control', 'no-store');
    res.type('html').send(html);
  };
}

export type Render = ReturnType<typeof createRenderer>;
