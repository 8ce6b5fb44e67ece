import { closest, distance } from 'fastest-levenshtein';
import { TwoFactorError } from '../errors.js';
import { seedRolePreset, validateRoleRules, type RoleRules } from './roles.js';

/** What `users.search` is asked for: one page of the people `actor` may see. */
export interface DirectorySearch {
  /** The signed-in admin (the Passport user). Narrow the query to what they may see. */
  readonly actor: Express.User;
  /** How many matches to pass over, for pagination. */
  readonly offset: number;
  /** At most this many people. The admin pages ask for one more than a page to learn whether a next page exists. */
  readonly limit: number;
}

/** One page of `users.search` results. */
export interface DirectoryPage {
  readonly users: readonly Express.User[];
  /** All matches, when the directory knows it cheaply; shown as the page count. */
  readonly total?: number;
}

/** How a person is shown on the admin pages. */
export interface PersonDescription {
  readonly name: string;
  readonly email?: string;
  /** The firm or company shown in the user list. */
  readonly firm?: string;
}

/**
 * The host's directory of people, read by `adminRouter`. The admin pages list and act only on
 * people the role rules let the actor see, whatever the directory returns: narrowing the
 * query by `actor` keeps pages full, the package's own filter keeps them safe.
 */
export interface UserDirectory {
  /** The person with this user id (the id `userId(user)` gives), or `undefined`. */
  readonly find: (id: string) => Promise<Express.User | undefined | null> | Express.User | undefined | null;
  /**
   * People whose name or email matches `query` (`''`: everyone), in a stable order, from
   * `offset`, at most `limit` of them.
   */
  readonly search: (query: string, options: DirectorySearch) => Promise<DirectoryPage> | DirectoryPage;
  /**
   * Name, email and firm of a person for the admin pages.
   * @default (user) => ({ name: user.name ?? user.displayName ?? accountName(user), email: user.email, firm: user.firm })
   */
  readonly describe?: (user: Express.User) => PersonDescription;
}

/** Who may reset whose second factor; see {@link RoleRules}. */
export interface RoleOptions {
  /** The person's role name, a key of `rules.resets`; `undefined`: no role (may do nothing). */
  readonly roleOf: (user: Express.User) => string | undefined;
  /** The person's tenant: a path like `'northwind/acme'`, segments, or `''`/`undefined` for the root. */
  readonly tenantOf: (user: Express.User) => string | readonly string[] | undefined;
  /**
   * Which roles reset which, and which roles reach every tenant. Checked at start-up.
   * @default seedRolePreset
   */
  readonly rules?: RoleRules;
}

/** The parsed admin options: present only when both `users` and `roles` were given. */
export interface AdminConfig {
  readonly users: UserDirectory;
  readonly roleOf: RoleOptions['roleOf'];
  readonly tenantOf: RoleOptions['tenantOf'];
  readonly rules: RoleRules;
  readonly describe: UserDirectory['describe'];
  readonly endSessionsOnReset: boolean;
  readonly endSessions: ((userId: string) => void | Promise<void>) | undefined;
}

function invalid(message: string): TwoFactorError {
  return new TwoFactorError('invalid_option', `secondFactor(): ${message}`);
}

function checkMembers(
  name: string,
  value: Record<string, unknown>,
  members: Readonly<Record<string, { required: boolean; shape: string }>>,
): void {
  const known = Object.keys(members);
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(members, key)) continue;
    const nearest = closest(key, known);
    const hint = distance(key, nearest) <= 3 ? `; did you mean "${name}.${nearest}"?` : '';
    throw invalid(`unknown option "${name}.${key}"${hint}`);
  }
  for (const [key, { required, shape }] of Object.entries(members)) {
    const member = value[key];
    if (member === undefined && !required) continue;
    if (typeof member !== 'function') {
      throw invalid(`option "${name}.${key}" must be a function ${shape}${member === undefined ? '' : ` (got ${typeof member})`}`);
    }
  }
}

/**
 * Reads `users`, `roles`, `endSessionsOnReset` and `endSessions`. `roles` alone is allowed
 * (the policy's per-role modes read `roleOf`); `users` needs `roles`. Without both,
 * `admin` is `undefined` and `adminRouter` answers 404 to everything.
 */
export function parseAdminOptions(options: {
  users?: unknown;
  roles?: unknown;
  endSessionsOnReset?: boolean | undefined;
  endSessions?: unknown;
}): { readonly roleOf: RoleOptions['roleOf']; readonly admin: AdminConfig | undefined } {
  const { users, roles } = options;
  if (roles === undefined) {
    if (users !== undefined) throw invalid('option "roles" is required when "users" is given (adminRouter needs both)');
    return { roleOf: () => undefined, admin: undefined };
  }
  const roleOptions = roles as Record<string, unknown>;
  const { rules: givenRules, ...roleFunctions } = roleOptions;
  checkMembers('roles', roleFunctions, {
    roleOf: { required: true, shape: '(user) => role name | undefined' },
    tenantOf: { required: true, shape: "(user) => 'partner/client' | segments | undefined" },
    rules: { required: false, shape: '' },
  });
  let rules: RoleRules = seedRolePreset;
  if (givenRules !== undefined) {
    try {
      rules = validateRoleRules(givenRules, 'roles.rules');
    } catch (error) {
      throw invalid(`option ${(error as Error).message}`);
    }
  }
  const roleOf = roleOptions.roleOf as RoleOptions['roleOf'];
  if (users === undefined) return { roleOf, admin: undefined };

  const directory = users as Record<string, unknown>;
  checkMembers('users', directory, {
    find: { required: true, shape: '(id) => user | undefined' },
    search: { required: true, shape: '(query, { actor, offset, limit }) => { users, total? }' },
    describe: { required: false, shape: '(user) => { name, email?, firm? }' },
  });
  const admin: AdminConfig = Object.freeze({
    users: directory as unknown as UserDirectory,
    roleOf,
    tenantOf: roleOptions.tenantOf as RoleOptions['tenantOf'],
    rules,
    describe: directory.describe as UserDirectory['describe'],
    endSessionsOnReset: options.endSessionsOnReset ?? true,
    endSessions: options.endSessions as AdminConfig['endSessions'],
  });
  return { roleOf, admin };
}
