import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'mocha';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { TwoFactorStore, UserRecord } from '../store/types.js';

/** What the setup function of `storeContract` resolves to. */
export interface StoreContractSetup {
  readonly store: TwoFactorStore;
  /** Called once after the suite: close clients, stop servers. */
  readonly cleanup?: () => Promise<void>;
}

/** Options of `storeContract`. */
export interface StoreContractOptions {
  /**
   * Returns a second store instance over the same backend as the one `setup` created (another
   * client of the same Redis, as a second app instance would have). Called once, after
   * `setup`; `setup`'s `cleanup` should release what it opens. When given, the suite also
   * checks that the two instances see each other's records, values and limiter counts.
   * @default undefined (a store whose state lives in one process has no such second instance)
   */
  readonly shared?: () => Promise<TwoFactorStore>;
}

// Long enough to pass a 1 s TTL on a loaded machine, short enough to keep the suite quick.
const pastOneSecondMs = 1_200;

/**
 * Declares a mocha suite that checks a `TwoFactorStore` implementation: the behaviours the
 * second-factor flow relies on, including atomicity under concurrent bursts. Call it at the
 * top level of a test file:
 *
 * ```ts
 * storeContract('MyStore', async () => ({ store: new MyStore(), cleanup: async () => {} }));
 * ```
 */
export function storeContract(
  name: string,
  setup: () => Promise<StoreContractSetup>,
  options: StoreContractOptions = {},
): void {
  describe(name, function () {
    this.timeout(15_000);

    // Filled by this `before`; each group below takes the store in a `before` of its own,
    // which mocha runs after this one.
    const suite = {} as ContractSuite;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      ({ store: suite.store, cleanup } = await setup());
    });

    after(async () => {
      await cleanup?.();
    });

    userRecordTests(suite);
    batchReadTests(suite);
    valueTests(suite);
    setIfAbsentTests(suite);
    takeTests(suite);
    incrementTests(suite);
    setIfGreaterTests(suite);
    recordWithCountTests(suite);
    memberSetTests(suite);
    limiterTests(suite);
    if (options.shared) sharedBackendTests(suite, options.shared);
  });
}

/** The store under test, once the suite's `setup` has made it. */
interface ContractSuite {
  store: TwoFactorStore;
}

/** User records: getUser, saveUser, deleteUser. */
function userRecordTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('user records', () => {
    it('returns null for a user without a record', async () => {
      assert.equal(await store.getUser(unique('nobody')), null);
    });

    it('reads back a saved record as it was saved, per user', async () => {
      const alice = unique('alice');
      const bob = unique('bob');
      await store.saveUser(alice, fullRecord);
      await store.saveUser(bob, { generation: 2 });
      assert.deepEqual(await store.getUser(alice), fullRecord);
      assert.deepEqual(await store.getUser(bob), { generation: 2 });
    });

    it('replaces the whole record on save, dropping fields the new one lacks', async () => {
      const user = unique('user');
      await store.saveUser(user, fullRecord);
      await store.saveUser(user, { generation: 4, skippedAt: 1_700_000_000_000 });
      assert.deepEqual(await store.getUser(user), { generation: 4, skippedAt: 1_700_000_000_000 });
    });

    it('deletes a record, and deleting an absent one is no error', async () => {
      const user = unique('user');
      await store.saveUser(user, fullRecord);
      await store.deleteUser(user);
      assert.equal(await store.getUser(user), null);
      await store.deleteUser(user);
      await store.deleteUser(unique('never-saved'));
    });

    it('hands out copies: changing a saved or returned record does not change the stored one', async () => {
      const user = unique('user');
      const saved = structuredClone(fullRecord) as { -readonly [K in keyof UserRecord]: UserRecord[K] };
      await store.saveUser(user, saved);
      saved.method = 'sms';
      (saved.recoveryCodes as string[]).push('added-after-save');

      const first = (await store.getUser(user)) as { generation: number; recoveryCodes: string[] };
      assert.deepEqual(first, fullRecord);
      first.generation = 99;
      first.recoveryCodes.length = 0;
      assert.deepEqual(await store.getUser(user), fullRecord);
    });
  });
}

/** Several records in one call: getUsers. */
function batchReadTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('getUsers (several records in one call)', () => {
    it('answers in the order asked, null for people without a record, and [] for none asked', async () => {
      const [alice, nobody, bob] = [unique('alice'), unique('nobody'), unique('bob')];
      await store.saveUser(alice, fullRecord);
      await store.saveUser(bob, { generation: 2, skippedAt: 1_700_000_000_000 });
      assert.deepEqual(await store.getUsers([bob, nobody, alice]), [{ generation: 2, skippedAt: 1_700_000_000_000 }, null, fullRecord]);
      assert.deepEqual(await store.getUsers([]), []);
    });

    it('answers a person asked twice twice, and sees a delete', async () => {
      const user = unique('user');
      await store.saveUser(user, { generation: 1 });
      assert.deepEqual(await store.getUsers([user, user]), [{ generation: 1 }, { generation: 1 }]);
      await store.deleteUser(user);
      assert.deepEqual(await store.getUsers([user]), [null]);
    });

    // 500 people fall in hundreds of cluster slots: the answer must still come back in order.
    it('reads a batch of 500 people, each their own record, as getUser does', async () => {
      const ids = range(500).map((i) => unique(`batch-${i}`));
      await Promise.all(ids.map((id, i) => (i % 3 === 0 ? Promise.resolve() : store.saveUser(id, { generation: i }))));
      const records = await store.getUsers(ids);
      assert.equal(records.length, 500);
      records.forEach((record, i) => assert.deepEqual(record, i % 3 === 0 ? null : { generation: i }, `person ${i}`));
    });

    it('hands out copies: changing a returned record does not change the stored one', async () => {
      const user = unique('user');
      await store.saveUser(user, fullRecord);
      const [first] = (await store.getUsers([user])) as unknown as [{ recoveryCodes: string[] }];
      first.recoveryCodes.length = 0;
      assert.deepEqual(await store.getUser(user), fullRecord);
    });
  });
}

/** Plain values: get, set (with and without a TTL), delete, and TTLs across the value operations. */
function valueTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('values', () => {
    it('returns null for an absent key', async () => {
      assert.equal(await store.get(unique('absent')), null);
    });

    it('reads back a value, and set replaces it', async () => {
      const key = unique('value');
      await store.set(key, 'one');
      assert.equal(await store.get(key), 'one');
      await store.set(key, 'two', 60);
      assert.equal(await store.get(key), 'two');
    });

    it('deletes several keys in one call and ignores absent ones', async () => {
      const [a, b, kept] = [unique('a'), unique('b'), unique('kept')];
      await Promise.all([store.set(a, '1'), store.set(b, '2', 60), store.set(kept, '3')]);
      await store.delete(a, b, unique('absent'));
      assert.equal(await store.get(a), null);
      assert.equal(await store.get(b), null);
      assert.equal(await store.get(kept), '3');
      await store.delete();
    });

    it('forgets values once their TTL has passed; set without a TTL clears it, increment and setIfGreater keep it', async () => {
      const [plain, ifAbsent, taken, cleared, counted, greatest] = [
        unique('plain'), unique('if-absent'), unique('taken'), unique('cleared'), unique('counted'), unique('greatest'),
      ];
      await store.set(plain, 'v', 1);
      assert.equal(await store.setIfAbsent(ifAbsent, 'v', 1), true);
      await store.set(taken, 'v', 1);
      await store.set(cleared, 'v', 1);
      await store.set(cleared, 'w');
      await store.set(counted, '5', 1);
      assert.equal(await store.increment(counted), 6);
      await store.set(greatest, '5', 1);
      assert.equal(await store.setIfGreater(greatest, 7), true);
      // Present before the TTL passes, so the nulls below are the TTL's doing.
      assert.deepEqual(
        await Promise.all([plain, ifAbsent, taken, cleared, counted, greatest].map((key) => store.get(key))),
        ['v', 'v', 'v', 'w', '6', '7'],
      );

      await sleep(pastOneSecondMs);

      assert.equal(await store.get(plain), null);
      assert.equal(await store.get(ifAbsent), null);
      assert.equal(await store.setIfAbsent(ifAbsent, 'again', 60), true, 'an expired key counts as absent');
      assert.equal(await store.take(taken), null);
      assert.equal(await store.get(cleared), 'w');
      assert.equal(await store.get(counted), null);
      assert.equal(await store.increment(counted), 1, 'an expired counter starts again from 0');
      assert.equal(await store.get(greatest), null);
      assert.equal(await store.setIfGreater(greatest, 1), true, 'an expired maximum counts as absent');
    });

    it('refuses a TTL that is not a positive whole number of seconds, writing nothing', async () => {
      const key = unique('bad-ttl');
      await assert.rejects(store.set(key, 'v', 0));
      await assert.rejects(store.set(key, 'v', -5));
      await assert.rejects(store.set(key, 'v', 1.5));
      await assert.rejects(store.setIfAbsent(key, 'v', 0));
      assert.equal(await store.get(key), null);
    });
  });
}

/** setIfAbsent: one writer of a burst. */
function setIfAbsentTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('setIfAbsent', () => {
    it('writes only when the key is absent, leaving an existing value alone', async () => {
      const key = unique('once');
      assert.equal(await store.setIfAbsent(key, 'first', 60), true);
      assert.equal(await store.setIfAbsent(key, 'second', 60), false);
      assert.equal(await store.get(key), 'first');
    });

    it('of 20 parallel calls for one key exactly one writes', async () => {
      const key = unique('once-burst');
      const results = await Promise.all(range(20).map((i) => store.setIfAbsent(key, `writer-${i}`, 60)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.get(key), `writer-${results.indexOf(true)}`);
    });
  });
}

/** take: one reader of a burst (one-time codes). */
function takeTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('take', () => {
    it('returns the value once, then null', async () => {
      const key = unique('code');
      await store.set(key, '123456', 60);
      assert.equal(await store.take(key), '123456');
      assert.equal(await store.take(key), null);
      assert.equal(await store.get(key), null);
      assert.equal(await store.take(unique('absent')), null);
    });

    it('of 20 parallel takes of one key exactly one gets the value', async () => {
      const key = unique('code-burst');
      await store.set(key, 'challenge', 60);
      const results = await Promise.all(range(20).map(() => store.take(key)));
      assert.deepEqual(results.filter((value) => value !== null), ['challenge']);
    });
  });
}

/** increment: atomic under a burst. */
function incrementTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('increment', () => {
    it('counts from 0 for an absent key, by 1 unless told otherwise', async () => {
      const key = unique('counter');
      assert.equal(await store.increment(key), 1);
      assert.equal(await store.increment(key, 5), 6);
      assert.equal(await store.increment(key, -2), 4);
      assert.equal(await store.get(key), '4');
    });

    it('after 50 parallel increments holds 50, each caller having seen a different count', async () => {
      const key = unique('counter-burst');
      const results = await Promise.all(range(50).map(() => store.increment(key)));
      assert.deepEqual([...results].sort((a, b) => a - b), range(50).map((i) => i + 1));
      assert.equal(await store.get(key), '50');
    });

    it('rejects when the stored value is not an integer', async () => {
      const key = unique('not-a-number');
      await store.set(key, 'abc');
      await assert.rejects(store.increment(key));
      assert.equal(await store.get(key), 'abc');
    });
  });
}

/** setIfGreater: compared as numbers, atomic under a burst. */
function setIfGreaterTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('setIfGreater', () => {
    it('stores a value only when it is greater than the stored one (absent: always)', async () => {
      const key = unique('step');
      assert.equal(await store.setIfGreater(key, 10), true, 'absent');
      assert.equal(await store.setIfGreater(key, 10), false, 'equal');
      assert.equal(await store.setIfGreater(key, 9), false, 'smaller');
      assert.equal(await store.get(key), '10');
      assert.equal(await store.setIfGreater(key, 11), true, 'greater');
      assert.equal(await store.get(key), '11');
    });

    it('compares numbers, not strings', async () => {
      const key = unique('step-numeric');
      assert.equal(await store.setIfGreater(key, 9), true);
      assert.equal(await store.setIfGreater(key, 10), true);
      assert.equal(await store.setIfGreater(key, 2), false);
      assert.equal(await store.get(key), '10');
    });

    it('of 20 parallel calls with the same value exactly one stores it', async () => {
      const key = unique('step-burst');
      const results = await Promise.all(range(20).map(() => store.setIfGreater(key, 57_000_000)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('after parallel calls with different values holds the greatest', async () => {
      const key = unique('step-mixed');
      const values = [7, 3, 20, 11, 1, 19, 4, 15, 2, 9];
      await Promise.all(values.map((value) => store.setIfGreater(key, value)));
      assert.equal(await store.get(key), '20');
    });

    it('takeIfEqual removes a value only while it holds what was read, and resets a count with it', async () => {
      const person = `{${unique('person')}}`;
      const limiter = store.createLimiter({ keyPrefix: 'contract-fail', points: 5, duration: 60 });
      const key = `contract-code:${person}`;
      await store.set(key, 'first', 60);
      await limiter.consume(person);
      assert.equal(await store.takeIfEqual(key, 'other', { keyPrefix: 'contract-fail', key: person }), false);
      assert.equal(await store.get(key), 'first', 'another value is left alone');
      assert.equal((await limiter.get(person))?.consumedPoints, 1, 'and the count with it');
      const burst = await Promise.all(range(10).map(() => store.takeIfEqual(key, 'first', { keyPrefix: 'contract-fail', key: person })));
      assert.equal(burst.filter(Boolean).length, 1, 'of a burst exactly one takes it');
      assert.equal(await store.get(key), null);
      assert.equal(await limiter.get(person), null, 'the count was reset');
      assert.equal(await store.takeIfEqual(unique('absent'), 'x'), false);
    });

    it('resets an attempt count in the same step when it stores, and only then', async () => {
      const person = `{${unique('person')}}`;
      const limiter = store.createLimiter({ keyPrefix: 'contract-fail', points: 5, duration: 60 });
      const key = `contract-step:${person}`;
      await limiter.consume(person);
      await limiter.consume(person);
      assert.equal(await store.setIfGreater(key, 10), true);
      assert.equal((await limiter.get(person))?.consumedPoints, 2, 'no reset asked: the count stays');
      assert.equal(await store.setIfGreater(key, 10, { keyPrefix: 'contract-fail', key: person }), false);
      assert.equal((await limiter.get(person))?.consumedPoints, 2, 'not stored: the count stays');
      assert.equal(await store.setIfGreater(key, 11, { keyPrefix: 'contract-fail', key: person }), true);
      assert.equal(await limiter.get(person), null, 'stored: the count is gone');
      assert.equal((await limiter.consume(person)).consumedPoints, 1, 'counting starts again');
    });
  });
}

/** Member sets, each member with its own TTL (the session index, remembered devices). */
function recordWithCountTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('getUserWithCount', () => {
    it('reads a record with an attempt count (getUserWithCount, or getUser and the limiter where a store has no such read)', async () => {
      const person = unique('person');
      const count = { keyPrefix: 'contract-read', key: `{${person}}` };
      const limiter = store.createLimiter({ keyPrefix: count.keyPrefix, points: 5, duration: 60 });
      // What the package reads at the password step, either way.
      const read = async (userId: string, key: typeof count) => {
        if (store.getUserWithCount) return store.getUserWithCount(userId, key);
        const [record, res] = await Promise.all([store.getUser(userId), limiter.get(key.key)]);
        return { record, count: { consumed: res?.consumedPoints ?? 0, msLeft: Math.max(0, res?.msBeforeNext ?? 0) } };
      };
      await store.saveUser(person, fullRecord);
      for (let i = 0; i < 3; i += 1) await limiter.consume(count.key);
      const got = await read(person, count);
      assert.deepEqual(got.record, fullRecord);
      assert.equal(got.count.consumed, 3);
      assert.ok(got.count.msLeft > 50_000 && got.count.msLeft <= 60_000, `ms left ${got.count.msLeft}`);
      const nobody = unique('person');
      assert.deepEqual(await read(nobody, { keyPrefix: count.keyPrefix, key: `{${nobody}}` }), { record: null, count: { consumed: 0, msLeft: 0 } });
    });
  });
}

function memberSetTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('member sets (addMember, members, removeMembers)', () => {
    const sorted = async (key: string) => (await store.members(key)).sort();

    it('reads back added members once each, and none for an absent key', async () => {
      const key = unique('set');
      assert.deepEqual(await store.members(key), []);
      await store.addMember(key, 'sid-a', 60);
      await store.addMember(key, 'sid-b', 60);
      await store.addMember(key, 'sid-a', 120);
      assert.deepEqual(await sorted(key), ['sid-a', 'sid-b']);
    });

    it('removes the members named, ignoring absent ones; delete(key) removes the whole set', async () => {
      const [key, other] = [unique('set'), unique('set')];
      await Promise.all(['a', 'b', 'c'].map((member) => store.addMember(key, member, 60)));
      await store.addMember(other, 'a', 60);
      await store.removeMembers(key, 'a', 'absent');
      await store.removeMembers(key);
      assert.deepEqual(await sorted(key), ['b', 'c']);
      assert.deepEqual(await sorted(other), ['a']);
      await store.delete(key);
      assert.deepEqual(await store.members(key), []);
      assert.deepEqual(await sorted(other), ['a']);
    });

    it('writes a member\'s detail with it, under the same TTL', async () => {
      // The person's hash tag on both, as a cluster needs.
      const person = `{${unique('person')}}`;
      const [key, detailKey] = [`contract-set:${person}`, `contract-detail:${person}`];
      await store.addMember(key, 'sid-a', 1, { key: detailKey, value: '{"b":"Firefox 133"}' });
      assert.deepEqual(await store.members(key), ['sid-a']);
      assert.equal(await store.get(detailKey), '{"b":"Firefox 133"}');
      await sleep(pastOneSecondMs);
      assert.deepEqual(await store.members(key), []);
      assert.equal(await store.get(detailKey), null);
    });

    it('forgets each member once its own TTL has passed, keeping the others', async () => {
      const key = unique('set');
      await store.addMember(key, 'long', 60);
      await store.addMember(key, 'short', 1);
      await store.addMember(key, 'renewed', 1);
      await store.addMember(key, 'renewed', 60);
      await sleep(pastOneSecondMs);
      assert.deepEqual(await sorted(key), ['long', 'renewed']);
      const alone = unique('set');
      await store.addMember(alone, 'only', 1);
      await sleep(pastOneSecondMs);
      assert.deepEqual(await store.members(alone), []);
    });

    it('refuses a TTL that is not a positive whole number of seconds, adding nothing', async () => {
      const key = unique('set');
      for (const ttl of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(store.addMember(key, 'm', ttl), RangeError);
      }
      assert.deepEqual(await store.members(key), []);
    });

    it('after 50 parallel adds to one key holds all 50; parallel removes of 25 leave the other 25', async () => {
      const key = unique('set');
      const all = range(50).map((i) => `sid-${i}`);
      await Promise.all(all.map((member) => store.addMember(key, member, 60)));
      assert.deepEqual(await sorted(key), [...all].sort());
      const [gone, kept] = [all.slice(0, 25), all.slice(25)];
      await Promise.all(gone.map((member) => store.removeMembers(key, member)));
      assert.deepEqual(await sorted(key), [...kept].sort());
    });
  });
}

/** createLimiter: the limits on failed codes and text messages. */
function limiterTests(suite: ContractSuite): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('createLimiter', () => {
    it('of a burst of 50 attempts allows `points` (10) and refuses 40 with a RateLimiterRes', async () => {
      const limiter = store.createLimiter({ keyPrefix: unique('limit'), points: 10, duration: 60 });
      const outcomes = await Promise.allSettled(range(50).map(() => limiter.consume('person')));
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(outcomes.length - refused.length, 10);
      assert.equal(refused.length, 40);
      for (const outcome of refused) assert.ok(outcome.reason instanceof RateLimiterRes, String(outcome.reason));
    });

    it('counts each key, and each keyPrefix, apart', async () => {
      const prefix = unique('limit');
      const limiter = store.createLimiter({ keyPrefix: prefix, points: 1, duration: 60 });
      const otherPrefix = store.createLimiter({ keyPrefix: `${prefix}-other`, points: 1, duration: 60 });
      await limiter.consume('a');
      await assert.rejects(limiter.consume('a'), isLimitRefusal);
      await limiter.consume('b');
      await otherPrefix.consume('a');
    });

    it('gives a key its points back on delete(key)', async () => {
      const limiter = store.createLimiter({ keyPrefix: unique('limit'), points: 2, duration: 60 });
      await limiter.consume('person');
      await limiter.consume('person');
      await assert.rejects(limiter.consume('person'), isLimitRefusal);
      await limiter.delete('person');
      const res = await limiter.consume('person');
      assert.equal(res.remainingPoints, 1);
    });

    it('keeps a key blocked for blockDuration after its window has ended', async () => {
      const prefix = unique('limit');
      const blocking = store.createLimiter({ keyPrefix: `${prefix}-block`, points: 1, duration: 1, blockDuration: 30 });
      const windowOnly = store.createLimiter({ keyPrefix: `${prefix}-window`, points: 1, duration: 1 });
      for (const limiter of [blocking, windowOnly]) {
        await limiter.consume('person');
        await assert.rejects(limiter.consume('person'), isLimitRefusal);
      }

      await sleep(pastOneSecondMs);

      // The window-only limiter shows the window really ended; the other one is still blocked.
      await windowOnly.consume('person');
      await assert.rejects(blocking.consume('person'), (res: unknown) => {
        assert.ok(res instanceof RateLimiterRes);
        assert.ok(res.msBeforeNext > 20_000, `msBeforeNext ${res.msBeforeNext}`);
        return true;
      });
    });
  });
}

/** Two instances over one backend (`options.shared`): what a second app instance must see of the first. */
function sharedBackendTests(suite: ContractSuite, makeShared: () => Promise<TwoFactorStore>): void {
  let store: TwoFactorStore;
  before(() => {
    ({ store } = suite);
  });

  describe('two instances over the same backend', () => {
    let other: TwoFactorStore;

    before(async () => {
      other = await makeShared();
    });

    it('read each other\'s records and values', async () => {
      const user = unique('user');
      const key = unique('value');
      await store.saveUser(user, fullRecord);
      await other.set(key, 'from-other', 60);
      assert.deepEqual(await other.getUser(user), fullRecord);
      assert.equal(await store.get(key), 'from-other');
      await other.deleteUser(user);
      assert.equal(await store.getUser(user), null);
    });

    it('count one limit together', async () => {
      const keyPrefix = unique('limit');
      const first = store.createLimiter({ keyPrefix, points: 10, duration: 60 });
      const second = other.createLimiter({ keyPrefix, points: 10, duration: 60 });
      const outcomes = await Promise.allSettled(
        range(30).map((i) => (i % 2 === 0 ? first : second).consume('person')),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 10);
      await assert.rejects(first.consume('person'), isLimitRefusal);
      await assert.rejects(second.consume('person'), isLimitRefusal);
    });

    it('add to and remove from one member set together', async () => {
      const key = unique('set');
      await Promise.all(range(20).map((i) => (i % 2 === 0 ? store : other).addMember(key, `sid-${i}`, 60)));
      assert.equal((await other.members(key)).length, 20);
      await Promise.all(range(10).map((i) => (i % 2 === 0 ? other : store).removeMembers(key, `sid-${i}`)));
      assert.deepEqual((await store.members(key)).sort(), range(10).map((i) => `sid-${i + 10}`).sort());
    });

    it('of 20 parallel takes split between them exactly one gets the value', async () => {
      const key = unique('code');
      await store.set(key, 'challenge', 60);
      const results = await Promise.all(range(20).map((i) => (i % 2 === 0 ? store : other).take(key)));
      assert.deepEqual(results.filter((value) => value !== null), ['challenge']);
    });

    it('of 20 parallel setIfGreater split between them exactly one stores the value', async () => {
      const key = unique('step');
      const results = await Promise.all(
        range(20).map((i) => (i % 2 === 0 ? store : other).setIfGreater(key, 57_000_001)),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}

const fullRecord: UserRecord = {
  generation: 3,
  method: 'totp',
  factorId: 'f-8c1d',
  secret: 'v1:iv:ciphertext:tag',
  phoneLast4: '4567',
  recoveryCodes: ['hash-one', 'hash-two', 'hash-three'],
  enrolledAt: 1_700_000_000_000,
};

function unique(label: string): string {
  return `contract:${label}:${randomUUID()}`;
}

/** The way rate-limiter-flexible refuses an attempt over the limit (a store failure is an Error). */
function isLimitRefusal(reason: unknown): true {
  assert.ok(reason instanceof RateLimiterRes, `expected a RateLimiterRes, got ${String(reason)}`);
  return true;
}

function range(length: number): number[] {
  return Array.from({ length }, (_, i) => i);
}
