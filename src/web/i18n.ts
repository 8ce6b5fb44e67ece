import type { Request } from 'express';
import { headerMemo } from '../header-memo.js';
import { en, format, type MessageKey } from './messages.js';
import { es } from './messages.es.js';

/** The shipped tables. A host adds a locale, or overrides any string, with the `messages` option. */
export const shippedMessages: Readonly<Record<string, Readonly<Partial<Record<MessageKey, string>>>>> = { en, es };

export type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

/**
 * One table per locale, merged once at start-up: the host's strings over ours, and English (with
 * the host's English overrides) for any key a table lacks, so a page never shows a bare key.
 */
export function createTranslations(options: {
  messages?: Readonly<Record<string, Readonly<Partial<Record<string, string>>>>>;
  locale?: (req: Request) => string | undefined;
}) {
  const tables = new Map<string, Readonly<Record<string, string>>>();
  const locales = new Set([...Object.keys(shippedMessages), ...Object.keys(options.messages ?? {})]);
  const english = { ...en, ...options.messages?.en };
  for (const locale of locales) {
    tables.set(locale, Object.freeze({ ...english, ...shippedMessages[locale], ...options.messages?.[locale] }));
  }
  const supported = [...locales];
  const translators = new Map<string, Translate>();
  for (const [locale, table] of tables) {
    translators.set(locale, (key, params) => format(table[key] ?? key, params));
  }

  // The browser's best match for recent Accept-Language headers: every page asks for it.
  const negotiated = headerMemo<string>(200, 512);

  /** The host's choice when it names a locale we have; else the browser's best match; else English. */
  function localeOf(req: Request): string {
    const chosen = options.locale?.(req);
    if (chosen && tables.has(chosen)) return chosen;
    return negotiated.get(req.headers['accept-language'], () => {
      const accepted = req.acceptsLanguages(...supported);
      return typeof accepted === 'string' ? accepted : 'en';
    });
  }

  return {
    supported,
    localeOf,
    /** How many Accept-Language headers are kept with their match now (for the test of the bound). */
    rememberedLanguageHeaders: (): number => negotiated.size(),
    translator: (locale: string): Translate => translators.get(locale) ?? translators.get('en')!,
  };
}

export type Translations = ReturnType<typeof createTranslations>;
