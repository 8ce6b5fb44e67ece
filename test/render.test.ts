import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ejs from 'ejs';
import { before, describe, it } from 'mocha';
import { signIn, startPortal } from './helpers/portal.js';

/** Counts ejs.compile calls while `run` runs: how many templates (pages and partials) were compiled. */
async function compilesDuring(run: () => Promise<unknown>): Promise<number> {
  const original = ejs.compile;
  let count = 0;
  ejs.compile = ((...args: Parameters<typeof original>) => {
    count += 1;
    return original(...args);
  }) as typeof original;
  try {
    await run();
  } finally {
    ejs.compile = original;
  }
  return count;
}

describe('page rendering', () => {
  let views: string;

  before(async () => {
    views = await mkdtemp(join(tmpdir(), 'psf-views-'));
    await mkdir(join(views, 'partials'));
    await writeFile(join(views, 'partials', 'sign-out.ejs'), '<p class="host-sign-out">The host’s own sign-out partial</p>\n');
  });

  it('compiles each page and partial once, then renders from the compiled templates', async () => {
    const portal = startPortal();
    const agent = portal.agent();
    await signIn(agent, 'acme.ops');
    // The first render may compile (unless an earlier test already did); later ones never do.
    await agent.get('/2fa/enrol').expect(200);
    const again = await compilesDuring(async () => {
      for (let i = 0; i < 3; i += 1) await agent.get('/2fa/enrol').expect(200);
    });
    assert.equal(again, 0);
  });

  it('still honours a host partial that overrides ours, in a renderer of its own', async () => {
    const plain = startPortal();
    const overridden = startPortal({ secondFactor: { views } });
    const a = plain.agent();
    const b = overridden.agent();
    await signIn(a, 'acme.ops');
    await signIn(b, 'acme.ops');
    const first = await compilesDuring(async () => {
      const page = await b.get('/2fa/enrol').expect(200);
      assert.match(page.text, /The host’s own sign-out partial/);
    });
    assert.ok(first >= 1, 'the override partial is compiled on first use');
    // The package's own renderer keeps the package's partial: the cache is by resolved file.
    const ours = await a.get('/2fa/enrol').expect(200);
    assert.doesNotMatch(ours.text, /The host’s own sign-out partial/);
    const page = await b.get('/2fa/enrol').expect(200);
    assert.match(page.text, /The host’s own sign-out partial/);
  });

  it('resolves a host partial’s own includes through each renderer’s overrides, even when two renderers share the partial', async () => {
    // Both renderers find partials/sign-out.ejs in `shared`; it includes partials/extra, which
    // the second renderer overrides in a folder of its own.
    const shared = await mkdtemp(join(tmpdir(), 'psf-views-shared-'));
    const own = await mkdtemp(join(tmpdir(), 'psf-views-own-'));
    await mkdir(join(shared, 'partials'));
    await mkdir(join(own, 'partials'));
    await writeFile(join(shared, 'partials', 'sign-out.ejs'), "<%- include('partials/extra') %>\n");
    await writeFile(join(shared, 'partials', 'extra.ejs'), '<p>extra from the shared folder</p>\n');
    await writeFile(join(own, 'partials', 'extra.ejs'), '<p>extra from the second renderer</p>\n');
    const first = startPortal({ secondFactor: { views: [shared] } }).agent();
    const second = startPortal({ secondFactor: { views: [own, shared] } }).agent();
    await signIn(first, 'acme.ops');
    await signIn(second, 'acme.ops');
    assert.match((await first.get('/2fa/enrol').expect(200)).text, /extra from the shared folder/);
    assert.match((await second.get('/2fa/enrol').expect(200)).text, /extra from the second renderer/);
    assert.match((await first.get('/2fa/enrol').expect(200)).text, /extra from the shared folder/);
  });
});
