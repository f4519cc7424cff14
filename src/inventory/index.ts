/**
 * Inventory and migration: what every source of a chain holds (`listChain`, behind
 * `resolver.list`), and moving connections and variables from one backend into another with
 * Airflow's names and encoding (`migrate`). Both work through the optional `list` / `put`
 * capabilities of the backends and never print a value.
 */
export { afterRoundTrip, type ConnectionField, connectionDifferences } from './compare.js';
export {
  type Inventory,
  type InventoryBackend,
  type InventoryEntry,
  type InventoryOptions,
  listChain,
} from './list.js';
export {
  type MigrateKind,
  type MigrateOptions,
  type MigrateReport,
  type MigrateResult,
  migrate,
  type PlanAction,
  type PlanEntry,
  type WriteResult,
} from './migrate.js';
