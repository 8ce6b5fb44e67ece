import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { failingFindings, e2eSuite, Journey, launchBrowser, runAxe } from './helpers.js';

/**
 * The checks the journeys rely on, shown to fail where they should: a journey that passes
 * means something only if these catch what they are meant to catch.
 */
describe('browser journeys: the checks themselves', function () {
  this.timeout(60_000);
  const e2e = e2eSuite({ prefix: 'harness:' });

  it('fails with a message that says how to get Chromium when it cannot be launched', async () => {
    await assert.rejects(launchBrowser('/nonexistent/chromium'), (error: Error) => {
      assert.match(error.message, /could not launch Chromium at \/nonexistent\/chromium/);
      assert.match(error.message, /apt-get install -y chromium/);
      return true;
    });
  });

  it('serves the portal with a strict Content Security Policy: no inline script or style, nothing from elsewhere', async () => {
    const response = await fetch(`${e2e.portal.url}/login`);
    const policy = response.headers.get('content-security-policy') ?? '';
    const directive = (name: string) => policy.split(';').find((d) => d.trim().startsWith(`${name} `))?.trim();
    assert.equal(directive('default-src'), "default-src 'self'");
    assert.equal(directive('script-src'), "script-src 'self'");
    assert.equal(directive('script-src-attr'), "script-src-attr 'none'");
    assert.equal(directive('style-src'), "style-src 'self'");
    assert.equal(directive('object-src'), "object-src 'none'");
    assert.equal(directive('form-action'), "form-action 'self'");
  });

  it('reports a page with an unlabelled field, an image without text and low-contrast text as failing axe', async () => {
    const context = await e2e.browser.newContext();
    try {
      const page = await context.newPage();
      await page.setContent('<!doctype html><html lang="en"><title>Bad</title><main><h1>Bad</h1><input name="code"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p style="color: #bbb; background: #fff">Faint</p></main></html>');
      const ids = failingFindings(await runAxe(page)).map((f) => f.id).sort();
      assert.deepEqual(ids, ['color-contrast', 'image-alt', 'label']);
    } finally {
      await context.close();
    }
  });

  for (const javaScriptEnabled of [true, false]) {
    it(`catches an inline style${javaScriptEnabled ? ' and an inline script' : ''} under the portal's policy (scripts ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const policy = (await fetch(`${e2e.portal.url}/login`)).headers.get('content-security-policy')!;
      const journey = await Journey.open(e2e.browser, e2e.portal.url, { javaScriptEnabled });
      try {
        // A page of the portal's origin with the portal's policy, and what that policy forbids.
        await journey.context.route(`${e2e.portal.url}/made-to-fail`, (route) =>
          route.fulfill({
            status: 200,
            headers: { 'content-type': 'text/html', 'content-security-policy': policy },
            body: '<!doctype html><html lang="en"><head><title>Made to fail</title></head><body><main><h1>Made to fail</h1><p style="color: #000">Inline style</p></main><script>document.title = "ran"</script></body></html>',
          }),
        );
        await assert.rejects(journey.visit('/made-to-fail'), (error: Error) => {
          assert.match(error.message, /Content Security Policy violations/);
          assert.match(error.message, /style-src/);
          if (javaScriptEnabled) assert.match(error.message, /script-src/);
          return true;
        });
        assert.equal(await journey.page.title(), 'Made to fail', 'the inline script did not run');
      } finally {
        await journey.context.close();
      }
    });
  }

  it('fails a journey whose page was loaded without being checked', async () => {
    const journey = await Journey.open(e2e.browser, e2e.portal.url);
    try {
      await journey.visit('/login');
      await journey.page.goto(`${e2e.portal.url}/login?failed=1`);
      await assert.rejects(journey.visit('/login'), /every page the journey loads is checked/);
    } finally {
      await journey.context.close();
    }
  });
});
