import { describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import { ids } from '../src/use-cases/records';
import { longIds } from './support/long-ids';
import { form, year } from './support/raw';
import { ofSchoolRun, runFinished } from './support/harness';
import { useStartedRoster } from './support/started-roster';

const roster = useStartedRoster();

/**
 * A school whose forms' manifest chunk is larger than a document may be (docs/roster-model.md › The
 * stored roster): 40,000 forms whose names — their ids, any text the parser admits — are 200
 * incompressible characters, all in manifest chunk 0 (~19 MB packed).
 */
describe('a school whose manifest chunk passes 16 MiB', { timeout: 600_000 }, () => {
  it('is applied whole, its manifest read back, and its resync changes nothing', async () => {
    const t = uniqueName('school');
    const names = longIds(40_000, 0, 7);
    const school = { yearGroups: [year('9', 'Year 9')], schoolForms: names.map((n) => form(n, '9')) };
    const finished = async (runId: string) => {
      try {
        return await runFinished(roster.app, t, runId, 'sync', 240_000);
      } catch (err) {
        // What a school stuck here looks like: the changeset's state, what it wrote and published.
        const cs = await roster.app.store.getChangeset(t, ids.changeset(t, runId, 'sync'));
        const written = (await roster.app.store.listEntityDocs(t, 'form')).length;
        const published = roster.h.events.state.filter(ofSchoolRun(t, runId)).length;
        throw new Error(
          `${(err as Error).message}: changeset ${cs?.state}, ${written} form documents written, ${published} state records published`,
        );
      }
    };

    await roster.publish(t, 'first', school, { fetchSequence: 1 });
    const first = await finished('first');
    expect(first).toMatchObject({ state: 'done', outcome: 'applied' });
    const manifest = await roster.app.store.loadManifest(t);
    expect(manifest.form?.size).toBe(names.length);
    expect((await roster.app.store.listEntityDocs(t, 'form')).length).toBe(names.length);

    roster.app.memory.images.forget(t);
    await roster.publish(t, 'again', school, { fetchSequence: 2 });
    expect(await finished('again')).toMatchObject({ state: 'done', outcome: 'applied', changeCount: 0 });
  });
});
