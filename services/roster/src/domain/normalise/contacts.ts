import { ID_MAX_CHARS } from '@isams-sync/isams';
import { itemField } from '../keep-stored';
import { ROSTER_FINDING_CODES as F } from '../roster-model';
import type { JsonValue, RosterEntity } from '../roster-model';
import {
  addFinding,
  compact,
  compareIds,
  copiesOf,
  entity,
  everyCopyItems,
  keepStored,
  keepUnreadable,
  readDataset,
  skip,
  sortedUnique,
} from './context';
import type { EveryCopy, FieldSources, NormaliseContext, ReadRow } from './context';
import type { References } from './references';

/** Roster contact (person) fields ← Contacts table fields; links and contact ids merge over records. */
export const CONTACT_SOURCES = {
  personId: ['personId'],
  title: ['title'],
  forename: ['forename'],
  middleNames: ['middleNames'],
  surname: ['surname'],
  relationship: ['relationship'],
  emails: ['emailAddress', 'emailAddresses'],
  telephone: ['telephone'],
  mobile: ['mobile'],
  profession: ['profession'],
  address: [
    'address',
    'address.lines',
    'address.town',
    'address.county',
    'address.postcode',
    'address.country',
  ],
  mailMergeAll: ['mailMergeAll'],
  correspondenceMailMerge: ['correspondenceMailMerge'],
  isFirstPersonContact: ['isFirstPersonContact'],
  pupils: ['pupils', 'pupils.id', 'pupils.status', 'relationship'],
} as const satisfies FieldSources<'contacts'>;

/**
 * Read from every copy of a repeated contact: a join sends a parent once per child. Each link
 * carries the relationship of the copy it comes from.
 */
export const CONTACT_EVERY_COPY = {
  pupils: CONTACT_SOURCES.pupils,
} as const satisfies EveryCopy<'contacts'>;

type Link = { [key: string]: JsonValue };

/**
 * The key of the person a contact row describes: `PersonId`, else `c<ContactId>-<1|2>` by
 * first/second person — undefined when that cannot be read (the row cannot be matched then).
 */
function personKeyOf(row: ReadRow<'contacts'>): string | undefined {
  const c = row.value;
  if (c.personId !== undefined) return c.personId;
  if (row.unreadable.has('isFirstPersonContact')) return undefined;
  return `c${c.id}-${c.isFirstPersonContact === false ? 2 : 1}`;
}

/** A row that says neither who it is (`PersonId`) nor which person of its record (`IsFirstPersonContact`). */
const unflagged = (r: ReadRow<'contacts'>): boolean =>
  r.value.personId === undefined && r.value.isFirstPersonContact === undefined;

/**
 * Rows of one contact record that carry neither `PersonId` nor the first/second flag, when the record
 * has two of them that differ: a joint record's two people (reference §2.2.3), and nothing tells which
 * is the first. Neither can be matched to a stored person — taking the second for a duplicate of the
 * first dropped that person, and removed them when the store had them from a run with the flag — so
 * both are counted unidentified (no contact is removed this run) with a finding.
 */
function untoldJointRows(ctx: NormaliseContext, rows: ReadRow<'contacts'>[]): ReadRow<'contacts'>[] {
  const byRecord = new Map<string, ReadRow<'contacts'>[]>();
  for (const r of rows) if (unflagged(r)) byRecord.set(r.value.id, [...(byRecord.get(r.value.id) ?? []), r]);
  const untold = new Set<ReadRow<'contacts'>>();
  for (const [id, list] of byRecord) {
    const first = JSON.stringify(list[0]!.value);
    const distinct = list.filter((r, i) => i === 0 || JSON.stringify(r.value) !== first);
    if (distinct.length < 2) continue;
    for (const r of list) untold.add(r);
    ctx.unidentified.set('contacts', (ctx.unidentified.get('contacts') ?? 0) + list.length);
    addFinding(ctx, {
      code: F.CONTACT_WITHOUT_PERSON_ID,
      severity: 'warning',
      datasetId: 'contacts',
      recordId: id,
      message: `Contact ${id} has ${list.length} rows without PersonId or IsFirstPersonContact that differ: its people cannot be told apart, so none of them is matched and no contact is removed in this run.`,
    });
  }
  // The repeats of a row (identical) are the read's duplicates, as before.
  return rows.filter((r) => !untold.has(r));
}

/** A row's position in its record — 1 first person, 2 second — or undefined when it cannot be read or is not sent. */
function positionOf(row: ReadRow<'contacts'>): 1 | 2 | undefined {
  const first = row.value.isFirstPersonContact;
  if (row.unreadable.has('isFirstPersonContact') || first === undefined) return undefined;
  return first ? 1 : 2;
}

const positionName = (row: ReadRow<'contacts'>): string =>
  ({ 1: 'first person', 2: 'second person', none: 'person' })[positionOf(row) ?? 'none'];

/** A key `c<ContactId>-<1|2>`: a person stored without PersonId (its record and position are in the key). */
const RECORD_KEY = /^c.+-[12]$/;

/** What a stored contact says about the rows it was made from: its record, and its position there if known. */
interface StoredClaim {
  key: string;
  position: 1 | 2 | undefined;
  /** The `PersonId` its image holds (a contact kept under `c<Id>-<n>` after iSAMS began sending one). */
  personId: string | undefined;
}

/**
 * The stored contacts by contact record id: each with its position in the record — unknown for a
 * person merged from several records, whose image holds one `isFirstPersonContact` for all of them.
 */
function storedClaims(stored: ReadonlyMap<string, RosterEntity>): Map<string, StoredClaim[]> {
  const out = new Map<string, StoredClaim[]>();
  for (const image of stored.values()) {
    const records = Array.isArray(image.contactIds) ? image.contactIds.map(String) : [];
    const position = records.length === 1 ? (image.isFirstPersonContact === false ? 2 : 1) : undefined;
    const personId = typeof image.personId === 'string' ? image.personId : undefined;
    for (const r of records) out.set(r, [...(out.get(r) ?? []), { key: image.id, position, personId }]);
  }
  return out;
}

/**
 * The stored contacts kept under `c<Id>-<n>` whose image holds a `PersonId` (iSAMS began sending it
 * after the person was stored), by that `PersonId`.
 */
function keptByPersonId(stored: ReadonlyMap<string, RosterEntity>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, image] of stored)
    if (RECORD_KEY.test(key) && typeof image.personId === 'string')
      out.set(image.personId, [...(out.get(image.personId) ?? []), key]);
  return out;
}

/** Who claims a stored key: one person (all the rows of a `PersonId`), or one row without a `PersonId`. */
type Claimant = string | ReadRow<'contacts'>;

/** Where a row whose key is not stored goes: a stored key, undecided (`ambiguous`), or its own key (absent). */
type Settled = { key: string } | 'ambiguous';

/**
 * The key of each row: the one it is read under (`PersonId`, else `c<ContactId>-<1|2>`), or — when
 * that key is not stored and iSAMS started or stopped sending the row's `PersonId` — the key of the
 * stored contact that is the same person, so that a changed key does not remove the person (and
 * cancel their bookings) and add them again. A row whose key is not stored is decided, in order:
 * 1. by its own record: the one stored contact of the row's record and position (not merged from
 *    several records, holding no other `PersonId`, not read under its key by another row);
 * 2. by its `PersonId`: the one stored contact kept under `c<Id>-<n>` that holds it (several: the one
 *    of the row's record) — also when a row of its record without the `PersonId` reads it, the same
 *    person sent with and without it;
 * 3. by the other rows of its `PersonId`: the one stored key they were decided to (a parent whose
 *    `PersonId` appears while a new record links them to another child).
 * A person whose rows go to different stored contacts keeps them all (one `PersonId` on two contacts,
 * as the stored roster had that parent): merging them would remove one. Where the stored roster cannot
 * tell — several stored contacts could be the row's person, one merged from several records whose
 * position in each is not stored, the row's position unknown, two people taking one stored contact —
 * the person's rows are not imported and counted unidentified: no contact is removed in this run. A
 * `PersonId` changed from one value to another is not matched (a new person; the stored one is gone).
 * Stored images are read only when a row's key is new and a stored contact could be it: a stored
 * `c<Id>-<n>` for its record, any stored `c<Id>-<n>` (for a row with a `PersonId`: one may have been
 * kept for it), or a stored contact keyed by `PersonId` (for a row without one).
 */
function storedKeys(ctx: NormaliseContext, rows: ReadRow<'contacts'>[]): Map<ReadRow<'contacts'>, string> {
  const keys = new Map(rows.map((r) => [r, personKeyOf(r)!]));
  const stored = ctx.snapshot.fallback?.contact;
  if (stored === undefined) return keys;
  const readAs = new Set(keys.values());
  const storedKeysList = [...stored.keys()];
  const storedWithPersonId = storedKeysList.some((k) => !RECORD_KEY.test(k));
  const storedByRecord = storedKeysList.some((k) => RECORD_KEY.test(k));
  let claims: Map<string, StoredClaim[]> | undefined;
  let kept: Map<string, string[]> | undefined;
  const claimantOf = (row: ReadRow<'contacts'>): Claimant => row.value.personId ?? row;
  const settled = new Map<ReadRow<'contacts'>, Settled>();
  const open: ReadRow<'contacts'>[] = [];
  for (const row of rows) {
    const key = keys.get(row)!;
    if (stored.has(key)) continue;
    const { id, personId } = row.value;
    const position = positionOf(row);
    const byKey = ([1, 2] as const)
      .filter((p) => position === undefined || p === position)
      .some((p) => stored.has(`c${id}-${p}`));
    const mayBeKept = personId !== undefined && storedByRecord;
    if (!byKey && !mayBeKept && (personId !== undefined || !storedWithPersonId)) continue;
    claims ??= storedClaims(stored);
    // 1. Its own record and position.
    const candidates = (claims.get(id) ?? []).filter(
      (s) =>
        !readAs.has(s.key) && (position === undefined || s.position === undefined || s.position === position),
    );
    // One that holds another PersonId is someone else (a changed PersonId is a new person), but it
    // still makes the row's match uncertain when there are others.
    const same = candidates.filter(
      (s) => personId === undefined || s.personId === undefined || s.personId === personId,
    );
    if (
      candidates.length === 1 &&
      same.length === 1 &&
      position !== undefined &&
      same[0]!.position === position
    ) {
      settled.set(row, { key: same[0]!.key });
      continue;
    }
    // 2. Its PersonId, held by a contact kept under c<Id>-<n>.
    if (personId !== undefined && storedByRecord) {
      kept ??= keptByPersonId(stored);
      const holders = (kept.get(personId) ?? []).filter((k) => {
        const records = (claims!.get(id) ?? []).some((s) => s.key === k);
        return !readAs.has(k) || records;
      });
      const ofRecord = holders.filter((k) => (claims!.get(id) ?? []).some((s) => s.key === k));
      const pick = holders.length > 1 ? ofRecord : holders;
      if (pick.length === 1 && (same.length === 0 || same.some((s) => s.key === pick[0]))) {
        settled.set(row, { key: pick[0]! });
        continue;
      }
      if (pick.length > 1 || (pick.length === 1 && same.length > 0)) {
        settled.set(row, 'ambiguous');
        continue;
      }
    }
    if (same.length > 0) settled.set(row, 'ambiguous');
    else open.push(row);
  }
  // 3. The other rows of its PersonId.
  const decidedOf = new Map<string, Set<string>>();
  for (const [r, d] of settled)
    if (r.value.personId !== undefined && d !== 'ambiguous')
      decidedOf.set(r.value.personId, (decidedOf.get(r.value.personId) ?? new Set()).add(d.key));
  for (const row of open) {
    const siblings = row.value.personId === undefined ? undefined : decidedOf.get(row.value.personId);
    if (siblings?.size === 1) settled.set(row, { key: [...siblings][0]! });
  }
  // A person with an undecided row is undecided: a new key for their other rows would leave the
  // stored contact of the undecided one unread, and remove it in the next run.
  const undecided = new Set<Claimant>();
  for (const [r, d] of settled) if (d === 'ambiguous') undecided.add(claimantOf(r));
  // Two people (or rows without a PersonId) taking one stored contact: neither is decided.
  const takers = new Map<string, Set<Claimant>>();
  for (const [r, d] of settled)
    if (d !== 'ambiguous') takers.set(d.key, (takers.get(d.key) ?? new Set()).add(claimantOf(r)));
  for (const who of takers.values()) if (who.size > 1) for (const c of who) undecided.add(c);
  for (const row of rows) {
    const c = claimantOf(row);
    const d = settled.get(row);
    if (!undecided.has(c)) {
      if (d !== undefined && d !== 'ambiguous') keys.set(row, d.key);
      continue;
    }
    keys.delete(row);
    ctx.unidentified.set('contacts', (ctx.unidentified.get('contacts') ?? 0) + 1);
    skip(ctx, 'contact');
    const { id } = row.value;
    addFinding(ctx, {
      code: F.CONTACT_KEY_AMBIGUOUS,
      severity: 'warning',
      datasetId: 'contacts',
      recordId: id,
      message:
        `Contact ${id} (${positionName(row)}) is not stored as ${personKeyOf(row)!} (iSAMS started or stopped sending ` +
        `a PersonId?) and the stored roster cannot tell which stored contact is this person: it is not imported ` +
        `and no contact is removed in this run. Have iSAMS send the contact's PersonId as before (or for every ` +
        `row of the record).`,
    });
  }
  return keys;
}

/** Contacts: one entity per person; joint records (two people, one Id) are split, a person's records merged. */
export function normaliseContacts(ctx: NormaliseContext, refs: References): void {
  // Unflagged rows get a key of their own here (their order), so that two people of one record are
  // both read and judged together (untoldJointRows) instead of the second being dropped as a duplicate.
  let order = 0;
  const read = readDataset(ctx, 'contacts', (r) => {
    const person = personKeyOf(r);
    if (person === undefined) return undefined;
    if (person.length > ID_MAX_CHARS) {
      addFinding(ctx, {
        code: F.CONTACT_KEY_TOO_LONG,
        severity: 'warning',
        datasetId: 'contacts',
        recordId: r.value.id.slice(0, 40),
        message: `Contact ${r.value.id.slice(0, 40)}… has no PersonId, and its Id is too long to key the person by (${person.length} characters, at most ${ID_MAX_CHARS}): it is not imported and no contact is removed in this run.`,
      });
      return undefined;
    }
    return unflagged(r)
      ? `${r.value.id}/?${order++}`
      : `${r.value.id}/${r.value.personId ?? person.slice(-1)}`;
  });
  const rows = dropRepeats(ctx, untoldJointRows(ctx, read));
  const keys = storedKeys(ctx, rows);
  for (const row of rows) {
    const c = row.value;
    const personKey = keys.get(row);
    if (personKey === undefined) continue;
    if (personKey !== personKeyOf(row)) {
      addFinding(ctx, {
        code: F.CONTACT_KEY_KEPT,
        severity: 'info',
        datasetId: 'contacts',
        recordId: c.id,
        message:
          c.personId === undefined
            ? `Contact ${c.id} (${positionName(row)}) has no PersonId in this run; the stored roster has this record's ${positionName(row)} as contact ${personKey}, so it keeps that key and is updated in place (not removed and added again as ${personKeyOf(row)!}).`
            : `Contact ${c.id} (${positionName(row)}) has a PersonId in this run; the stored roster has this record's ${positionName(row)} without one, as contact ${personKey}, so it keeps that key and is updated in place (not removed and added again under its PersonId).`,
      });
    } else if (c.personId === undefined) {
      addFinding(ctx, {
        code: F.CONTACT_WITHOUT_PERSON_ID,
        severity: 'info',
        datasetId: 'contacts',
        recordId: c.id,
        message: `Contact ${c.id} has no PersonId; the person is keyed as ${personKey}.`,
      });
    }
    const dangling = new Set<string>();
    const links = everyCopyItems(
      copiesOf(row).map((copy) =>
        copy.pupils.map((l): Link => {
          if (
            refs.pupilIds !== undefined &&
            !refs.pupilIds.has(l.id) &&
            (l.status ?? 'Current').toLowerCase() === 'current' &&
            !dangling.has(l.id)
          ) {
            dangling.add(l.id);
            addFinding(ctx, {
              code: F.DANGLING_REFERENCE,
              datasetId: 'contacts',
              recordId: c.id,
              field: 'Pupils/Pupil/@Id',
              ref: l.id,
              message: `Contact ${c.id}: linked pupil ${l.id} is marked Current but is not a current pupil.`,
            });
          }
          return compact({
            pupilId: l.id,
            status: l.status,
            relationship: copy.relationship,
            contactId: c.id,
          });
        }),
      ),
      (l) => String(l.pupilId),
    );
    keepUnreadable(ctx, 'contact', personKey, row, CONTACT_SOURCES, CONTACT_EVERY_COPY);
    keepStored(
      ctx,
      'contact',
      personKey,
      links.conflicting.map((id) => itemField('pupils', 'pupilId', id)),
    );
    mergePerson(ctx, personKey, row, links.items);
  }
  for (const c of ctx.entities.contact.values())
    (c.pupils as Link[]).sort((a, b) => compareIds(String(a.pupilId), String(b.pupilId)));
  retainSent(ctx, rows);
}

/**
 * Stored contacts that no row of this run is read under, but whose person is still sent under
 * another key, are not removed (`ctx.retained`): one kept as `c<Id>-<n>` whose record still sends
 * that position, one keyed by a `PersonId` that a row still carries. That happens when iSAMS sends a
 * `PersonId` for a parent it had sent without one in another record (the parent was two contacts
 * and the rows now all read as one): a removal would cancel the bookings made under the other key
 * while the parent is still at the school. The contact stays as stored; when the parent's records
 * all go, it is removed. A `c<Id>-<n>` is retained only for a row at its place with the stored
 * name and no other `PersonId` than the one it holds (a changed `PersonId` is a new person; the
 * second person moved up or a parent replaced is another person). Read from the keys, and a stored
 * image only for a place sent under another key.
 */
function retainSent(ctx: NormaliseContext, rows: readonly ReadRow<'contacts'>[]): void {
  const stored = ctx.snapshot.fallback?.contact;
  if (stored === undefined) return;
  // Most runs leave no stored contact unread but the people who left: only those are looked at.
  const unread = [...stored.keys()].filter((k) => !ctx.entities.contact.has(k));
  if (unread.length === 0) return;
  /** Per place (`c<Id>-<n>`) sent: the rows there. */
  const places = new Map<string, ReadRow<'contacts'>[]>();
  const sentPersons = new Set<string>();
  for (const r of rows) {
    const position = positionOf(r);
    for (const p of position === undefined ? [1, 2] : [position]) {
      const place = `c${r.value.id}-${p}`;
      places.set(place, [...(places.get(place) ?? []), r]);
    }
    if (r.value.personId !== undefined) sentPersons.add(r.value.personId);
  }
  /**
   * A stored `c<Id>-<n>` whose place is sent by the same person: a row there with the stored name
   * (forename and surname, case and spacing aside; a name missing on either side does not tell them
   * apart) that carries no other PersonId than the one it holds. Another person in that place (the
   * second person moved up, a parent replaced) does not keep it. Only now is the stored image read
   * (rare: a place sent under another key).
   */
  const placeSent = (key: string): boolean => {
    const there = places.get(key);
    if (there === undefined) return false;
    const image = stored.get(key);
    if (image === undefined) return false;
    const held = typeof image.personId === 'string' ? image.personId : undefined;
    return there.some(
      (r) =>
        (r.value.personId === undefined || held === undefined || r.value.personId === held) &&
        sameName(image, r),
    );
  };
  for (const key of unread) {
    if (!(RECORD_KEY.test(key) ? placeSent(key) : sentPersons.has(key))) continue;
    const kept = ctx.retained.get('contact') ?? new Set<string>();
    ctx.retained.set('contact', kept.add(key));
    addFinding(ctx, {
      code: F.CONTACT_RETAINED,
      severity: 'info',
      datasetId: 'contacts',
      message: RECORD_KEY.test(key)
        ? `Contact ${key} is not read under its key in this run, but its record still sends that person (now under another key, iSAMS having started to send a PersonId?): it is not removed and stays as stored.`
        : `Contact ${key} is not read under its key in this run, but a row still carries that PersonId under another key: it is not removed and stays as stored.`,
    });
  }
}

const nameOf = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim().replace(/\s+/g, ' ').toLowerCase() : undefined;

/** Whether a stored contact and a row may be the same person by name: no part that both have differs. */
function sameName(image: RosterEntity, row: ReadRow<'contacts'>): boolean {
  for (const part of ['forename', 'surname'] as const) {
    const was = nameOf(image[part]);
    const now = nameOf(row.value[part]);
    if (was !== undefined && now !== undefined && was !== now) return false;
  }
  return true;
}

/** Adds the person of one contact row, or merges the row's links into the person seen before. */
function mergePerson(
  ctx: NormaliseContext,
  personKey: string,
  row: ReadRow<'contacts'>,
  links: Link[],
): void {
  const c = row.value;
  const personal = entity({
    id: personKey,
    personId: c.personId,
    title: c.title,
    forename: c.forename,
    middleNames: c.middleNames,
    surname: c.surname,
    relationship: c.relationship,
    emails: c.emailAddresses,
    telephone: c.telephone,
    mobile: c.mobile,
    profession: c.profession,
    address: compact({
      lines: c.address.lines,
      town: c.address.town,
      county: c.address.county,
      postcode: c.address.postcode,
      country: c.address.country,
    }),
    mailMergeAll: c.mailMergeAll,
    correspondenceMailMerge: c.correspondenceMailMerge,
  });
  const existing = ctx.entities.contact.get(personKey);
  if (existing === undefined) {
    ctx.entities.contact.set(personKey, {
      ...personal,
      contactIds: [c.id],
      isFirstPersonContact: c.isFirstPersonContact ?? true,
      pupils: links,
    });
    return;
  }
  if (!['title', 'forename', 'surname'].every((k) => existing[k] === personal[k])) {
    addFinding(ctx, {
      code: F.CONTACT_CONFLICT,
      datasetId: 'contacts',
      recordId: c.id,
      message: `Contact person ${personKey} appears in several contact records with different names; the first is kept.`,
    });
  }
  existing.contactIds = sortedUnique([...(existing.contactIds as string[]), c.id]);
  const merged = new Map((existing.pupils as Link[]).map((l) => [String(l.pupilId), l]));
  for (const l of links) if (!merged.has(String(l.pupilId))) merged.set(String(l.pupilId), l);
  existing.pupils = [...merged.values()].sort((a, b) => compareIds(String(a.pupilId), String(b.pupilId)));
}

/** An unflagged row repeated identically: the first is kept, the others are the read's duplicates. */
function dropRepeats(ctx: NormaliseContext, rows: ReadRow<'contacts'>[]): ReadRow<'contacts'>[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    if (!unflagged(r)) return true;
    if (!seen.has(r.value.id)) {
      seen.add(r.value.id);
      return true;
    }
    addFinding(ctx, {
      code: F.DUPLICATE_RECORD,
      datasetId: 'contacts',
      recordId: `${r.value.id}/1`,
      message: `Contact ${r.value.id}/1 appears more than once; the first is kept.`,
    });
    return false;
  });
}
