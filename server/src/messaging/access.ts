import type { Queryable } from '../db/database.ts';
import { FlockError } from '../errors.ts';

/**
 * Access lists of topics and queues: an array of user ids, or null for
 * "everyone signed in". The owner is always allowed, whatever the list says.
 */
export type AccessList = string[] | null;

export const allowed = (list: AccessList, ownerId: string, userId: string): boolean =>
  userId === ownerId || list === null || list.includes(userId);

/** Refuses lists that name users who do not exist (a typo would otherwise lock someone out silently). */
export async function checkUsersExist(db: Queryable, lists: (AccessList | undefined)[]): Promise<void> {
  const ids = [...new Set(lists.flatMap((l) => l ?? []))];
  if (ids.length === 0) return;
  const rows = await db.query<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::bigint[])', [ids]);
  const found = new Set(rows.map((r) => r.id));
  const unknown = ids.filter((i) => !found.has(i));
  if (unknown.length > 0) throw new FlockError('FLOCK_ERR_VALIDATION', 'Access lists name users that do not exist', { unknownUsers: unknown });
}

/** The SQL condition "user $n may see this resource": owner, or on (or not restricted by) either list. */
export const visibleTo = (param: string, writers: string, readers: string) =>
  `(owner_id = ${param} OR ${writers} IS NULL OR ${param} = ANY(${writers}) OR ${readers} IS NULL OR ${param} = ANY(${readers}))`;
