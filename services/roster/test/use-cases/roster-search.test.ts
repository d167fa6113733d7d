import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import { createLogger } from '@isams-sync/logger';
import { memoryProcessor } from '../support/memory-processor';
import type { RosterEntity } from '../../src/domain/roster-model';
import { searchText } from '../../src/domain/search-text';
import { ids } from '../../src/use-cases/records';
import type { StoredChange } from '../../src/use-cases/records';
import { RosterQueries } from '../../src/use-cases/roster-queries';
import {
  MemoryPublisher,
  MemoryRosterStore,
  emptyRosterState,
  putActiveEntity,
} from '../support/memory-roster';

const T = 'school-a';

/** RosterQueries over in-memory ports, with `entities` stored as active pupils (or of their own type). */
function setUp(entities: { entityType?: RosterEntityType; image: RosterEntity }[] = []) {
  const state = emptyRosterState();
  const store = new MemoryRosterStore(state);
  for (const { entityType = 'pupil', image } of entities) putActiveEntity(state, T, entityType, image);
  const processor = memoryProcessor(state, {
    store,
    publisher: new MemoryPublisher(),
    logger: createLogger({ service: 'roster-test', level: 'silent' }),
  });
  const queries = new RosterQueries(store, processor, { percent: 10, min: 5 });
  /** Ids of the entities the query (and filters) finds. */
  const search = async (
    query: string | undefined,
    filters: { field: string; value: string }[] = [],
    entityType: RosterEntityType = 'pupil',
  ) =>
    (
      await queries.listEntities(T, {
        entityType,
        ...(query === undefined ? {} : { query }),
        status: 'active',
        filters,
        pageSize: 50,
      })
    ).items.map((e) => e.entityId);
  return { state, queries, search };
}

const PUPILS: { image: RosterEntity }[] = [
  { image: { id: '1', forename: 'Zoë', surname: 'Brontë', fullName: 'Zoë Brontë' } },
  {
    image: {
      id: '2',
      forename: 'Robert',
      preferredName: 'Bob',
      surname: 'Smith',
      fullName: 'Robert Smith',
      userName: 'rsmith42',
      email: 'robert.smith@example.org',
    },
  },
  {
    image: {
      id: '3',
      forename: 'Siobhán',
      middleName: 'Marie',
      surname: "O'Neill",
      fullName: "Siobhán O'Neill",
    },
  },
  { image: { id: '4', forename: 'Anna', surname: 'Jones' } },
  { image: { id: '5', forename: 'Ben', surname: 'Hall', formId: '7A' } },
  // A decomposed (NFD) diaeresis, as some sources store it.
  { image: { id: '6', forename: 'Zoe\u0308', surname: 'Adams', fullName: 'Zoe\u0308 Adams' } },
  { image: { id: '7', forename: 'Lucy', surname: 'Hartley-Brown', fullName: 'Lucy Hartley-Brown' } },
];

describe('ListEntities query: names are folded (accents, case, apostrophes, punctuation, spacing)', () => {
  it('finds a name whatever its accents or their Unicode form, in the query or in the record', async () => {
    const { search } = setUp(PUPILS);
    expect(await search('zoe')).toEqual(['1', '6']);
    expect(await search('Zoë')).toEqual(['1', '6']); // composed (NFC)
    expect(await search('Zoe\u0308')).toEqual(['1', '6']); // decomposed (NFD)
    expect(await search('ZOË')).toEqual(['1', '6']);
    expect(await search('bronte')).toEqual(['1']);
    expect(await search('siobhan')).toEqual(['3']);
  });

  it('ignores apostrophes, straight or typographic, in the query and in the record', async () => {
    const { search } = setUp(PUPILS);
    for (const q of ['oneill', "o'neill", 'o’neill', 'oʼneill', 'o`neill', 'o´neill', 'O’Neill'])
      expect(await search(q), q).toEqual(['3']);
  });

  it('spells out the letters NFKD keeps whole (ß, æ, œ, ø, ł, đ)', async () => {
    const { search } = setUp([
      { image: { id: '8', forename: 'Søren', surname: 'Strauß' } },
      { image: { id: '9', forename: 'Łukasz', surname: 'Æbelø' } },
    ]);
    expect(await search('soren strauss')).toEqual(['8']);
    expect(await search('Strauß')).toEqual(['8']);
    expect(await search('lukasz aebelo')).toEqual(['9']);
  });

  it('treats hyphens and other punctuation as spaces', async () => {
    const { search } = setUp(PUPILS);
    expect(await search('hartley-brown')).toEqual(['7']);
    expect(await search('hartley brown')).toEqual(['7']);
    expect(await search('brown')).toEqual(['7']);
    expect(await search('hartley-brown, lucy')).toEqual(['7']);
  });
});

describe('ListEntities query: every word of the query, in any order', () => {
  it('matches a person by any of their names, in any order, however they are separated', async () => {
    const { search } = setUp(PUPILS);
    expect(await search('bob smith')).toEqual(['2']); // preferred name + surname
    expect(await search('smith bob')).toEqual(['2']);
    expect(await search('smith, robert')).toEqual(['2']);
    expect(await search('robert  smith')).toEqual(['2']); // two spaces
    expect(await search(' robert\tsmith ')).toEqual(['2']);
    expect(await search('rob smi')).toEqual(['2']); // each word may be part of a name
    expect(await search('robert jones')).toEqual([]); // every word must match the same person
  });

  it('searches middle names and the user name', async () => {
    const { search } = setUp(PUPILS);
    expect(await search('marie')).toEqual(['3']);
    expect(await search('siobhan marie oneill')).toEqual(['3']);
    expect(await search('rsmith42')).toEqual(['2']);
    expect(await search('rsmith')).toEqual(['2']);
  });

  it('searches the middle names, user name and preferred name of staff, and the middle names of contacts', async () => {
    const { search } = setUp([
      {
        entityType: 'staff',
        image: {
          id: 's1',
          forename: 'Margaret',
          middleNames: 'Ann Louise',
          surname: 'Price',
          preferredName: 'Peggy',
          userName: 'mprice',
        },
      },
      {
        entityType: 'contact',
        image: { id: 'c1', forename: 'Jane', middleNames: 'Eliza', surname: 'Parent' },
      },
    ]);
    expect(await search('louise', [], 'staff')).toEqual(['s1']);
    expect(await search('peggy price', [], 'staff')).toEqual(['s1']);
    expect(await search('mprice', [], 'staff')).toEqual(['s1']);
    expect(await search('eliza parent', [], 'contact')).toEqual(['c1']);
  });

  it('keeps ids and e-mail addresses searchable, whole or in part', async () => {
    const { search } = setUp([
      ...PUPILS,
      {
        entityType: 'contact',
        image: { id: 'c12-1', forename: 'Jane', surname: 'Parent', emails: ['Jane.Parent@Example.com'] },
      },
    ]);
    expect(await search('robert.smith@example.org')).toEqual(['2']);
    expect(await search('robert.smith@exam')).toEqual(['2']);
    expect(await search('smith@example')).toEqual(['2']);
    expect(await search('jane.parent@exam', [], 'contact')).toEqual(['c12-1']);
    expect(await search('jane.parent@example.com', [], 'contact')).toEqual(['c12-1']);
    expect(await search('c12-1', [], 'contact')).toEqual(['c12-1']);
    expect(await search('5')).toEqual(['5']);
  });

  it('treats a blank query (or one of nothing searchable) as no query', async () => {
    const { search } = setUp(PUPILS);
    const everyone = ['1', '2', '3', '4', '5', '6', '7'];
    expect(await search(undefined)).toEqual(everyone);
    for (const q of ['', ' ', '  \t ', "'", ' , - '])
      expect(await search(q), JSON.stringify(q)).toEqual(everyone);
  });

  it('searchText holds the folded words of the searched fields', () => {
    const words = (e: RosterEntity) => searchText('pupil', e).split(' ').sort();
    expect(
      words({
        id: '3',
        forename: 'Siobhán',
        middleName: 'Marie',
        surname: 'O’Neill',
        userName: 'SONEILL',
        email: 's.oneill@example.org',
      }),
    ).toEqual(['3', 'example', 'marie', 'oneill', 'oneill', 'org', 's', 'siobhan', 'soneill']);
  });
});

describe('ListEntities filters', () => {
  it('never matches an entity without the field, whatever the value asked for', async () => {
    const { search } = setUp(PUPILS);
    expect(await search(undefined, [{ field: 'formId', value: 'undefined' }])).toEqual([]);
    expect(await search(undefined, [{ field: 'formId', value: 'null' }])).toEqual([]);
    expect(await search(undefined, [{ field: 'formId', value: '7A' }])).toEqual(['5']);
  });
});

describe('GetHeldBatch query: a held change is found by either of its images', () => {
  const items: StoredChange[] = [
    {
      seq: 1,
      entityType: 'pupil',
      entityId: '7',
      change: 'updated',
      disposition: 'held',
      before: { id: '7', forename: 'Amy', surname: 'Smith' },
      after: { id: '7', forename: 'Amy', surname: 'Jones' },
      changedFields: ['surname'],
    },
    {
      seq: 2,
      entityType: 'pupil',
      entityId: '8',
      change: 'added',
      disposition: 'held',
      after: { id: '8', forename: 'Tom', surname: 'Jones' },
    },
    {
      seq: 3,
      entityType: 'pupil',
      entityId: '9',
      change: 'removed',
      disposition: 'held',
      before: { id: '9', forename: 'Zoë', surname: 'Smith' },
    },
  ];

  function heldSetUp() {
    const { state, queries } = setUp();
    const changesetId = ids.heldItems(T, 'held-r2', 1);
    state.heldBatches.set(ids.heldBatch(T, 'held-r2'), {
      _id: ids.heldBatch(T, 'held-r2'),
      tenantId: T,
      batchId: 'held-r2',
      syncRunId: 'r2',
      status: 'pending',
      createdAt: new Date('2026-01-02T00:00:00Z'),
      itemsChangesetId: changesetId,
      itemChunkCount: 1,
      heldTypes: {},
      countsByType: { pupil: items.length },
      total: items.length,
      kind: 'whole_run',
    });
    state.changeChunks.set(ids.changeChunk(changesetId, 0), {
      _id: ids.changeChunk(changesetId, 0),
      tenantId: T,
      changesetId,
      chunkNo: 0,
      changes: items,
    });
    return async (query: string) =>
      (await queries.getHeldBatch(T, 'held-r2', { query }, 50)).records.items.map((c) => c.entityId);
  }

  it('finds an updated record by its new name (the name the Held records table shows) and by its old one', async () => {
    const search = heldSetUp();
    expect(await search('jones')).toEqual(['7', '8']);
    expect(await search('smith')).toEqual(['7', '9']);
    expect(await search('amy jones')).toEqual(['7']);
    expect(await search('amy smith')).toEqual(['7']);
  });

  it('folds the query as ListEntities does, and a blank query lists every record', async () => {
    const search = heldSetUp();
    expect(await search('zoe smith')).toEqual(['9']);
    expect(await search(' ')).toEqual(['7', '8', '9']);
  });
});
