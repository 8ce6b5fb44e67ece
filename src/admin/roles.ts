import { closest, distance } from 'fastest-levenshtein';

export { parseTenant, type Tenant } from '../flow/tenant.js';
import { describeValue as describe, type Tenant } from '../flow/tenant.js';

/**
 * Who may reset whose second factor, as data. Checked once at start-up by
 * {@link validateRoleRules}; read by {@link canReset}, {@link canSee} and {@link canAdminister}.
 *
 * A reset is allowed when all of these hold:
 * 1. the actor's role lists the target's role in `resets`;
 * 2. the target's tenant is the actor's tenant or below it, unless the actor's role is
 *    listed in `unscoped`;
 * 3. the actor and the target are different people.
 *
 * @example
 * const rules: RoleRules = {
 *   resets: {
 *     'it-admin': ['it-admin', 'staff'],
 *     'team-lead': ['staff'],
 *     staff: [],
 *   },
 *   unscoped: ['it-admin'],
 * };
 */
export interface RoleRules {
  /**
   * For each role, the roles its holders may reset. A role that resets no one maps to `[]`;
   * every role named as a target must itself be a key here, so a misspelt role name is
   * caught at start-up instead of silently matching nobody.
   */
  readonly resets: Readonly<Record<string, readonly string[]>>;
  /**
   * Roles whose reach is every tenant. Every other role reaches only its own tenant and the
   * tenants below it: a role left out of this list is confined, never let loose.
   * @default []
   */
  readonly unscoped?: readonly string[];
}

/** A person as the role rules see them: the actor doing a reset, or its target. */
export interface Actor {
  /** The host's user id; two actors with the same id are the same person. */
  readonly id: string;
  /** The host's role name, or `undefined` for a person without a role (who may do nothing). */
  readonly role: string | undefined;
  /** The person's place in the tenant tree; see {@link Tenant}. */
  readonly tenant: Tenant;
}

/**
 * The shipped hierarchy. Platform ("bot") admins reset anyone anywhere; a partner admin
 * resets partner and client staff of their own firm and of that firm's client companies;
 * everyone else resets no one.
 */
export const seedRolePreset: RoleRules = deepFreeze({
  resets: {
    'bot-admin': ['bot-admin', 'bot-ops', 'partner-admin', 'partner-ops', 'client-admin', 'client-ops'],
    'bot-ops': [],
    'partner-admin': ['partner-admin', 'partner-ops', 'client-admin', 'client-ops'],
    'partner-ops': [],
    'client-admin': [],
    'client-ops': [],
  },
  // Only bot admins reach across firms. Partner admins are confined to their own subtree by
  // being absent here, which is the default.
  unscoped: ['bot-admin'],
});

/** Whether the actor's role may reset at least one role: decides who sees the admin pages. */
export function canAdminister(rules: RoleRules, actor: Pick<Actor, 'role'>): boolean {
  return resettableRoles(rules, actor.role).length > 0;
}

/**
 * Whether the target belongs in the actor's admin user list: the target's role is one the
 * actor may reset and the target is inside the actor's reach. Unlike {@link canReset} this
 * is true for the actor themselves, so an admin finds their own entry (shown, not resettable).
 */
export function canSee(rules: RoleRules, actor: Actor, target: Actor): boolean {
  const role = actor.role;
  if (role === undefined || target.role === undefined) return false;
  if (!resettableRoles(rules, role).includes(target.role)) return false;
  return isUnscoped(rules, role) || isWithin(target.tenant, actor.tenant);
}

/** Whether the actor may reset the target's second factor. Pure: no store, no request. */
export function canReset(rules: RoleRules, actor: Actor, target: Actor): boolean {
  // Nobody resets themselves, whatever the matrix says: a stolen admin session must not be
  // able to strip its own second factor. An empty id cannot prove it is someone else.
  if (actor.id === '' || target.id === '' || actor.id === target.id) return false;
  return canSee(rules, actor, target);
}

/**
 * Checks role rules given by the host and returns a frozen copy (later changes to the
 * caller's object have no effect). Throws a `TypeError` naming the bad part, e.g.
 * `roles.resets["partner-admin"] must be an array of role names`.
 *
 * @param path how the rules are named in the host's options, for the messages
 */
export function validateRoleRules(rules: unknown, path = 'roles'): RoleRules {
  if (!isPlainObject(rules)) {
    throw new TypeError(`${path} must be an object like { resets: { role: [roles it may reset] } }, got ${describe(rules)}`);
  }
  for (const key of Object.keys(rules)) {
    if (key === 'resets' || key === 'unscoped') continue;
    if (key === 'scoped') {
      // Confinement is the default; a `scoped` list would suggest that unlisted roles roam free.
      throw new TypeError(
        `${path}.scoped is not an option: every role is confined to its own tenant by default; list the roles that reach every tenant in ${path}.unscoped`,
      );
    }
    throw new TypeError(`${path}.${key} is not an option${didYouMean(key, ['resets', 'unscoped'])}`);
  }

  const resets = rules['resets'];
  if (!isPlainObject(resets)) {
    throw new TypeError(`${path}.resets must be an object mapping each role to the roles it may reset, got ${describe(resets)}`);
  }
  const roleNames = Object.keys(resets);
  if (roleNames.length === 0) throw new TypeError(`${path}.resets must name at least one role`);

  // A null prototype: role names such as "constructor" or "__proto__" stay plain keys.
  const resetsCopy: Record<string, readonly string[]> = Object.create(null);
  for (const role of roleNames) {
    const where = `${path}.resets[${JSON.stringify(role)}]`;
    if (role.trim() === '') throw new TypeError(`${path}.resets has an empty role name`);
    const targets = resets[role];
    if (!Array.isArray(targets)) {
      throw new TypeError(`${where} must be an array of role names, got ${describe(targets)}`);
    }
    targets.forEach((target: unknown, index) => {
      if (typeof target !== 'string' || target.trim() === '') {
        throw new TypeError(`${where}[${index}] must be a role name, got ${describe(target)}`);
      }
      if (!Object.hasOwn(resets, target)) {
        throw new TypeError(
          `${where}[${index}] "${target}" is not a role of ${path}.resets${didYouMean(target, roleNames)} (list a role that resets no one as "${target}": [])`,
        );
      }
    });
    resetsCopy[role] = Object.freeze([...(targets as string[])]);
  }

  const unscoped = rules['unscoped'] ?? [];
  if (!Array.isArray(unscoped)) {
    throw new TypeError(`${path}.unscoped must be an array of role names, got ${describe(unscoped)}`);
  }
  unscoped.forEach((role: unknown, index) => {
    if (typeof role !== 'string' || !Object.hasOwn(resets, role)) {
      const hint = typeof role === 'string' ? didYouMean(role, roleNames) : '';
      throw new TypeError(`${path}.unscoped[${index}] must be a role of ${path}.resets, got ${describe(role)}${hint}`);
    }
  });

  return Object.freeze({ resets: Object.freeze(resetsCopy), unscoped: Object.freeze([...(unscoped as string[])]) });
}


/** The roles `role` may reset; `[]` for an unknown or missing role. */
function resettableRoles(rules: RoleRules, role: string | undefined): readonly string[] {
  // hasOwn, not `in` or a plain lookup: a role named "toString" must not find
  // Object.prototype.toString and pass for a list.
  if (role === undefined || !Object.hasOwn(rules.resets, role)) return [];
  const targets = rules.resets[role];
  return Array.isArray(targets) ? targets : [];
}

function isUnscoped(rules: RoleRules, role: string): boolean {
  return (rules.unscoped ?? []).includes(role);
}

/** Whether `target` is `scope` or below it, compared segment by segment. */
function isWithin(target: Tenant, scope: Tenant): boolean {
  // Segments, not joined strings: ['north'] must not reach ['northwind'].
  if (target.length < scope.length) return false;
  return scope.every((segment, index) => target[index] === segment);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}


function didYouMean(given: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const nearest = closest(given, known);
  return distance(given, nearest) <= 3 ? ` (did you mean "${nearest}"?)` : '';
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  }
  return Object.freeze(value);
}
