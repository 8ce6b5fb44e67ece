import { chromium } from 'playwright-core';
import { createClient } from 'redis';
import { createPortal } from '../../examples/portal/app.js';
import { startRedis } from '../helpers/redis.js';
import { readFileSync } from 'node:fs';

const redisServer = await startRedis();
const redis = createClient({ url: redisServer.url });
await redis.connect();
const { app } = createPortal({ redis: redis as any, secondFactor: { encryptionKey: 'a'.repeat(64) } });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const port = (server.address() as any).port;
const base = `http://127.0.0.1:${port}`;
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
console.log('launch ms', Date.now() - t0);
for (const js of [true, false]) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  page.on('console', (m) => console.log(`[js=${js}] console ${m.type()}: ${m.text()}`));
  await page.exposeFunction('__cspViolation', (v: unknown) => console.log('violation', v)).catch((e) => console.log('expose failed', e.message));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => (window as any).__cspViolation?.({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }));
  });
  const res = await page.goto(`${base}/login`);
  console.log('csp', res?.headers()['content-security-policy']);
  console.log('url', page.url(), await page.evaluate(() => document.activeElement?.id).catch((e) => 'evaluate failed: ' + e.message));
  try { await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' }); console.log('addScriptTag ok', await page.evaluate(() => typeof (window as any).axe)); } catch (e) { console.log('addScriptTag failed', (e as Error).message.split('\n')[0]); }
  try {
    await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
    const r = await page.evaluate(() => (window as any).axe.run(document, { resultTypes: ['violations'] }).then((r: any) => r.violations.map((v: any) => `${v.impact} ${v.id}: ${v.nodes.length}`)));
    console.log('axe', r);
  } catch (e) { console.log('evaluate axe failed', (e as Error).message.split('\n')[0]); }
  await page.fill('#username', 'acme.ops');
  await page.fill('#password', 'demo-password');
  await page.click('button[type=submit]');
  await page.waitForLoadState();
  console.log('after login', page.url());
  await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  console.log('axe', await page.evaluate(() => (window as any).axe.run(document, { resultTypes: ['violations'] }).then((r: any) => r.violations.map((v: any) => `${v.impact} ${v.id}: ${v.nodes.length} ${v.nodes[0].target}`))));
  await page.click('text=Continue');
  await page.waitForLoadState();
  console.log('enrol', page.url());
  await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
  console.log('axe', await page.evaluate(() => (window as any).axe.run(document, { resultTypes: ['violations'] }).then((r: any) => r.violations.map((v: any) => `${v.impact} ${v.id}: ${v.nodes.length} ${v.nodes[0].target} ${v.nodes[0].failureSummary}`))));
  await page.screenshot({ path: `/tmp/enrol-${js}.png` });
  await context.close();
}
await browser.close();
server.close(); server.closeAllConnections();
await redis.quit();
await redisServer.stop();
