/**
 * CONTRACT STUB — being implemented (Airflow's Connection model, spec §8). The exported names and
 * signatures below are fixed; bodies will be replaced.
 */

/** Fields accepted by the constructor (Airflow's `Connection(...)` kwargs, camel-free as in the SDK). */
export interface ConnectionFields {
  id?: string | null;
  type?: string | null;
  description?: string | null;
  host?: string | null;
  login?: string | null;
  password?: string | null;
  schema?: string | null;
  port?: number | null;
  /** JSON text of an object, or an object (serialised like Python's json.dumps). */
  extra?: string | Record<string, unknown> | null;
  /** A connection URI; mixing it with any truthy field is an error, as in Airflow. */
  uri?: string | null;
}

export class Connection {
  id: string | null = null;
  type: string | null = null;
  description: string | null = null;
  host: string | null = null;
  login: string | null = null;
  password: string | null = null;
  schema: string | null = null;
  port: number | null = null;
  extra: string | null = null;

  constructor(_fields: ConnectionFields = {}) {
    throw new Error('Connection: implementation pending');
  }

  get extraDejson(): Record<string, unknown> {
    return {};
  }

  getUri(): string {
    return '';
  }

  asJson(): string {
    return '';
  }

  static fromUri(uri: string, id?: string): Connection {
    return new Connection({ uri, id: id ?? null });
  }

  static fromJson(json: string, id?: string): Connection {
    return new Connection({ uri: json, id: id ?? null });
  }
}

/**
 * Airflow's `BaseSecretsBackend.deserialize_connection`: strip; a value starting with `{` is JSON
 * (`fromJson`), anything else a URI. Errors are `InvalidConnectionError` naming the id, never the value.
 */
export function deserializeConnection(connId: string, value: string): Connection {
  const v = value.trim();
  return v.startsWith('{') ? Connection.fromJson(v, connId) : Connection.fromUri(v, connId);
}
