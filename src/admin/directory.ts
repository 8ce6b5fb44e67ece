import type { Config } from '../options.js';
import type { AdminConfig, PersonDescription } from './options.js';
import { canSee, parseTenant, type Actor, type Tenant } from './roles.js';

/** A person of the host's directory as the admin pages see them. */
export interface Person extends Actor {
  readonly user: Express.User;
  readonly name: string;
  readonly email: string | undefined;
  readonly firm: string | undefined;
}

export interface DirectoryResult {
  /** The people of this page the actor may see. */
  readonly people: readonly Person[];
  readonly hasNext: boolean;
  /** Pages in all, when the directory gave a total. */
  readonly pages: number | undefined;
}

/** Longest id taken from a URL; longer ones are nobody. */
const MAX_ID_LENGTH = 200;

/**
 * Reads the host's directory through the role rules. The host is asked to narrow its answers
 * to what the actor may see; every answer is filtered here again all the same.
 */
export function createDirectory(config: Config, admin: AdminConfig) {
  const { users, rules } = admin;

  function describe(user: Express.User): PersonDescription {
    const given = (admin.describe ? admin.describe(user) : user) as unknown as Record<string, unknown> | undefined;
    const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
    const name = text(given?.name) ?? text(given?.displayName) ?? config.accountName(user);
    const email = text(given?.email);
    const firm = text(given?.firm);
    return { name, ...(email ? { email } : {}), ...(firm ? { firm } : {}) };
  }

  /**
   * The person, or `undefined` when the host's answers about them do not hold together (no
   * id, a tenant that does not parse): such a person is nobody anyone may act on.
   */
  function personOf(user: Express.User): Person | undefined {
    let id: string;
    let tenant: Tenant;
    try {
      id = config.userId(user);
      tenant = parseTenant(admin.tenantOf(user));
    } catch (error) {
      config.logger.warn(`second factor: admin pages skip a person the directory returned: ${(error as Error).message}`);
      return undefined;
    }
    const role = admin.roleOf(user);
    const { name, email, firm } = describe(user);
    return { id, role: typeof role === 'string' ? role : undefined, tenant, user, name, email, firm };
  }

  /** A person by the id from a URL, or `undefined` when there is no such person. */
  async function find(id: string): Promise<Person | undefined> {
    if (id === '' || id.length > MAX_ID_LENGTH) return undefined;
    const user = await users.find(id);
    if (user === undefined || user === null) return undefined;
    const person = personOf(user);
    // A directory that answers with someone else must not make us act on them.
    return person && person.id === id ? person : undefined;
  }

  async function search(actor: Person, query: string, page: number, pageSize: number): Promise<DirectoryResult> {
    const offset = (page - 1) * pageSize;
    // One more than a page: whether it came tells whether a next page exists.
    const answer = await users.search(query, { actor: actor.user, offset, limit: pageSize + 1 });
    if (!answer || !Array.isArray(answer.users)) throw new TypeError('users.search must return { users: [...], total? }');
    const total = typeof answer.total === 'number' && Number.isSafeInteger(answer.total) && answer.total >= 0 ? answer.total : undefined;
    const people = answer.users
      .slice(0, pageSize)
      .map(personOf)
      .filter((person): person is Person => person !== undefined && canSee(rules, actor, person));
    return {
      people,
      hasNext: answer.users.length > pageSize || (total !== undefined && offset + pageSize < total),
      pages: total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize)),
    };
  }

  return { personOf, find, search };
}

export type Directory = ReturnType<typeof createDirectory>;
