import { describe, expect, it } from 'vitest';
import { collect, errorOf } from './helpers';

// Text where a dataset's rows belong. SQL Server's FOR XML never writes any; when it is there, a row
// may have been mangled into text (an escaped `&lt;Pupil …&gt;`), and a dataset read without it
// would look complete: its missing row would be removed. So it is refused, naming where it was.

const pupils = (inside: string) =>
  `<iSAMS><PupilManager><CurrentPupils>${inside}</CurrentPupils></PupilManager></iSAMS>`;
const ROW = '<Pupil Id="710"><Forename>Ada</Forename></Pupil>';

describe('XML: text directly inside a dataset container', () => {
  it.each([
    ['before a row', pupils(`junk${ROW}`)],
    ['between rows', pupils(`${ROW}\n  Pupil Id="711"&gt;…\n${ROW.replace('710', '712')}`)],
    ['a row escaped into text', pupils(`&lt;Pupil Id="711"&gt;&lt;/Pupil&gt;${ROW}`)],
    ['as CDATA', pupils(`${ROW}<![CDATA[<Pupil Id="711"/>]]>`)],
    ['alone', pupils('junk')],
  ])('%s: refused, the path named, no text quoted, no end', async (_case, doc) => {
    const err = await errorOf(collect(doc));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(err.message).toContain('PupilManager/CurrentPupils');
    expect(err.message).not.toMatch(/junk|711/);
    expect(err.details).toMatchObject({ path: 'PupilManager/CurrentPupils' });
    expect(typeof (err.details as { position?: unknown }).position).toBe('number');
  });

  it('the same in a JSON container: "#text" beside the rows, or text as the whole container', async () => {
    for (const doc of [
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":"junk","Pupil":{"@Id":"710"}}}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":"junk"}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":["junk",{"Pupil":{"@Id":"710"}}]}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":12}}}',
      // Json.NET writes several text nodes of one element as a list (review s51: these read as a
      // complete dataset): text split by a row, CDATA pieces, and an object where text belongs.
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":["junk","x"],"Pupil":[{"@Id":"710"},{"@Id":"712"}]}}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#cdata-section":["junk","x"],"Pupil":{"@Id":"710"}}}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":["  ","junk"],"Pupil":{"@Id":"710"}}}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":{"x":"junk"},"Pupil":{"@Id":"710"}}}}}',
      '{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":[["junk"]],"Pupil":{"@Id":"710"}}}}}',
    ]) {
      const err = await errorOf(collect(doc, 'json'));
      expect(err.code, doc).toBe('ISAMS_MALFORMED_DOCUMENT');
      expect(err.message, doc).toContain('PupilManager/CurrentPupils');
      expect(err.message, doc).not.toContain('junk');
    }
  });

  it('white space, comments and processing instructions there are fine, and so are empty containers', async () => {
    for (const [doc, format] of [
      [pupils(`\n  ${ROW}\r\n\t<!-- a comment -->${ROW.replace('710', '711')}<?pi x?>\n`), 'xml'],
      [pupils(`&#x20;${ROW}`), 'xml'],
      ['{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":"  ","Pupil":{"@Id":"710"}}}}}', 'json'],
      ['{"iSAMS":{"PupilManager":{"CurrentPupils":[null,"",{"Pupil":{"@Id":"711"}}]}}}', 'json'],
      ['{"iSAMS":{"PupilManager":{"CurrentPupils":{"#text":["  ","\\n"],"Pupil":{"@Id":"710"}}}}}', 'json'],
    ] as const) {
      const events = await collect(doc, format);
      expect(events.at(-1)?.type, doc).toBe('end');
    }
  });

  it('text in the root, a module or an unknown container can hide no row: ignored, the document read', async () => {
    const doc = `<iSAMS>junk<PupilManager>junk<CurrentPupils>${ROW}</CurrentPupils><Siblings>junk</Siblings></PupilManager></iSAMS>`;
    const events = await collect(doc);
    expect(events.filter((e) => e.type === 'record')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'end', unknownContainers: ['PupilManager/Siblings'] });
  });
});
