import assert from 'node:assert/strict';
import {
  type Actor,
  type RoleRules,
  canAdminister,
  canReset,
  canSee,
  parseTenant,
  seedRolePreset,
  validateRoleRules,
} from '../src/admin/roles.js';

const roles = ['bot-admin', 'bot-ops', 'partner-admin', 'partner-ops', 'client-admin', 'client-ops'] as const;
type Role = (typeof roles)[number];

// Two partner firms, each with client companies. Every actor below sits in firm A (or at the
// root for bot staff); targets are placed all over the tree.
const placements = {
  root: [],
  'firm A': ['northwind'],
  'client of A': ['northwind', 'acme'],
  'other client of A': ['northwind', 'initech'],
  'firm B': ['contoso'],
  'client of B': ['contoso', 'globex'],
} as const satisfies Record<string, readonly string[]>;
type Placement = keyof typeof placements;
const everywhere = Object.keys(placements) as Placement[];

const actorTenant: Record<Role, readonly string[]> = {
  'bot-admin': placements.root,
  'bot-ops': placements.root,
  'partner-admin': placements['firm A'],
  'partner-ops': placements['firm A'],
  'client-admin': placements['client of A'],
  'client-ops': placements['client of A'],
};

/*
 * The expectation, written from the prose rules and not from the implementation:
 * - Bot Admin resets every one of the six roles, in all firms (and at the root).
 * - Partner Admin resets Partner Admin, Partner Ops, Client Admin and Client Ops, only in
 *   their own firm (A) and A's client companies.
 * - Every pair not listed here is refused everywhere.
 */
const allowedAt: Partial<Record<`${Role}>${Role}`, readonly Placement[]>> = {
  'bot-admin>bot-admin': everywhere,
  'bot-admin>bot-ops': everywhere,
  'bot-admin>partner-admin': everywhere,
  'bot-admin>partner-ops': everywhere,
  'bot-admin>client-admin': everywhere,
  'bot-admin>client-ops': everywhere,
  'partner-admin>partner-admin': ['firm A', 'client of A', 'other client of A'],
  'partner-admin>partner-ops': ['firm A', 'client of A', 'other client of A'],
  'partner-admin>client-admin': ['firm A', 'client of A', 'other client of A'],
  'partner-admin>client-ops': ['firm A', 'client of A', 'other client of A'],
};

const allowed = new Set(
  Object.entries(allowedAt).flatMap(([pair, where]) => where.map((placement) => `${pair}@${placement}`)),
);

const behaviourOf: Record<Role, string> = {
  'bot-admin': 'a bot admin can reset every role in every firm',
  'bot-ops': 'bot ops can reset no one',
  'partner-admin': 'a partner admin can reset partner and client staff of their own firm and its clients only',
  'partner-ops': 'partner ops can reset no one',
  'client-admin': 'a client admin can reset no one',
  'client-ops': 'client ops can reset no one',
};

function actor(role: Role | string | undefined, tenant: readonly string[], id = 'actor'): Actor {
  return { id, role, tenant };
}

function target(role: Role | string | undefined, placement: Placement): Actor {
  return { id: `target:${role}@${placement}`, role, tenant: placements[placement] };
}

/** Every (target role, placement) the given check allows for this actor role, as table keys. */
function allowedBy(check: (rules: RoleRules, a: Actor, t: Actor) => boolean, actorRole: Role): string[] {
  const result: string[] = [];
  for (const targetRole of roles) {
    for (const placement of everywhere) {
      if (check(seedRolePreset, actor(actorRole, actorTenant[actorRole]), target(targetRole, placement))) {
        result.push(`${actorRole}>${targetRole}@${placement}`);
      }
    }
  }
  return result;
}

function expectedFor(actorRole: Role): string[] {
  return roles.flatMap((targetRole) =>
    everywhere.map((placement) => `${actorRole}>${targetRole}@${placement}`).filter((key) => allowed.has(key)),
  );
}

describe('admin roles: the seed hierarchy', () => {
  it('has an expectation table of 6 × 6 roles in 6 placements with 48 allowed cases', () => {
    // Guards the table itself: a loop that ran over nothing would make every case below pass.
    assert.equal(roles.length * roles.length * everywhere.length, 216);
    assert.equal(allowed.size, 6 * 6 + 4 * 3);
  });

  for (const actorRole of roles) {
    it(behaviourOf[actorRole], () => {
      assert.deepEqual(allowedBy(canReset, actorRole), expectedFor(actorRole));
    });
  }

  for (const actorRole of roles) {
    it(`lists for ${actorRole} exactly the people it may reset`, () => {
      assert.deepEqual(allowedBy(canSee, actorRole), expectedFor(actorRole));
    });
  }

  const partnerAdmin = actor('partner-admin', placements['firm A']);

  it('a partner admin can reset a client of their own firm', () => {
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('client-ops', 'client of A')), true);
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('client-admin', 'other client of A')), true);
  });

  it('a partner admin cannot reset a client of another firm', () => {
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('client-ops', 'client of B')), false);
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('client-admin', 'client of B')), false);
  });

  it('a partner admin cannot reset a partner admin of another firm', () => {
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('partner-admin', 'firm B')), false);
  });

  it('a partner admin cannot reset bot staff', () => {
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('bot-admin', 'root')), false);
    assert.equal(canReset(seedRolePreset, partnerAdmin, target('bot-ops', 'root')), false);
  });

  it('a partner admin of a client company reaches nothing above it', () => {
    // The role may reset partner staff, but this person sits at a client: firm A is above them.
    const placedLow = actor('partner-admin', placements['client of A']);
    assert.equal(canReset(seedRolePreset, placedLow, target('partner-ops', 'firm A')), false);
    assert.equal(canReset(seedRolePreset, placedLow, target('client-ops', 'other client of A')), false);
    assert.equal(canReset(seedRolePreset, placedLow, target('client-ops', 'client of A')), true);
  });

  it('a bot admin can reset a client of any firm', () => {
    const botAdmin = actor('bot-admin', placements.root);
    assert.equal(canReset(seedRolePreset, botAdmin, target('client-ops', 'client of A')), true);
    assert.equal(canReset(seedRolePreset, botAdmin, target('client-ops', 'client of B')), true);
  });

  it('compares tenants segment by segment, so firm "north" does not reach firm "northwind"', () => {
    const northAdmin = actor('partner-admin', ['north']);
    assert.equal(canReset(seedRolePreset, northAdmin, target('partner-ops', 'firm A')), false);
    assert.equal(canReset(seedRolePreset, northAdmin, { id: 'x', role: 'partner-ops', tenant: ['north'] }), true);
  });

  it('is frozen, so a host cannot widen the shipped preset by mutating it', () => {
    assert.ok(Object.isFrozen(seedRolePreset));
    assert.ok(Object.isFrozen(seedRolePreset.resets));
    assert.ok(Object.isFrozen(seedRolePreset.resets['partner-admin']));
    assert.throws(() => (seedRolePreset.resets['partner-ops'] as string[]).push('client-ops'), TypeError);
  });
});

describe('admin roles: nobody resets themselves', () => {
  it('refuses a bot admin resetting their own second factor', () => {
    const self = actor('bot-admin', [], 'u-1');
    assert.equal(canReset(seedRolePreset, self, self), false);
  });

  it('refuses by user id, even when the role or tenant given for the target differs', () => {
    const self = actor('bot-admin', [], 'u-1');
    assert.equal(canReset(seedRolePreset, self, { id: 'u-1', role: 'client-ops', tenant: ['northwind', 'acme'] }), false);
  });

  it('refuses a partner admin resetting themselves', () => {
    const self = actor('partner-admin', ['northwind'], 'u-2');
    assert.equal(canReset(seedRolePreset, self, self), false);
  });

  it('still lists an admin themselves on the admin pages', () => {
    const self = actor('partner-admin', ['northwind'], 'u-2');
    assert.equal(canSee(seedRolePreset, self, self), true);
  });

  it('refuses when a user id is empty, because it cannot tell who is who', () => {
    const botAdmin = actor('bot-admin', [], '');
    assert.equal(canReset(seedRolePreset, botAdmin, { id: '', role: 'client-ops', tenant: [] }), false);
    assert.equal(canReset(seedRolePreset, actor('bot-admin', []), { id: '', role: 'client-ops', tenant: [] }), false);
  });
});

describe('admin roles: unknown roles', () => {
  const unknownRoles = ['super-admin', 'Bot-Admin', '', 'toString', 'constructor', '__proto__', 'hasOwnProperty'];

  it('refuses an actor whose role is unknown, for every target', () => {
    for (const role of [...unknownRoles, undefined]) {
      for (const targetRole of roles) {
        const unknown = actor(role, []);
        assert.equal(canReset(seedRolePreset, unknown, target(targetRole, 'root')), false, `${role} > ${targetRole}`);
        assert.equal(canSee(seedRolePreset, unknown, target(targetRole, 'root')), false, `${role} > ${targetRole}`);
      }
    }
  });

  it('refuses a target whose role is unknown, even for a bot admin', () => {
    const botAdmin = actor('bot-admin', []);
    for (const role of [...unknownRoles, undefined]) {
      assert.equal(canReset(seedRolePreset, botAdmin, target(role, 'client of A')), false, String(role));
      assert.equal(canSee(seedRolePreset, botAdmin, target(role, 'client of A')), false, String(role));
    }
  });
});

describe('admin roles: who sees the admin pages', () => {
  it('lets only bot admins and partner admins administer', () => {
    const administrators = roles.filter((role) => canAdminister(seedRolePreset, { role }));
    assert.deepEqual(administrators, ['bot-admin', 'partner-admin']);
  });

  it('keeps people without a role or with an unknown role out', () => {
    for (const role of [undefined, '', 'super-admin', 'toString', '__proto__']) {
      assert.equal(canAdminister(seedRolePreset, { role }), false, String(role));
    }
  });

  it('keeps out a role that is listed but resets no one', () => {
    const rules = validateRoleRules({ resets: { lead: [], staff: [] } });
    assert.equal(canAdminister(rules, { role: 'lead' }), false);
  });
});

describe('admin roles: rules a host writes', () => {
  const rules = validateRoleRules({
    resets: {
      'it-admin': ['it-admin', 'client-admin', 'client-ops'],
      'client-admin': ['client-ops'],
      'client-ops': [],
    },
    unscoped: ['it-admin'],
  });

  it('confines a role that is not listed as unscoped to its own tenant subtree', () => {
    const clientAdmin = actor('client-admin', placements['client of A']);
    assert.equal(canReset(rules, clientAdmin, target('client-ops', 'client of A')), true);
    assert.equal(canReset(rules, clientAdmin, target('client-ops', 'other client of A')), false);
    assert.equal(canReset(rules, clientAdmin, target('client-ops', 'firm A')), false);
    assert.equal(canReset(rules, clientAdmin, target('client-ops', 'client of B')), false);
  });

  it('lets an unscoped role reach every tenant even when it sits below the root', () => {
    const itAdmin = actor('it-admin', ['platform', 'it']);
    assert.equal(canReset(rules, itAdmin, target('client-ops', 'client of B')), true);
    assert.equal(canReset(rules, itAdmin, target('it-admin', 'root')), true);
  });

  it('works on deeper trees than partner and client', () => {
    const regional = validateRoleRules({ resets: { 'region-admin': ['staff'], staff: [] } });
    const emea = actor('region-admin', ['emea']);
    assert.equal(canReset(regional, emea, { id: 't', role: 'staff', tenant: ['emea', 'northwind', 'acme', 'lab'] }), true);
    assert.equal(canReset(regional, emea, { id: 't', role: 'staff', tenant: ['apac', 'northwind'] }), false);
  });
});

describe('admin roles: validateRoleRules', () => {
  it('accepts the seed preset and returns rules that behave the same', () => {
    const rules = validateRoleRules(seedRolePreset);
    assert.deepEqual({ ...rules.resets }, { ...seedRolePreset.resets });
    assert.deepEqual(rules.unscoped, ['bot-admin']);
    for (const actorRole of roles) {
      for (const targetRole of roles) {
        for (const placement of everywhere) {
          const a = actor(actorRole, actorTenant[actorRole]);
          const t = target(targetRole, placement);
          assert.equal(canReset(rules, a, t), canReset(seedRolePreset, a, t));
        }
      }
    }
  });

  it('returns a frozen copy that later changes to the host object do not reach', () => {
    const input = { resets: { lead: ['staff'], staff: [] as string[] } };
    const rules = validateRoleRules(input);
    input.resets.staff.push('lead');
    input.resets.lead.length = 0;
    assert.ok(Object.isFrozen(rules) && Object.isFrozen(rules.resets) && Object.isFrozen(rules.resets['lead']));
    assert.deepEqual(rules.resets['lead'], ['staff']);
    assert.deepEqual(rules.resets['staff'], []);
  });

  it('treats missing unscoped as no unscoped role', () => {
    const rules = validateRoleRules({ resets: { lead: ['staff'], staff: [] } });
    assert.deepEqual(rules.unscoped, []);
    assert.equal(canReset(rules, actor('lead', ['a']), { id: 't', role: 'staff', tenant: ['b'] }), false);
  });

  it('keeps a role named like an Object.prototype member as a plain role', () => {
    const rules = validateRoleRules({ resets: { constructor: ['toString'], toString: [] } });
    assert.equal(canReset(rules, actor('constructor', []), { id: 't', role: 'toString', tenant: [] }), true);
    assert.equal(canReset(rules, actor('toString', []), { id: 't', role: 'constructor', tenant: [] }), false);
  });

  const malformed: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ['rules that are not an object', null, /^roles must be an object/],
    ['rules given as an array', [], /^roles must be an object/],
    ['missing resets', {}, /^roles\.resets must be an object/],
    ['resets given as an array', { resets: [['bot-admin']] }, /^roles\.resets must be an object/],
    ['resets with no role', { resets: {} }, /^roles\.resets must name at least one role$/],
    [
      'a role mapped to a string instead of an array',
      { resets: { 'partner-admin': 'client-ops', 'client-ops': [] } },
      /^roles\.resets\["partner-admin"\] must be an array of role names, got "client-ops"$/,
    ],
    [
      'a role name that is not a string',
      { resets: { 'partner-admin': ['client-ops', 7], 'client-ops': [] } },
      /^roles\.resets\["partner-admin"\]\[1\] must be a role name, got number 7$/,
    ],
    [
      'an empty role name in a list',
      { resets: { 'partner-admin': [''] } },
      /^roles\.resets\["partner-admin"\]\[0\] must be a role name/,
    ],
    [
      'a misspelt target role',
      { resets: { 'bot-admin': ['partner-adimn'], 'partner-admin': [] } },
      /^roles\.resets\["bot-admin"\]\[0\] "partner-adimn" is not a role of roles\.resets \(did you mean "partner-admin"\?\)/,
    ],
    [
      'a target role that is not listed as a key',
      { resets: { lead: ['staff'] } },
      /^roles\.resets\["lead"\]\[0\] "staff" is not a role of roles\.resets .*"staff": \[\]/,
    ],
    ['an empty role name as a key', { resets: { ' ': [] } }, /^roles\.resets has an empty role name$/],
    ['unscoped given as a string', { resets: { lead: [] }, unscoped: 'lead' }, /^roles\.unscoped must be an array of role names/],
    [
      'an unscoped role that does not exist',
      { resets: { 'bot-admin': [] }, unscoped: ['bot-admn'] },
      /^roles\.unscoped\[0\] must be a role of roles\.resets, got "bot-admn" \(did you mean "bot-admin"\?\)$/,
    ],
    ['a misspelt option', { resets: { lead: [] }, reset: {} }, /^roles\.reset is not an option \(did you mean "resets"\?\)$/],
    [
      'a scoped list, which would read as if other roles were unscoped',
      { resets: { lead: [] }, scoped: ['lead'] },
      /^roles\.scoped is not an option: every role is confined to its own tenant by default/,
    ],
  ];

  for (const [what, input, message] of malformed) {
    it(`rejects ${what}, naming the path`, () => {
      assert.throws(() => validateRoleRules(input), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('names the path the host used for the rules', () => {
    assert.throws(() => validateRoleRules({ resets: { lead: 'staff' } }, 'options.roles.rules'), {
      name: 'TypeError',
      message: /^options\.roles\.rules\.resets\["lead"\] must be an array of role names/,
    });
  });
});

describe('admin roles: parseTenant', () => {
  it('reads a slash path', () => {
    assert.deepEqual(parseTenant('northwind/acme'), ['northwind', 'acme']);
    assert.deepEqual(parseTenant('northwind'), ['northwind']);
  });

  it('reads an array of segments', () => {
    assert.deepEqual(parseTenant(['northwind', 'acme']), ['northwind', 'acme']);
  });

  it('reads nothing as the root', () => {
    for (const root of [undefined, null, '', []]) {
      assert.deepEqual(parseTenant(root), [], JSON.stringify(root));
    }
  });

  it('returns a frozen copy', () => {
    const input = ['northwind'];
    const tenant = parseTenant(input);
    input.push('acme');
    assert.ok(Object.isFrozen(tenant));
    assert.deepEqual(tenant, ['northwind']);
  });

  const bad: ReadonlyArray<string | readonly string[]> = [
    'northwind//acme',
    '/northwind',
    'northwind/',
    '/',
    ' ',
    ['northwind', ''],
    ['', 'acme'],
    ['northwind/acme'],
  ];
  for (const value of bad) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseTenant(value), TypeError);
    });
  }

  it('rejects a segment that is not a string', () => {
    assert.throws(() => parseTenant(['northwind', 7] as unknown as string[]), TypeError);
    assert.throws(() => parseTenant(7 as unknown as string), TypeError);
  });
});
