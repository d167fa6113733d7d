import { readXml } from './xml-reader';

/** A parsed `<Filters>` POST body (reference §1.2). */
export interface BatchFilters {
  /** Method names from `<MethodsToRun>`, as sent; undefined when the body has no MethodsToRun. */
  methodsToRun?: string[];
}

/** Thrown for a POST body that is not XML; iSAMS answers it with an UnhandledException 500. */
export class MalformedFilterBodyError extends Error {
  readonly code = 'SIM_MALFORMED_FILTER_BODY';
}

/**
 * Parses a filter body. Empty body = no filters.
 * ASSUMED ([U] in reference §1.2): a leading BOM is
 * tolerated, and per-module filter nodes are accepted and ignored (the simulator applies none).
 */
export function parseFilterBody(body: string | undefined): BatchFilters {
  const text = (body ?? '').replace(/^\uFEFF/, '').trim();
  if (text === '') return {};
  let root;
  try {
    root = readXml(text);
  } catch (err) {
    throw new MalformedFilterBodyError('Data at the root level is invalid.', { cause: err });
  }
  const methodsNode = root.children.find((c) => c.name.toLowerCase() === 'methodstorun');
  if (!methodsNode) return {};
  return {
    methodsToRun: methodsNode.children
      .filter((c) => c.name.toLowerCase() === 'method')
      .map((c) => (c.text ?? '').trim())
      .filter((m) => m !== ''),
  };
}
