import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { deviceNameOf, rememberedDeviceNames } from '../src/flow/device-name.js';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0';

describe('device names of User-Agent headers', () => {
  it('names browser (major version) and OS, the same on a header seen before', () => {
    assert.deepEqual(deviceNameOf(chrome), { browser: 'Chrome 131', os: 'Linux' });
    assert.deepEqual(deviceNameOf(firefox), { browser: 'Firefox 133', os: 'macOS' });
    assert.deepEqual(deviceNameOf(chrome), { browser: 'Chrome 131', os: 'Linux' });
    assert.deepEqual(deviceNameOf(undefined), {});
    assert.deepEqual(deviceNameOf(''), {});
  });

  it('keeps at most 500 parsed headers however many different ones arrive', () => {
    for (let i = 0; i < 2_000; i += 1) deviceNameOf(`${chrome} crafted/${i}`);
    assert.equal(rememberedDeviceNames(), 500);
    // Past the bound, headers are still named right, and the count stays put.
    assert.deepEqual(deviceNameOf(`${chrome} crafted/1999`), { browser: 'Chrome 131', os: 'Linux' });
    assert.equal(rememberedDeviceNames(), 500);
  });
});
