import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type supertest from 'supertest';
import type { SecondFactorOptions } from 'passport-second-factor';
import { en, format } from '../src/web/messages.js';
import { es } from '../src/web/messages.es.js';
import { capturingSender, type CapturingSender } from './helpers/capturing-sender.js';
import { codeAt, continueAfterCodes, csrfFrom, signIn, signOut, startPortal, totpKeyFrom, type TestPortal } from './helpers/portal.js';

const placeholders = (template: string): string[] => [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

/** A browser-like client whose every request says `Accept-Language: language`. */
function agentIn(portal: TestPortal, language: string): supertest.Agent {
  const agent = portal.agent();
  agent.set('Accept-Language', language);
  return agent;
}

function start(secondFactor: Partial<SecondFactorOptions> = {}): { portal: TestPortal; sms: CapturingSender } {
  const sms = capturingSender();
  return { portal: startPortal({ secondFactor: { sms, ...secondFactor } }), sms };
}

/** The method-choice page of a fresh pending sign-in, in `language`. */
async function choosePage(portal: TestPortal, language: string): Promise<string> {
  const agent = agentIn(portal, language);
  await signIn(agent, 'acme.ops');
  const page = await agent.get('/2fa/enrol').expect(200);
  return page.text;
}

async function chooseSms(agent: supertest.Agent) {
  const choose = await agent.get('/2fa/enrol').expect(200);
  await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'sms' }).expect(303);
  const form = await agent.get('/2fa/enrol/sms').expect(200);
  return agent.post('/2fa/enrol/sms').type('form').send({ _csrf: csrfFrom(form.text), phone: '(415) 555-9443' });
}

describe('localisation', () => {
  it('words a count so it agrees with it: "1 minute", "15 minutes", "1 minuto"', () => {
    assert.equal(format(en['error.locked'], { minutes: 1 }), 'Too many wrong codes. Verification is locked for about 1 minute.');
    assert.equal(format(en['error.locked'], { minutes: 15 }), 'Too many wrong codes. Verification is locked for about 15 minutes.');
    assert.equal(format(en['error.resend_cooldown'], { seconds: 1 }), 'Please wait 1 second before asking for a new code.');
    assert.match(format(es['error.locked'], { minutes: 1 }), /unos 1 minuto\./);
    assert.match(format(es['error.locked'], { minutes: 2 }), /unos 2 minutos\./);
    // A template whose count is not given keeps its placeholder, as plain ones do.
    assert.equal(format('{n|one|many}'), '{n|one|many}');
  });

  describe('the Spanish table', () => {
    it('has exactly the keys of the English table', () => {
      const missing = Object.keys(en).filter((key) => !(key in es));
      const extra = Object.keys(es).filter((key) => !(key in en));
      assert.deepEqual(missing, [], `keys without Spanish: ${missing.join(', ')}`);
      assert.deepEqual(extra, [], `Spanish keys English lacks: ${extra.join(', ')}`);
    });

    it('keeps the placeholders of each English string, and translates it', () => {
      for (const [key, english] of Object.entries(en)) {
        const spanish = (es as Record<string, string>)[key];
        assert.equal(typeof spanish, 'string', key);
        assert.notEqual(spanish!.trim(), '', `${key} is empty`);
        assert.deepEqual(placeholders(spanish!), placeholders(english), `placeholders of ${key}`);
      }
      // Words that never change between languages aside, Spanish is not English copied over.
      const same = Object.keys(en).filter((key) => (es as Record<string, string>)[key] === (en as Record<string, string>)[key]);
      assert.deepEqual(same, [], `left in English: ${same.join(', ')}`);
    });
  });

  describe('the locale of a request', () => {
    it('renders the pages in Spanish for Accept-Language: es', async () => {
      const { portal } = start();
      const html = await choosePage(portal, 'es-ES,es;q=0.9,en;q=0.5');
      assert.match(html, /<html lang="es">/);
      assert.match(html, /<title>Configure la verificación en dos pasos · Acme Portal<\/title>/);
      assert.match(html, /<h1>Configure la verificación en dos pasos<\/h1>/);
      assert.match(html, /<label for="method-totp">Aplicación de autenticación \(recomendado\)<\/label>/);
      assert.match(html, /<label for="method-sms">Mensaje de texto \(solo EE. UU.\)<\/label>/);
      assert.match(html, />Ir al contenido principal</);
      assert.match(html, />Cerrar sesión</);
      assert.doesNotMatch(html, /Set up two-step verification|Authenticator app|Sign out|Continue/);
    });

    it('stays in English for a language without a table, and picks the best one it has', async () => {
      const { portal } = start();
      const german = await choosePage(portal, 'de-DE,de;q=0.9');
      assert.match(german, /<html lang="en">/);
      assert.match(german, /<h1>Set up two-step verification<\/h1>/);
      const preferGerman = await choosePage(portal, 'de, es;q=0.8, en;q=0.5');
      assert.match(preferGerman, /<html lang="es">/);
    });

    it('words the JSON refusal of the guard in the request’s language', async () => {
      const { portal } = start();
      const agent = agentIn(portal, 'es');
      await signIn(agent, 'acme.ops');
      const api = await agent.get('/api/me').set('Accept', 'application/json').expect(401);
      assert.equal(api.body.error, 'second_factor_required');
      assert.equal(api.body.message, es['verify.required']);
    });

    it('lets the host’s locale(req) option win over Accept-Language', async () => {
      const chosen: Array<string | undefined> = [];
      const { portal } = start({
        locale: (req) => {
          const wanted = typeof req.query.lang === 'string' ? req.query.lang : req.get('X-Profile-Locale');
          chosen.push(wanted);
          return wanted;
        },
      });
      const agent = agentIn(portal, 'es');
      agent.set('X-Profile-Locale', 'en');
      await signIn(agent, 'acme.ops');
      const english = await agent.get('/2fa/enrol').expect(200);
      assert.match(english.text, /<html lang="en">/);
      assert.match(english.text, /<h1>Set up two-step verification<\/h1>/);
      assert.ok(chosen.includes('en'), 'the option was asked');

      const spanish = await agent.get('/2fa/enrol?lang=es').set('Accept-Language', 'en').expect(200);
      assert.match(spanish.text, /<html lang="es">/);
      assert.match(spanish.text, /<h1>Configure la verificación en dos pasos<\/h1>/);

      // A locale without a table: Accept-Language decides.
      const unknown = await agent.get('/2fa/enrol?lang=de').expect(200);
      assert.match(unknown.text, /<html lang="es">/);
    });

    it('takes the host’s messages: one English string overridden, a locale added that falls back to English', async () => {
      const { portal } = start({
        messages: {
          en: { 'choose.continue': 'Next step' },
          fr: { 'page.title.choose': 'Configurez la validation en deux étapes' },
        },
      });
      const english = await choosePage(portal, 'en');
      assert.match(english, /<button type="submit" class="sf-button">Next step<\/button>/);
      assert.match(english, /<h1>Set up two-step verification<\/h1>/);

      const french = await choosePage(portal, 'fr-FR,fr;q=0.9');
      assert.match(french, /<html lang="fr">/);
      assert.match(french, /<h1>Configurez la validation en deux étapes<\/h1>/);
      // Keys the French table lacks come from English, the host's English included.
      assert.match(french, /<label for="method-totp">Authenticator app \(recommended\)<\/label>/);
      assert.match(french, /<button type="submit" class="sf-button">Next step<\/button>/);

      const spanish = await choosePage(portal, 'es');
      assert.match(spanish, /<button type="submit" class="sf-button">Continuar<\/button>/);
    });
  });

  describe('text and files that leave the page', () => {
    it('texts the code in Spanish to a Spanish request, at enrolment and at sign-in', async () => {
      const { portal, sms } = start();
      const agent = agentIn(portal, 'es');
      await signIn(agent, 'acme.ops');
      const sent = await chooseSms(agent);
      assert.equal(sent.status, 303, sent.text);
      assert.equal(sms.sent.length, 1);
      assert.match(sms.sent[0]!.body, /^Su código de Acme Portal es \d{6}$/);

      const confirm = await agent.get('/2fa/enrol/sms/confirm').expect(200);
      assert.match(confirm.text, /Código enviado al/);
      const shown = await agent.post('/2fa/enrol/sms/confirm').type('form').send({ _csrf: csrfFrom(confirm.text), code: sms.lastCode() });
      const { done } = await continueAfterCodes(agent, shown);
      assert.equal(done.status, 303, done.text);
      await signOut(agent);
      portal.clock.advance(31);

      await signIn(agent, 'acme.ops');
      assert.equal(sms.sent.length, 2);
      assert.match(sms.sent[1]!.body, /^Su código de Acme Portal es \d{6}$/);

      // The same person from an English browser gets the English text.
      await signOut(agent);
      portal.clock.advance(31);
      const englishAgent = agentIn(portal, 'en');
      await signIn(englishAgent, 'acme.ops');
      assert.match(sms.sent.at(-1)!.body, /^Your Acme Portal code is \d{6}$/);
    });

    it('writes the recovery-codes download in the request’s language', async () => {
      const { portal } = start();
      const agent = agentIn(portal, 'es');
      await signIn(agent, 'acme.ops');
      const choose = await agent.get('/2fa/enrol').expect(200);
      await agent.post('/2fa/enrol').type('form').send({ _csrf: csrfFrom(choose.text), method: 'totp' }).expect(303);
      const page = await agent.get('/2fa/enrol/totp').expect(200);
      const shown = await agent
        .post('/2fa/enrol/totp')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), code: codeAt(totpKeyFrom(page.text), portal.clock.t) })
        .expect(200);
      assert.match(shown.text, /<h1>Guarde sus códigos de recuperación<\/h1>/);
      const href = /href="data:text\/plain;charset=utf-8,([^"]+)"/.exec(shown.text)?.[1];
      assert.ok(href, 'a download link');
      const file = decodeURIComponent(href.replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
      assert.match(file, /^Códigos de recuperación de Acme Portal\r\n/);
      assert.match(file, /Generados el 2026-01-05\./);
    });
  });

  describe('brand', () => {
    it('shows the product name, logo and stylesheet the host gives', async () => {
      const { portal } = start({ brand: { name: 'Acme Secure', logoUrl: '/brand/logo.svg', stylesheetUrl: '/brand/theme.css' } });
      const html = await choosePage(portal, 'en');
      const head = html.slice(0, html.indexOf('</head>'));
      assert.match(head, /<title>Set up two-step verification · Acme Secure<\/title>/);
      assert.match(head, /<link rel="stylesheet" href="\/brand\/theme.css">/);
      assert.doesNotMatch(head, /second-factor\.css/);
      assert.match(html, /<header class="sf-header">.*<img class="sf-logo" src="\/brand\/logo.svg" alt="">.*Acme Secure.*<\/header>/);
    });

    it('falls back to the issuer and the package stylesheet, with no logo', async () => {
      const { portal } = start();
      const html = await choosePage(portal, 'es');
      assert.match(html, /<title>Configure la verificación en dos pasos · Acme Portal<\/title>/);
      assert.match(html, /<link rel="stylesheet" href="\/2fa\/assets\/second-factor.css">/);
      assert.doesNotMatch(html, /sf-logo/);
      assert.match(html, /<header class="sf-header">.*Acme Portal.*<\/header>/);
    });
  });
});
