import { itemField } from '../keep-stored';
import { ROSTER_FINDING_CODES as F } from '../roster-model';
import type { JsonValue } from '../roster-model';
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

/** Contacts: one entity per person; joint records (two people, one Id) are split, a person's records merged. */
export function normaliseContacts(ctx: NormaliseContext, refs: References): void {
  // Unflagged rows get a key of their own here (their order), so that two people of one record are
  // both read and judged together (untoldJointRows) instead of the second being dropped as a duplicate.
  let order = 0;
  const read = readDataset(ctx, 'contacts', (r) => {
    const person = personKeyOf(r);
    if (person === undefined) return undefined;
    return unflagged(r)
      ? `${r.value.id}/?${order++}`
      : `${r.value.id}/${r.value.personId ?? person.slice(-1)}`;
  });
  const rows = dropRepeats(ctx, untoldJointRows(ctx, read));
  for (const row of rows) {
    const c = row.value;
    const personKey = personKeyOf(row)!;
    if (c.personId === undefined) {
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
