// Loaded by mocha (.mocharc.json node-option) before any test file. EXPRESS_MAJOR=4 runs the
// suite on Express 4: every `express` the process loads (the package's own Router, static and
// urlencoded, the example portal, the tests) is then the `express4` devDependency, as a host on
// Express 4 would have it through the peer dependency; no Express 5 is mixed in.
import Module, { register } from 'node:module';

const major = process.env.EXPRESS_MAJOR ?? '5';
if (major === '4') {
  // Both loaders: mocha require()s test files on Node >= 20.19 (tsx compiles them), and
  // require() resolution does not go through register()'s hooks on Node 20.
  register('./express4-hooks.mjs', import.meta.url);
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolveFilename.call(this, toExpress4(request), ...rest);
  };
} else if (major !== '5') {
  throw new Error(`EXPRESS_MAJOR must be 4 or 5 (got "${major}")`);
}

function toExpress4(specifier) {
  return specifier === 'express' || specifier.startsWith('express/') ? `express4${specifier.slice('express'.length)}` : specifier;
}
