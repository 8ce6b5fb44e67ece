import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import express from 'express';
import { describe, it } from 'mocha';
import { MemoryStore, secondFactor } from 'passport-second-factor';
import { testNodeFlags } from './helpers/node-flags.js';

const require = createRequire(import.meta.url);
const major = process.env.EXPRESS_MAJOR ?? '5';
const chosen = major === '4' ? 'express4' : 'express';
const other = major === '4' ? 'express' : 'express4';

// `npm test` runs the suite twice, on Express 5 and on Express 4 (test/support/express-major.mjs).
describe(`the suite's Express (EXPRESS_MAJOR=${major})`, () => {
  it(`resolves every import of express to Express ${major}`, () => {
    assert.equal(express, require(chosen));
    assert.equal((require(`${chosen}/package.json`) as { version: string }).version.split('.')[0], major);
  });

  it(`loads no file of the other Express, the package's own Router included`, () => {
    const twoFactor = secondFactor({ issuer: 'Major Check', store: new MemoryStore(), encryptionKey: 'c'.repeat(64), logger: quiet });
    const app = express();
    app.use('/2fa', twoFactor.router);
    app.use(twoFactor.guard);
    const loaded = Object.keys(require.cache);
    assert.ok(loaded.some((file) => file.includes(`/node_modules/${chosen}/lib/`)), `${chosen} is loaded`);
    assert.deepEqual(loaded.filter((file) => file.includes(`/node_modules/${other}/`)), [], `no file of ${other} is loaded`);
  });

  it('gives child processes started with testNodeFlags the same Express, and the package from src/', async () => {
    const script = `
      import express from 'express';
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      console.log(JSON.stringify({ express4: express === require('express4'), package: import.meta.resolve('passport-second-factor') }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [...testNodeFlags, '--input-type=module', '--eval', script]);
    const child = JSON.parse(stdout) as { express4: boolean; package: string };
    assert.equal(child.express4, major === '4');
    assert.match(child.package, /\/src\/index\.ts$/);
  });
});

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
