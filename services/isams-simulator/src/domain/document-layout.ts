import { DATASETS } from './isams-lib';
import type { DatasetId, RawElement } from './isams-lib';

/** One dataset container in the served document. */
export interface LayoutContainer {
  dataset: DatasetId;
  container: string;
  rows: readonly RawElement[];
}

/** One module element (`HRManager`, …) with its containers, in output order. */
export interface LayoutModule {
  module: string;
  containers: LayoutContainer[];
}

/**
 * Arranges the selected datasets into modules. Modules appear in the order of their first dataset in
 * `datasetOrder`, containers in that order too: iSAMS output order is not stable (reference §2.1),
 * so each simulated school uses its own (seeded) order and clients must not rely on it.
 */
export function layoutDocument(
  rows: Readonly<Record<DatasetId, readonly RawElement[]>>,
  selected: ReadonlySet<DatasetId>,
  datasetOrder: readonly DatasetId[],
): LayoutModule[] {
  const modules: LayoutModule[] = [];
  for (const dataset of datasetOrder) {
    if (!selected.has(dataset)) continue;
    const d = DATASETS[dataset];
    let m = modules.find((x) => x.module === d.module);
    if (!m) {
      m = { module: d.module, containers: [] };
      modules.push(m);
    }
    m.containers.push({ dataset, container: d.container, rows: rows[dataset] });
  }
  return modules;
}
