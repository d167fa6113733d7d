/**
 * `@isams-sync/runtime` — the process lifecycle shared by every service's `main.ts`.
 * @packageDocumentation
 */
export { runService } from './run-service';
export type { RunServiceOptions } from './run-service';
export { stopInOrder } from './stop-in-order';
export type { StopStep } from './stop-in-order';
