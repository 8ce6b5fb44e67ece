/**
 * Demo people in every role of the seed hierarchy: the bot (platform) staff, two partner firms
 * (Northwind, Southpaw) and one client company of each. Every password is `demo-password`.
 */
export interface PortalUser {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly role: 'bot-admin' | 'bot-ops' | 'partner-admin' | 'partner-ops' | 'client-admin' | 'client-ops';
  /** Tenant path: '' for bot staff, 'northwind' for a partner firm, 'northwind/acme' for its client. */
  readonly tenant: string;
  /** Display name of the firm. */
  readonly firm: string;
}

export const DEMO_PASSWORD = 'demo-password';

export const demoUsers: readonly PortalUser[] = Object.freeze([
  { id: 'u1', username: 'bot.admin', name: 'Bea Admin', email: 'bea@bot.example', role: 'bot-admin', tenant: '', firm: 'Bot HQ' },
  { id: 'u2', username: 'bot.ops', name: 'Otto Ops', email: 'otto@bot.example', role: 'bot-ops', tenant: '', firm: 'Bot HQ' },
  { id: 'u3', username: 'northwind.admin', name: 'Nora North', email: 'nora@northwind.example', role: 'partner-admin', tenant: 'northwind', firm: 'Northwind Partners' },
  { id: 'u4', username: 'northwind.ops', name: 'Ned North', email: 'ned@northwind.example', role: 'partner-ops', tenant: 'northwind', firm: 'Northwind Partners' },
  { id: 'u5', username: 'acme.admin', name: 'Ada Acme', email: 'ada@acme.example', role: 'client-admin', tenant: 'northwind/acme', firm: 'Acme Co (Northwind)' },
  { id: 'u6', username: 'acme.ops', name: 'Abe Acme', email: 'abe@acme.example', role: 'client-ops', tenant: 'northwind/acme', firm: 'Acme Co (Northwind)' },
  { id: 'u7', username: 'southpaw.admin', name: 'Sam South', email: 'sam@southpaw.example', role: 'partner-admin', tenant: 'southpaw', firm: 'Southpaw Partners' },
  { id: 'u8', username: 'southpaw.ops', name: 'Sue South', email: 'sue@southpaw.example', role: 'partner-ops', tenant: 'southpaw', firm: 'Southpaw Partners' },
  { id: 'u9', username: 'globex.admin', name: 'Gil Globex', email: 'gil@globex.example', role: 'client-admin', tenant: 'southpaw/globex', firm: 'Globex Inc (Southpaw)' },
  { id: 'u10', username: 'globex.ops', name: 'Gia Globex', email: 'gia@globex.example', role: 'client-ops', tenant: 'southpaw/globex', firm: 'Globex Inc (Southpaw)' },
]);

export function findUser(id: string): PortalUser | undefined {
  return demoUsers.find((user) => user.id === id);
}

export function findByUsername(username: string): PortalUser | undefined {
  return demoUsers.find((user) => user.username === username.trim().toLowerCase());
}

/**
 * The portal's directory search for the admin pages: name or email contains the query. A real
 * directory would also narrow by the admin's firm in its query; this one does not, and the
 * admin router's own filter still keeps other firms out.
 */
export function searchUsers(query: string, offset: number, limit: number): { users: PortalUser[]; total: number } {
  const needle = query.trim().toLowerCase();
  const matches = demoUsers.filter((user) => !needle || user.name.toLowerCase().includes(needle) || user.email.toLowerCase().includes(needle));
  return { users: matches.slice(offset, offset + limit), total: matches.length };
}
