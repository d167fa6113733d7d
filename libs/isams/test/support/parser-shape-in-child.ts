/**
 * Run with `node --allow-natives-syntax --import tsx` (xml-reader-shape.test.ts): reads a small
 * document with an {@link XmlReader} and prints whether its saxes parser kept V8's fast properties
 * (`%HasFastProperties`) once every handler the reader sets is set.
 */
import { DocumentSink } from '../../src/parser/document-sink';
import { resolveLimits } from '../../src/parser/limits';
import { XmlReader } from '../../src/parser/xml-reader';

// Natives syntax is only allowed in code parsed at run time (the flag is on for this process).
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
const limits = resolveLimits(undefined);
const reader = new XmlReader(new DocumentSink(true, limits), limits);
reader.write(
  '<iSAMS><PupilManager><CurrentPupils><Pupil Id="1"><Forename>A</Forename></Pupil></CurrentPupils></PupilManager></iSAMS>',
);
reader.end();
const parser = (reader as unknown as { parser: object }).parser;
process.stdout.write(`${JSON.stringify({ fastProperties: hasFastProperties(parser) })}\n`);
