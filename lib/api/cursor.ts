/**
 * Cursors as clients see them. The stores' cursors are bare keyset positions that any list would
 * accept, so a `/backups` cursor sent to `/jobs` (or with other filters) would silently start the
 * walk at a foreign position and skip rows. Each cursor handed out is therefore sealed: the store's
 * position, plus a MAC over that position, the list's name and the query it was issued for (every
 * field but `cursor` and `limit`, which may change from page to page). A cursor from another list,
 * with other filters or altered by hand fails the MAC and is a 400 on `query.cursor`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Page, PageRequest } from '../ports/store.js';
import type { Deps } from '../runtime/deps.js';
import { canonicalJson } from './canonical-json.js';
import { withClientCursor } from './outcomes.js';
import { validationProblem } from './problem.js';

/** Enough to make a forgery hopeless; short enough to keep cursors readable in a URL. */
const MAC_BYTES = 16;

export interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  order?: 'asc' | 'desc';
}

interface CursorBinding {
  /** The MAC's key: the API token, so rotating it retires old cursors with it. */
  secret: string;
  /** The list's name, e.g. `jobs`. */
  list: string;
  /** The validated query, as the route parsed it. */
  query: ListQuery & Record<string, unknown>;
}

/** Opens the client's cursor, runs one page of the list, and seals the next cursor the same way. */
export async function boundPage<T>(
  deps: Pick<Deps, 'settings'>,
  list: string,
  query: CursorBinding['query'],
  run: (page: PageRequest) => Promise<Page<T>>,
): Promise<Page<T>> {
  const binding: CursorBinding = { secret: deps.settings.API_TOKEN ?? '', list, query };
  const { limit, cursor, order } = query;
  const request: PageRequest = { limit };
  if (order !== undefined) request.order = order;
  if (cursor !== undefined) request.cursor = openCursor(binding, cursor);
  const page = await withClientCursor(() => run(request));
  return page.cursor === undefined ? page : { ...page, cursor: sealCursor(binding, page.cursor) };
}

function sealCursor(binding: CursorBinding, position: string): string {
  const body = Buffer.from(position, 'utf8').toString('base64url');
  return `${body}.${mac(binding, position).toString('base64url')}`;
}

function openCursor(binding: CursorBinding, sealed: string): string {
  const dot = sealed.lastIndexOf('.');
  const position = dot > 0 ? Buffer.from(sealed.slice(0, dot), 'base64url').toString('utf8') : '';
  // The whole text is compared, not the decoded bytes: base64 decoding ignores a last character's
  // spare bits, and an edited cursor must not pass for the original.
  const given = Buffer.from(sealed, 'utf8');
  const expected = Buffer.from(sealCursor(binding, position), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw validationProblem([
      {
        path: 'query.cursor',
        message: `not a cursor this list issued for these filters; pass nextCursor back unchanged with the same query, or start again without cursor`,
      },
    ]);
  }
  return position;
}

function mac(binding: CursorBinding, position: string): Buffer {
  const { cursor: _cursor, limit: _limit, ...scope } = binding.query;
  return createHmac('sha256', `ecs-backup cursor\n${binding.secret}`)
    .update(`${binding.list}\n${canonicalJson(scope)}\n${position}`)
    .digest()
    .subarray(0, MAC_BYTES);
}
