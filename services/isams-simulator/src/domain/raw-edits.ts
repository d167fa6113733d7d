import type { DatasetId, RawElement } from './isams-lib';
import { SimErrors } from './simulator-errors';

/**
 * A value written into one served record exactly as given — `<TeachingStaff>Y</TeachingStaff>`, a
 * `<Role>` without `Id`, a date iSAMS cannot have meant — because real iSAMS documents carry such
 * values (reference §2.1 booleans/whitespace, §4 items 5, 16, 18) and the model behind a generated
 * school cannot express them. Edits are a layer over the school's rows: applied in order, each to the
 * record whose `Id` attribute is `recordId` at that point, and kept across model mutations.
 */
export interface RawEdit {
  dataset: DatasetId;
  /** The row's `Id` attribute (as the row carries it when this edit is applied). */
  recordId: string;
  /**
   * Path below the row: element names separated by `/`, each optionally `[n]` (1-based among the
   * siblings of that name), optionally ending in `@Attribute`; e.g. `TeachingStaff`, `@PersonId`,
   * `Roles/Role[2]/@Id`, `Teachers/Teacher/@PrimaryTeacher`.
   */
  path: string;
  /** Text or attribute value written as-is (`""` = empty element); `null` removes the element/attribute. */
  value: string | null;
}

interface Step {
  name: string;
  index: number;
}

const STEP = /^([A-Za-z_][\w.-]*)(?:\[(\d+)\])?$/;
const ATTRIBUTE = /^@([A-Za-z_][\w.-]*)$/;

/** Splits and checks a raw-edit path; a bad path is `SIM_INVALID_REQUEST`. */
export function parseRawPath(path: string): { steps: Step[]; attribute?: string } {
  const parts = path.split('/');
  const last = parts[parts.length - 1] ?? '';
  const attribute = ATTRIBUTE.exec(last)?.[1];
  const stepParts = attribute === undefined ? parts : parts.slice(0, -1);
  const steps = stepParts.map((p) => {
    const m = STEP.exec(p);
    if (!m || (m[2] !== undefined && Number(m[2]) < 1))
      throw SimErrors.SIM_INVALID_REQUEST({ reason: `raw edit path "${path}": bad step "${p}"` });
    return { name: m[1]!, index: m[2] === undefined ? 1 : Number(m[2]) };
  });
  if (steps.length === 0 && attribute === undefined)
    throw SimErrors.SIM_INVALID_REQUEST({ reason: `raw edit path "${path}" names nothing` });
  return attribute === undefined ? { steps } : { steps, attribute };
}

/** The element after applying `value` at `steps`/`attribute` below `el` (a copy; `el` is untouched). */
function editElement(
  el: RawElement,
  steps: readonly Step[],
  attribute: string | undefined,
  value: string | null,
): RawElement {
  if (steps.length === 0) {
    if (attribute !== undefined) {
      const { [attribute]: _old, ...rest } = el.attributes;
      return { ...el, attributes: value === null ? rest : { ...el.attributes, [attribute]: value } };
    }
    return el;
  }
  const [step, ...rest] = steps as [Step, ...Step[]];
  const children = [...el.children];
  const positions = children.flatMap((c, i) => (c.name === step.name ? [i] : []));
  const at = positions[step.index - 1];
  if (at === undefined) {
    if (value === null) return el; // nothing to remove
    if (step.index !== positions.length + 1) return el; // only the next sibling of a name can be created
    children.push(grow({ name: step.name, attributes: {}, children: [] }, rest, attribute, value));
    return { ...el, children };
  }
  const target = children[at]!;
  if (rest.length === 0 && attribute === undefined) {
    if (value === null) children.splice(at, 1);
    else children[at] = leaf(target, value);
  } else children[at] = editElement(target, rest, attribute, value);
  return { ...el, children };
}

function leaf(el: RawElement, value: string): RawElement {
  const { text: _old, ...rest } = el;
  return value === '' ? { ...rest, children: [] } : { ...rest, text: value, children: [] };
}

function grow(
  el: RawElement,
  steps: readonly Step[],
  attribute: string | undefined,
  value: string,
): RawElement {
  if (steps.length === 0)
    return attribute === undefined ? leaf(el, value) : editElement(el, [], attribute, value);
  const [step, ...rest] = steps as [Step, ...Step[]];
  return {
    ...el,
    children: [grow({ name: step.name, attributes: {}, children: [] }, rest, attribute, value)],
  };
}

/** The rows with every edit applied (rows of datasets without edits are returned as they are). */
export function applyRawEdits(
  rows: Record<DatasetId, RawElement[]>,
  edits: readonly RawEdit[],
): Record<DatasetId, RawElement[]> {
  if (edits.length === 0) return rows;
  const out = { ...rows };
  for (const edit of edits) {
    const { steps, attribute } = parseRawPath(edit.path);
    out[edit.dataset] = out[edit.dataset].map((row) =>
      row.attributes.Id === edit.recordId ? editElement(row, steps, attribute, edit.value) : row,
    );
  }
  return out;
}
