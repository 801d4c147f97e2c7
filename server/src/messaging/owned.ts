import type { Database, Queryable } from '../db/database.ts';
import { forbidden, notFound } from '../errors.ts';
import type { IdGenerator } from '../ids.ts';
import { allowed, type AccessList } from './access.ts';
import type { StoredPayload } from './payload.ts';

/** The two kinds of named, owned messaging resources: their table and how errors name them. */
export interface OwnedKind {
  table: 'topics' | 'queues';
  noun: 'topic' | 'queue';
  columns: string;
}

/** The row of a named resource (optionally locked), or 404. */
export async function ownedRow<R>(db: Queryable, kind: OwnedKind, name: string, lock = ''): Promise<R> {
  const [r] = await db.query<R>(`SELECT ${kind.columns} FROM ${kind.table} WHERE name = $1 ${lock}`, [name]);
  if (!r) throw notFound(`No such ${kind.noun}`);
  return r;
}

/** Deletes a resource (its messages go with it, ON DELETE CASCADE) if the user owns it; returns its id. */
export function deleteOwned(db: Database, kind: OwnedKind, name: string, userId: string): Promise<string> {
  return db.transaction(async (tx) => {
    const cur = await ownedRow<{ id: string; owner_id: string }>(tx, kind, name, 'FOR UPDATE');
    if (cur.owner_id !== userId) throw forbidden(`Only the owner can delete this ${kind.noun}`);
    await tx.query(`DELETE FROM ${kind.table} WHERE id = $1`, [cur.id]);
    return cur.id;
  });
}

/** One message of a batch being written: which call it belongs to, its payload and new id. */
export interface Accepted {
  job: number;
  userId: string;
  payload: StoredPayload;
  id: string;
}

/**
 * Splits a group-committed batch of calls by the write access list: calls whose user may not
 * write get their own 403 (the others go on), the messages of the rest get ids.
 */
export function acceptWriters(
  jobs: readonly { userId: string; payloads: StoredPayload[] }[],
  list: AccessList,
  ownerId: string,
  ids: IdGenerator,
  refusal: string,
): { refused: Map<number, Error>; accepted: Accepted[] } {
  const refused = new Map<number, Error>();
  const accepted: Accepted[] = [];
  jobs.forEach((job, i) => {
    if (!allowed(list, ownerId, job.userId)) refused.set(i, forbidden(refusal));
    else for (const payload of job.payloads) accepted.push({ job: i, userId: job.userId, payload, id: ids.next() });
  });
  return { refused, accepted };
}

/** The wire fields of a message just written, from what was sent (no read back). */
export function writtenMessage(a: Accepted, publishedAt: Date) {
  return {
    id: a.id,
    ...(a.payload.base64 !== null ? { bytes: a.payload.base64 } : { data: JSON.parse(a.payload.json!) as unknown }),
    contentType: a.payload.contentType,
    publishedBy: a.userId,
    publishedAt: publishedAt.toISOString(),
  };
}

/** Per call: its messages, or its refusal. */
export function resultsPerJob<M>(jobCount: number, refused: Map<number, Error>, written: { job: number; message: M }[]): (M[] | Error)[] {
  const out: (M[] | Error)[] = Array.from({ length: jobCount }, (_, i) => refused.get(i) ?? []);
  for (const w of written) (out[w.job] as M[]).push(w.message);
  return out;
}
