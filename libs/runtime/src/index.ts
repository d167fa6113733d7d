/**
 * `@isams-sync/runtime` — the process lifecycle shared by every service's `main.ts`.
 * @packageDocumentation
 */
export { runService } from './run-service';
export type { RunServiceOptions } from './run-service';
export { runServiceMain } from './run-service-main';
export type { ServiceApp, ServiceMainConfig, ServiceMainOptions } from './run-service-main';
export { stopInOrder } from './stop-in-order';
export type { StopStep } from './stop-in-order';
export { startPeriodic, startRetention } from './periodic';
export type { PeriodicOptions, PeriodicTask, RetentionOptions } from './periodic';
export { forEachConcurrently } from './concurrently';
