import type { CommandStartedEvent, Document, MongoClient } from 'mongodb';
import type { CollectionIndexSpec } from './ensure-indexes';

/**
 * The shape of one query a service sent: which collection, which command, which fields it filters
 * on by equality (incl. `$in`) and by range, and its sort. Values are never kept (no personal data).
 */
export interface QueryShape {
  collection: string;
  command: string;
  /** Top-level fields compared by equality or `$in`, sorted. */
  equality: string[];
  /** Top-level fields compared by `$lt`/`$lte`/`$gt`/`$gte`, sorted. */
  range: string[];
  /** Other conditions (`$ne`, `$nin`, `$exists`, `$or`…): never what an index is chosen by. */
  other: string[];
  /** Sort fields, in order. */
  sort: string[];
}

/** Records the query shapes of every client created while it is active (tests; see {@link recordQueryShapes}). */
export interface QueryShapeRecorder {
  /** The distinct shapes recorded so far, in first-seen order. */
  shapes(): QueryShape[];
  /** Records the shapes of a client's commands (clients `connectMongo` creates are attached for you). */
  attach(client: MongoClient): void;
  stop(): void;
}

const active = new Set<{ add(e: CommandStartedEvent): void }>();

/** Whether a recorder is active: `connectMongo` then creates its client with command monitoring on. */
export function queryShapeRecordingActive(): boolean {
  return active.size > 0;
}

/** Attaches every active recorder to a client `connectMongo` just created. */
export function attachActiveRecorders(client: MongoClient): void {
  for (const r of active) client.on('commandStarted', (e) => r.add(e));
}

const RANGE = new Set(['$lt', '$lte', '$gt', '$gte']);

function classify(
  filter: Document | undefined,
  out: Omit<QueryShape, 'collection' | 'command' | 'sort'>,
): void {
  for (const [field, cond] of Object.entries(filter ?? {})) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const part of cond) classify(part as Document, out);
      continue;
    }
    if (field.startsWith('$')) {
      out.other.push(field);
      continue;
    }
    const ops =
      cond !== null && typeof cond === 'object' && !Array.isArray(cond) && !(cond instanceof Date)
        ? Object.keys(cond as Document).filter((k) => k.startsWith('$'))
        : [];
    if (ops.length === 0 || ops.every((op) => op === '$eq' || op === '$in')) out.equality.push(field);
    else if (ops.some((op) => RANGE.has(op))) out.range.push(field);
    else out.other.push(field);
  }
}

/** The query shapes of one command (none for inserts and commands without a filter). */
export function shapesOf(commandName: string, command: Document): QueryShape[] {
  const collection = command[commandName];
  if (typeof collection !== 'string') return [];
  const one = (filter: Document | undefined, sort: Document | undefined): QueryShape => {
    const s = { equality: [] as string[], range: [] as string[], other: [] as string[] };
    classify(filter, s);
    return {
      collection,
      command: commandName,
      equality: [...new Set(s.equality)].sort(),
      range: [...new Set(s.range)].sort(),
      other: [...new Set(s.other)].sort(),
      sort: Object.keys(sort ?? {}),
    };
  };
  switch (commandName) {
    case 'find':
      return [one(command.filter as Document, command.sort as Document)];
    case 'count':
    case 'distinct':
      return [one(command.query as Document, undefined)];
    case 'findAndModify':
      return [one(command.query as Document, command.sort as Document)];
    case 'update':
      return ((command.updates as Document[]) ?? []).map((u) => one(u.q as Document, undefined));
    case 'delete':
      return ((command.deletes as Document[]) ?? []).map((d) => one(d.q as Document, undefined));
    case 'aggregate': {
      const first = ((command.pipeline as Document[]) ?? [])[0];
      return [one(first?.$match as Document | undefined, undefined)];
    }
    default:
      return [];
  }
}

const keyOf = (s: QueryShape): string =>
  `${s.collection}:${s.command}:eq=${s.equality.join(',')}:range=${s.range.join(',')}:other=${s.other.join(',')}:sort=${s.sort.join(',')}`;

/**
 * Starts recording the query shapes of every MongoDB client `connectMongo` creates from now on (and
 * of clients passed to `attach`). For tests that check every query has a declared index
 * ({@link indexServing}); nothing records in production.
 */
export function recordQueryShapes(): QueryShapeRecorder {
  const seen = new Map<string, QueryShape>();
  const sink = {
    add(e: CommandStartedEvent) {
      for (const s of shapesOf(e.commandName, e.command)) if (!seen.has(keyOf(s))) seen.set(keyOf(s), s);
    },
  };
  active.add(sink);
  return {
    shapes: () => [...seen.values()],
    attach: (client) => {
      client.on('commandStarted', (e) => sink.add(e));
    },
    stop: () => {
      active.delete(sink);
    },
  };
}

/**
 * The declared index that serves a query shape on MongoDB, or undefined when the query would scan
 * the collection (COLLSCAN): an index serves it when its first key field is one the filter
 * constrains by equality, `$in` or a range (`_id` always has its index). Then the best such index:
 * the one whose key starts with the most of the filter's equality fields, followed by the sort or
 * range field. A filter with no such field scans, whatever its sort.
 */
export function indexServing(
  shape: QueryShape,
  catalogue: readonly CollectionIndexSpec[],
): { name: string; exact: boolean } | undefined {
  const keys: { name: string; fields: string[] }[] = [{ name: '_id_', fields: ['_id'] }];
  for (const c of catalogue)
    if (c.collection === shape.collection)
      for (const i of c.indexes) keys.push({ name: i.name, fields: Object.keys(i.key) });
  const eq = new Set(shape.equality);
  let best: { name: string; exact: boolean; used: number } | undefined;
  for (const k of keys) {
    const lead = k.fields[0]!;
    if (!eq.has(lead) && !shape.range.includes(lead)) continue;
    let used = 0;
    while (used < k.fields.length && eq.has(k.fields[used]!)) used += 1;
    const next = k.fields[used];
    const rest = [...shape.sort.filter((f) => !eq.has(f)), ...shape.range];
    // Exact: every equality field is a key prefix, and a sort/range field (if any) comes right after.
    const exact = used === eq.size && (rest.length === 0 || next === rest[0]);
    if (best === undefined || used > best.used || (used === best.used && exact && !best.exact))
      best = { name: k.name, exact, used };
  }
  return best === undefined ? undefined : { name: best.name, exact: best.exact };
}

/** A shape as one line of text (for test reports). */
export function describeShape(s: QueryShape): string {
  const parts = [
    ...s.equality.map((f) => `${f}=`),
    ...s.range.map((f) => `${f}<>`),
    ...s.other.map((f) => `${f}?`),
  ];
  return `${s.collection}.${s.command}({${parts.join(', ')}})${s.sort.length > 0 ? ` sort(${s.sort.join(',')})` : ''}`;
}

/** What {@link queryIndexReport} finds. */
export interface QueryIndexReport {
  /** The shapes checked (the database's own `system.*` collections left out). */
  shapes: QueryShape[];
  /** Every shape as a line with the index serving it (or COLLECTION SCAN), then those that would scan. */
  text: string;
  /** The shapes that would scan on MongoDB and are not among the cold ones. */
  hot: string[];
}

/**
 * A service's recorded query shapes against its index catalogue, for its query-indexes test: each
 * shape with the index serving it ({@link indexServing}), and the ones that would scan on MongoDB
 * other than `coldScans` (a described shape → why scanning it is fine: start-up only, a small work list).
 */
export function queryIndexReport(
  service: string,
  recorded: readonly QueryShape[],
  catalogue: readonly CollectionIndexSpec[],
  coldScans: Readonly<Record<string, string>> = {},
): QueryIndexReport {
  const shapes = recorded.filter((s) => !s.collection.startsWith('system.') && s.collection !== '$cmd');
  const line = (s: QueryShape) => {
    const ix = indexServing(s, catalogue);
    return `${describeShape(s)} → ${ix === undefined ? 'COLLECTION SCAN' : `${ix.name}${ix.exact ? '' : ' (prefix)'}`}`;
  };
  const scans = shapes.filter((s) => indexServing(s, catalogue) === undefined);
  const list = (items: QueryShape[]) => items.map(line).join('\n  ') || '(none)';
  return {
    shapes,
    text:
      `${service} query shapes (${shapes.length}):\n  ${list(shapes)}\n` +
      `would scan on MongoDB (${scans.length}):\n  ${list(scans)}\n`,
    hot: scans.map(describeShape).filter((d) => coldScans[d] === undefined),
  };
}
