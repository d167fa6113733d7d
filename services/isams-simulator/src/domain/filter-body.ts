import { readXml } from './xml-reader';

/** A parsed `<Filters>` POST body (reference §1.2). */
export interface BatchFilters {
  /** Method names from `<MethodsToRun>`, as sent; undefined when the body has no MethodsToRun. */
  methodsToRun?: string[];
  /**
   * Lower-cased names of the per-module filter nodes that set at least one filter (an attribute),
   * e.g. `custompupilgroupmembershipfiltered` for
   * `<StudentManager><CustomPupilGroupMembershipFiltered SystemStatusesToInclude="0,1"/>`.
   */
  filterNodes?: string[];
}

/** Thrown for a POST body that is not XML; iSAMS answers it with an UnhandledException 500. */
export class MalformedFilterBodyError extends Error {
  readonly code = 'SIM_MALFORMED_FILTER_BODY';
}

/**
 * Parses a filter body. Empty body = no filters.
 * ASSUMED ([U] in reference §1.2): a leading BOM is tolerated, and per-module filter nodes are
 * accepted under any module name (`StudentManager` or `PupilManager`…) and only noted: the
 * simulator applies none, it only refuses a method that requires one when none was sent.
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
  const isMethods = (name: string) => name.toLowerCase() === 'methodstorun';
  const methodsNode = root.children.find((c) => isMethods(c.name));
  const filterNodes = root.children
    .filter((module) => !isMethods(module.name))
    .flatMap((module) => module.children)
    .filter((node) => Object.keys(node.attributes).length > 0)
    .map((node) => node.name.toLowerCase());
  return {
    ...(methodsNode
      ? {
          methodsToRun: methodsNode.children
            .filter((c) => c.name.toLowerCase() === 'method')
            .map((c) => (c.text ?? '').trim())
            .filter((m) => m !== ''),
        }
      : {}),
    ...(filterNodes.length > 0 ? { filterNodes } : {}),
  };
}
