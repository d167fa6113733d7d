import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DATASET_IDS } from '../../domain/isams-lib';
import type { DatasetId } from '../../domain/isams-lib';
import * as mutate from '../../domain/mutations';
import type { SchoolRegistry } from '../../domain/school-registry';
import {
  CONNECTION_MODES,
  FAULT_KINDS,
  createGeneratedSchool,
  createXmlSchool,
  liveRows,
  refreshCache,
  replaceWithGenerated,
  touch,
  updateKey,
  updateServer,
} from '../../domain/simulated-school';
import type { KeyOptions, ServerOptions, SimulatedSchool } from '../../domain/simulated-school';
import { SimErrors } from '../../domain/simulator-errors';
import { XmlReadError } from '../../domain/xml-reader';
import { allowListEntry, cacheKeyFor } from '../../domain/key-policy';
import { parseRawPath } from '../../domain/raw-edits';

export interface AdminRouteOptions {
  registry: SchoolRegistry;
  now: () => number;
}

const datasetId = z.enum(DATASET_IDS);
// Stored canonical, so an entry matches the caller's address as the socket reports it.
const allowedIp = z.string().transform((text, ctx) => {
  const entry = allowListEntry(text);
  if (entry === undefined)
    ctx.addIssue({
      code: 'custom',
      message: `"${text.slice(0, 64)}" is not an IPv4 or IPv6 address or an IPv4 range (a.b.c.d/n)`,
    });
  return entry ?? text;
});
const keyFields = {
  apiKey: z.string().trim().min(1).optional(),
  active: z.boolean().optional(),
  allowedIps: z.array(allowedIp).optional(),
  datasets: z.array(datasetId).min(1).optional(),
  cacheExpiryMs: z.number().int().min(0).optional(),
  cacheExpirySeconds: z.number().int().min(0).optional(),
  cacheMode: z.enum(['cached', 'bypass']).optional(),
  cacheKeying: z.enum(['key+methods', 'key']).optional(),
  throttle: z
    .object({ limit: z.number().int().min(1), windowMs: z.number().int().min(1) })
    .nullable()
    .optional(),
};
const keySchema = z.object(keyFields).strict();
const ms = z
  .number()
  .min(0)
  .max(24 * 3_600_000);
/** The school's server behaviour: connection mode and generation time model (all optional). */
export const serverFields = {
  connection: z.enum(CONNECTION_MODES).optional(),
  generation: z
    .object({
      limitMs: ms.optional(),
      msPerMethod: ms.optional(),
      msPer1000Rows: ms.optional(),
      deadlockPer1000Rows: z.number().min(0).max(1).optional(),
    })
    .strict()
    .optional(),
};
const serverSchema = z.object(serverFields).strict();
const createSchema = z.union([
  z
    .object({
      schoolId: z.string().trim().min(1),
      seed: z.number().int(),
      size: z.enum(['small', 'medium', 'large']),
      ...keyFields,
      ...serverFields,
    })
    .strict(),
  z
    .object({ schoolId: z.string().trim().min(1), xml: z.string().min(1), ...keyFields, ...serverFields })
    .strict(),
]);
const patchSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const idParams = z.object({ schoolId: z.string(), id: z.coerce.number().int() });
const schoolParams = z.object({ schoolId: z.string() });
const datasetParams = z.object({ schoolId: z.string(), dataset: datasetId });
type DatasetParams = z.infer<typeof datasetParams>;
const rawEditSchema = z
  .object({
    dataset: datasetId,
    recordId: z.string().min(1),
    path: z.string().min(1),
    value: z.string().nullable(),
  })
  .strict();
const faultSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    times: z.number().int().min(1).default(1),
    delayMs: z.number().int().min(0).optional(),
  })
  .strict();
const personSchema = z
  .object({
    title: z.string().optional(),
    forename: z.string().optional(),
    middleNames: z.string().optional(),
    surname: z.string().optional(),
    emailAddress: z.string().optional(),
    mobile: z.string().optional(),
    profession: z.string().optional(),
  })
  .strict();
const contactSchema = z
  .object({
    relationshipRaw: z.string().optional(),
    pupilIds: z.array(z.number().int()).default([]),
    people: z.array(personSchema).min(1).max(2),
    telephone: z.string().optional(),
  })
  .strict();
const setSchema = z
  .object({
    subjectId: z.number().int(),
    yearId: z.number().int(),
    setCode: z.string().min(1),
    name: z.string().optional(),
    block: z.string().optional(),
    setNumber: z.number().int().optional(),
    teacherStaffIds: z.array(z.number().int()).optional(),
  })
  .strict();

/** Picks the server fields of a request body (dropping undefined ones). */
function serverOptions(body: z.infer<typeof serverSchema>): ServerOptions {
  const generation = Object.fromEntries(
    Object.entries(body.generation ?? {}).filter(([, v]) => v !== undefined),
  ) as ServerOptions['generation'];
  return {
    ...(body.connection !== undefined ? { connection: body.connection } : {}),
    ...(body.generation !== undefined ? { generation } : {}),
  };
}

/** Converts the wire key fields to domain options (seconds → ms). */
function keyOptions(body: z.infer<typeof keySchema>): KeyOptions {
  const { cacheExpirySeconds, ...rest } = body;
  const o: KeyOptions = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  if (cacheExpirySeconds !== undefined && body.cacheExpiryMs === undefined)
    o.cacheExpiryMs = cacheExpirySeconds * 1000;
  return o;
}

/** Public view of a school for the admin API (the key is shown: this is a dev-only simulator). */
export function schoolSummary(school: SimulatedSchool, now: number) {
  const rows = liveRows(school);
  return {
    schoolId: school.schoolId,
    source: school.source,
    key: school.key,
    emptied: [...school.emptied],
    rawEdits: school.rawEdits,
    datasetOrder: school.datasetOrder,
    rowCounts: Object.fromEntries(DATASET_IDS.map((d) => [d, rows[d].length])),
    cache: [...school.cache.entries()].map(([cacheKey, e]) => ({
      cacheKey: cacheKey.replace(/^[^|]*\|/, ''),
      ageMs: now - e.createdAt,
    })),
    faults: school.faults,
    server: school.server,
    stats: school.stats,
    version: school.version,
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw SimErrors.SIM_INVALID_REQUEST({
      reason: result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    });
  }
  return result.data;
}

/** What the admin routes share: the registry, the clock and the request → school resolvers. */
interface AdminRouteContext extends AdminRouteOptions {
  school: (req: FastifyRequest) => SimulatedSchool;
  ids: (req: FastifyRequest) => { s: SimulatedSchool; id: number };
}

/** The admin API under `/admin`: schools, data mutations, key settings, cache and faults. */
export function registerAdminRoutes(app: FastifyInstance, opts: AdminRouteOptions): void {
  const { registry, now } = opts;
  const ctx: AdminRouteContext = {
    registry,
    now,
    school: (req) => registry.get(parse(schoolParams, req.params).schoolId),
    ids: (req) => {
      const p = parse(idParams, req.params);
      return { s: registry.get(p.schoolId), id: p.id };
    },
  };
  registerSchoolRoutes(app, ctx);
  registerRecordRoutes(app, ctx);
  registerFaultRoutes(app, ctx);
}

/** Schools: create/list/delete, key and server settings, datasets, replace, refresh, ground truth. */
function registerSchoolRoutes(app: FastifyInstance, { registry, now, school }: AdminRouteContext): void {
  app.get('/admin/schools', async () => ({ schools: registry.list().map((s) => schoolSummary(s, now())) }));

  app.post('/admin/schools', async (req, reply) => {
    const { connection, generation, ...body } = parse(createSchema, req.body);
    const key = keyOptions(body);
    const server = serverOptions({ connection, generation });
    let created: SimulatedSchool;
    if ('xml' in body) {
      try {
        created = createXmlSchool(body.schoolId, body.xml, key, server);
      } catch (err) {
        if (err instanceof XmlReadError)
          throw SimErrors.SIM_XML_INVALID({ reason: err.message }, { cause: err });
        throw err;
      }
    } else created = createGeneratedSchool(body.schoolId, body.seed, body.size, key, server);
    registry.add(created);
    return reply.code(201).send(schoolSummary(created, now()));
  });

  app.get('/admin/schools/:schoolId', async (req) => schoolSummary(school(req), now()));
  app.delete('/admin/schools/:schoolId', async (req, reply) => {
    registry.remove(parse(schoolParams, req.params).schoolId);
    return reply.code(204).send();
  });

  app.patch('/admin/schools/:schoolId/key', async (req) => {
    const s = school(req);
    const o = keyOptions(parse(keySchema, req.body));
    if (o.apiKey) registry.assertKeyFree(o.apiKey, s.schoolId);
    updateKey(s, o);
    return schoolSummary(s, now());
  });
  app.patch('/admin/schools/:schoolId/server', async (req) => {
    const s = school(req);
    updateServer(s, serverOptions(parse(serverSchema, req.body)));
    return schoolSummary(s, now());
  });
  /** A route that changes one dataset's setting of a school and answers the school's summary. */
  const datasetChange =
    (change: (s: SimulatedSchool, dataset: DatasetParams['dataset']) => void) =>
    async (req: FastifyRequest) => {
      const { schoolId, dataset } = parse(datasetParams, req.params);
      const s = registry.get(schoolId);
      change(s, dataset);
      return schoolSummary(s, now());
    };
  app.delete(
    '/admin/schools/:schoolId/key/datasets/:dataset',
    datasetChange((s, dataset) => {
      const datasets = s.key.datasets.filter((d) => d !== dataset);
      // Reference §1.4: a key has at least one method (PATCH refuses an empty list too).
      if (datasets.length === 0)
        throw SimErrors.SIM_INVALID_REQUEST({
          reason: `${dataset} is the key's last dataset: a key must have at least one dataset`,
        });
      updateKey(s, { datasets });
    }),
  );
  app.post(
    '/admin/schools/:schoolId/key/datasets/:dataset',
    datasetChange((s, dataset) => {
      if (!s.key.datasets.includes(dataset)) updateKey(s, { datasets: [...s.key.datasets, dataset] });
    }),
  );
  app.post(
    '/admin/schools/:schoolId/datasets/:dataset/empty',
    datasetChange((s, dataset) => {
      s.emptied.add(dataset);
      touch(s);
    }),
  );
  app.delete(
    '/admin/schools/:schoolId/datasets/:dataset/empty',
    datasetChange((s, dataset) => {
      s.emptied.delete(dataset);
      touch(s);
    }),
  );
  app.post('/admin/schools/:schoolId/replace', async (req) => {
    const s = school(req);
    const b = parse(
      z.object({ seed: z.number().int(), size: z.enum(['small', 'medium', 'large']) }).strict(),
      req.body,
    );
    replaceWithGenerated(s, b.seed, b.size);
    return schoolSummary(s, now());
  });
  app.post('/admin/schools/:schoolId/refresh', async (req) => {
    const s = school(req);
    refreshCache(s);
    return schoolSummary(s, now());
  });

  app.get('/admin/schools/:schoolId/ground-truth', async (req) => {
    const s = school(req);
    const q = parse(
      z.object({ view: z.enum(['live', 'served']).default('live'), datasets: z.string().optional() }),
      req.query,
    );
    const wanted: DatasetId[] = q.datasets
      ? parse(z.array(datasetId), q.datasets.split(','))
      : [...DATASET_IDS];
    let rows = liveRows(s);
    if (q.view === 'served' && s.key.cacheMode === 'cached') {
      const entry = s.cache.get(cacheKeyFor(s.key.apiKey, undefined, s.key.cacheKeying));
      if (entry) rows = entry.rows as typeof rows;
    }
    return {
      schoolId: s.schoolId,
      view: q.view,
      allocated: s.key.datasets,
      datasets: Object.fromEntries(wanted.map((d) => [d, rows[d]])),
    };
  });

  // Pupils.
}

/** `DELETE /admin/schools/:schoolId/<records>/:id`: `remove`, then 204. */
function deleteRecordRoute(
  app: FastifyInstance,
  ids: AdminRouteContext['ids'],
  records: string,
  remove: (school: SimulatedSchool, id: number) => void,
): void {
  app.delete(`/admin/schools/:schoolId/${records}/:id`, async (req, reply) => {
    const { s, id } = ids(req);
    remove(s, id);
    return reply.code(204).send();
  });
}

/** Record mutations: pupils, staff, contacts, sets, set lists, memberships, churn. */
function registerRecordRoutes(app: FastifyInstance, { school, ids }: AdminRouteContext): void {
  app.post('/admin/schools/:schoolId/pupils', async (req, reply) =>
    reply.code(201).send(mutate.addPupil(school(req), parse(patchSchema, req.body ?? {}))),
  );
  app.patch('/admin/schools/:schoolId/pupils/:id', async (req) => {
    const { s, id } = ids(req);
    return mutate.updatePupil(s, id, parse(patchSchema, req.body));
  });
  app.delete('/admin/schools/:schoolId/pupils/:id', async (req, reply) => {
    const { s, id } = ids(req);
    const { purge } = parse(z.object({ purge: z.enum(['true', 'false']).optional() }), req.query);
    mutate.removePupil(s, id, purge === 'true');
    return reply.code(204).send();
  });

  // Staff.
  app.post('/admin/schools/:schoolId/staff', async (req, reply) =>
    reply.code(201).send(mutate.addStaff(school(req), parse(patchSchema, req.body ?? {}))),
  );
  app.patch('/admin/schools/:schoolId/staff/:id', async (req) => {
    const { s, id } = ids(req);
    return mutate.updateStaff(s, id, parse(patchSchema, req.body));
  });
  deleteRecordRoute(app, ids, 'staff', mutate.removeStaff);

  // Contacts.
  app.post('/admin/schools/:schoolId/contacts', async (req, reply) =>
    reply.code(201).send(mutate.addContact(school(req), parse(contactSchema, req.body))),
  );
  app.patch('/admin/schools/:schoolId/contacts/:id', async (req) => {
    const { s, id } = ids(req);
    const { person } = parse(
      z.object({ person: z.coerce.number().int().min(0).max(1).default(0) }),
      req.query,
    );
    return mutate.updateContact(s, id, parse(patchSchema, req.body), person);
  });
  deleteRecordRoute(app, ids, 'contacts', mutate.removeContact);

  // Sets.
  app.post('/admin/schools/:schoolId/sets', async (req, reply) =>
    reply.code(201).send(mutate.addSet(school(req), parse(setSchema, req.body))),
  );
  app.patch('/admin/schools/:schoolId/sets/:id', async (req) => {
    const { s, id } = ids(req);
    const body = parse(
      z
        .object({ teacherStaffIds: z.array(z.number().int()).optional() })
        .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()])),
      req.body,
    );
    const { teacherStaffIds, ...patch } = body;
    return mutate.updateSet(s, id, patch as mutate.Patch, teacherStaffIds);
  });
  deleteRecordRoute(app, ids, 'sets', mutate.removeSet);

  // Set-list rows and custom-group memberships.
  app.post('/admin/schools/:schoolId/set-lists', async (req, reply) => {
    const b = parse(z.object({ setId: z.number().int(), pupilId: z.number().int() }).strict(), req.body);
    return reply.code(201).send(mutate.addSetListRow(school(req), b.setId, b.pupilId));
  });
  deleteRecordRoute(app, ids, 'set-lists', mutate.removeSetListRow);
  app.post('/admin/schools/:schoolId/memberships', async (req, reply) => {
    const b = parse(
      z.object({ customGroupId: z.number().int(), pupilId: z.number().int() }).strict(),
      req.body,
    );
    return reply.code(201).send(mutate.addMembership(school(req), b.customGroupId, b.pupilId));
  });
  deleteRecordRoute(app, ids, 'memberships', mutate.removeMembership);
  app.post('/admin/schools/:schoolId/churn', async (req) => {
    const b = parse(
      z
        .object({ leavers: z.number().int().min(0).default(0), joiners: z.number().int().min(0).default(0) })
        .strict(),
      req.body,
    );
    return mutate.churn(school(req), b.leavers, b.joiners);
  });

  // Raw values written into served records as-is (odd booleans, dates, ids, lists without ids).
}

/** Raw edits of the served document and injected faults. */
function registerFaultRoutes(app: FastifyInstance, { school }: AdminRouteContext): void {
  app.get('/admin/schools/:schoolId/raw-edits', async (req) => ({ rawEdits: school(req).rawEdits }));
  app.post('/admin/schools/:schoolId/raw-edits', async (req, reply) => {
    const s = school(req);
    const edit = parse(rawEditSchema, req.body);
    parseRawPath(edit.path);
    if (!liveRows(s)[edit.dataset].some((r) => r.attributes.Id === edit.recordId))
      throw SimErrors.SIM_RECORD_NOT_FOUND({ entity: `${edit.dataset} record`, id: edit.recordId });
    s.rawEdits.push(edit);
    touch(s);
    return reply.code(201).send({ rawEdits: s.rawEdits });
  });
  app.delete('/admin/schools/:schoolId/raw-edits', async (req, reply) => {
    const s = school(req);
    s.rawEdits.length = 0;
    touch(s);
    return reply.code(204).send();
  });

  // Faults.
  app.get('/admin/schools/:schoolId/faults', async (req) => ({ faults: school(req).faults }));
  app.post('/admin/schools/:schoolId/faults', async (req, reply) => {
    const s = school(req);
    const f = parse(faultSchema, req.body);
    s.faults.push({
      kind: f.kind,
      remaining: f.times,
      ...(f.delayMs !== undefined ? { delayMs: f.delayMs } : {}),
    });
    return reply.code(201).send({ faults: s.faults });
  });
  app.delete('/admin/schools/:schoolId/faults', async (req, reply) => {
    school(req).faults.length = 0;
    return reply.code(204).send();
  });
}
