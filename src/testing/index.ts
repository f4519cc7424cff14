/**
 * `airflow-secrets/testing`: what users' test suites import to mock secret sources — an in-memory
 * backend (seeded from objects or Airflow-format fixtures), call recording, fault injection, a
 * helper that installs a test resolver as the default, and the backend conformance suite.
 */
export {
  type MemoryBackend,
  type MemoryBackendOptions,
  type MemoryConnectionValue,
  memory,
  memoryBackend,
} from '../backends/memory.js';
export * from './conformance.js';
export * from './default-resolver.js';
export * from './faults.js';
export * from './fixtures.js';
export * from './record.js';
