import assert from 'node:assert/strict';
import express, { type Request } from 'express';
import { describe, it } from 'mocha';
import { headerMemo } from '../src/header-memo.js';
import { rememberedAcceptHeaders, wantsJson } from '../src/http.js';
import { createTranslations } from '../src/web/i18n.js';

/** An Express request with these headers only: enough for req.accepts and req.acceptsLanguages. */
const requestWith = (headers: Record<string, string>): Request => Object.assign(Object.create(express.request) as Request, { headers });

describe('answers kept per request header', () => {
  it('computes once per distinct header, and again for each header too long to keep', () => {
    const memo = headerMemo<string>(3, 10);
    let computed = 0;
    const answer = (header: string | undefined) => memo.get(header, () => `${++computed}:${header ?? '-'}`);
    assert.equal(answer('a'), '1:a');
    assert.equal(answer('a'), '1:a');
    assert.equal(answer(undefined), '2:-');
    assert.equal(answer(undefined), '2:-');
    assert.equal(answer('x'.repeat(11)), `3:${'x'.repeat(11)}`);
    assert.equal(answer('x'.repeat(11)), `4:${'x'.repeat(11)}`);
    assert.equal(memo.size(), 2);
  });

  it('keeps at most its bound, dropping the oldest first', () => {
    const memo = headerMemo<number>(3, 100);
    let computed = 0;
    for (const header of ['a', 'b', 'c', 'd']) memo.get(header, () => ++computed);
    assert.equal(memo.size(), 3);
    assert.equal(memo.get('b', () => ++computed), 2, 'b is still kept');
    assert.equal(memo.get('a', () => ++computed), 5, 'a, the oldest, was dropped and is computed again');
  });

  it('wantsJson answers each Accept header as req.accepts does, whatever came before', () => {
    const cases: [string | undefined, boolean][] = [
      ['application/json', true],
      ['text/html', false],
      ['application/json', true],
      [undefined, false],
      ['*/*', false],
      ['application/*', true],
      ['text/html;q=0.5, application/json', true],
      ['text/html, application/json;q=0.9', false],
    ];
    for (const [accept, json] of cases) {
      const req = requestWith(accept === undefined ? {} : { accept });
      assert.equal(wantsJson(req), json, `Accept: ${accept ?? '(none)'}`);
      assert.equal(wantsJson(req), req.accepts(['html', 'json']) === 'json');
    }
  });

  it('wantsJson keeps at most 200 Accept headers however many different ones arrive', () => {
    for (let i = 0; i < 1_000; i += 1) wantsJson(requestWith({ accept: `text/html, application/x-crafted-${i}` }));
    assert.equal(rememberedAcceptHeaders(), 200);
    assert.equal(wantsJson(requestWith({ accept: 'application/json' })), true);
  });

  it('the locale follows each Accept-Language header, the host\'s choice first, and keeps at most 200', () => {
    const i18n = createTranslations({ locale: (req) => (req.headers['x-lang'] as string | undefined) });
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'es-MX, es;q=0.9' })), 'es');
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'en-GB' })), 'en');
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'es-MX, es;q=0.9' })), 'es');
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'fr' })), 'en', 'no shipped French: English');
    assert.equal(i18n.localeOf(requestWith({})), 'en');
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'es', 'x-lang': 'en' })), 'en', "the host's hook decides first");
    for (let i = 0; i < 1_000; i += 1) i18n.localeOf(requestWith({ 'accept-language': `x-${i}, es;q=0.1` }));
    assert.equal(i18n.rememberedLanguageHeaders(), 200);
    assert.equal(i18n.localeOf(requestWith({ 'accept-language': 'x-5, es;q=0.1' })), 'es');
  });
});
