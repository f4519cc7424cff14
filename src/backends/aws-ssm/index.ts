/**
 * Airflow's `SystemsManagerParameterStoreBackend` (amazon provider): parameters named
 * `/<prefix>/<id>` (a leading `/` is added when missing), read with GetParameter and
 * `WithDecryption: true`. The value is returned as stored (a connection URI or JSON). Only
 * `ParameterNotFound` counts as not found. The SDK is imported on first use; one client is reused.
 * The AWS session (region, credentials, role, retries, TLS) and the SDK error mapping are in
 * `../aws/common.ts`.
 */
import type { AdapterContext, SecretKind, SecretsBackend } from '../../backend.js';
import { consoleLogger, type Logger } from '../../logger.js';
import { kindKwargs } from '../airflow-kwargs.js';
import {
  type AwsCommonOptions,
  type AwsSdkClient,
  awsOptionsFromKwargs,
  batchOrNot,
  lazyAwsClient,
  logNotFound,
  mapAwsError,
  warnUnsupportedKwargs,
} from '../aws/common.js';
import { rawBackend, type SignalSource } from '../base.js';
import { cleanPath, refusal, staysBelow } from '../confine.js';
import {
  activeTeam,
  buildPath,
  kindRules,
  type LookupPatternOptions,
  locateWith,
  type TeamOptions,
  teamNaming,
} from '../naming.js';
import { parameterStoreWrites } from './write.js';

const DRIVER_NAME = 'aws-ssm';
const SDK = '@aws-sdk/client-ssm';
type Sdk = typeof import('@aws-sdk/client-ssm');

export interface AwsSsmOptions extends AwsCommonOptions, LookupPatternOptions, TeamOptions {
  /** Connections prefix; `null` disables connections. Default `/airflow/connections`. */
  connectionsPrefix?: string | null | undefined;
  /** Variables prefix. Default `/airflow/variables`. */
  variablesPrefix?: string | null | undefined;
  /** Config prefix. Default `/airflow/config`. */
  configPrefix?: string | null | undefined;
  /**
   * A ready client (tests, tracing): a `SSMClient` from `@aws-sdk/client-ssm`; the session options are then
   * ignored. Typed by the two methods used, so these declarations need no SDK installed.
   */
  client?: AwsSdkClient | undefined;
  /**
   * Refuse ids that would make a name outside the kind's prefix hierarchy (`.`/`..` segments,
   * `//`): `locate` skips them, saying why. Default `false` (Airflow parity); the CLI turns it on.
   */
  confineIds?: boolean | undefined;
}

export function awsSsm(options: AwsSsmOptions = {}): SecretsBackend {
  const prefix = (p: string | null | undefined, dflt: string) =>
    p === undefined ? dflt : p === null ? null : p.replace(/\/+$/, '');
  const rules = kindRules(
    {
      connection: prefix(options.connectionsPrefix, '/airflow/connections'),
      variable: prefix(options.variablesPrefix, '/airflow/variables'),
      config: prefix(options.configPrefix, '/airflow/config'),
    },
    options,
    'prefix',
    options.logger,
  );
  const logger = options.logger ?? consoleLogger;
  const aws = lazyAwsClient<Sdk>({
    backend: DRIVER_NAME,
    pkg: SDK,
    load: () => import('@aws-sdk/client-ssm'),
    options,
    injected: options.client,
    roleSessionName: 'Airflow_SystemsManagerParameterStoreBackend__connection',
    create: (sdk, config) => new sdk.SSMClient(config),
  });
  const slash = (name: string) => (name.startsWith('/') ? name : `/${name}`);
  const team = activeTeam(options);
  // Airflow 3.2 multi-team: `/<prefix>/<team>--<id>` first (non-empty prefix), `--` ids refused.
  const { locate, candidates } = teamNaming({
    backend: DRIVER_NAME,
    logger,
    sep: TEAM_SEP,
    plain: (kind, id) =>
      locateWith(rules, kind, id, (p) => {
        const name = slash(buildPath(p, id));
        // A hierarchy is meant: `/airflow/connections/../x` is not below `/airflow/connections`.
        if (options.confineIds && (cleanPath(name) !== name.slice(1) || !staysBelow(name, p))) {
          return { skip: refusal(id, p, name) };
        }
        return { name };
      }),
    scoped: (kind, id) => {
      const p = rules[kind].prefix;
      return team && p ? slash(buildPath(p, `${team}${TEAM_SEP}${id}`)) : null;
    },
    refused: (_kind, id) => options.multiTeam === true && id.includes(TEAM_SEP),
  });

  const { getOne, getBatch } = parameterReads(aws, logger);

  const writes = parameterStoreWrites({ send: aws.send, locate, candidates, rules, team });
  const backend = rawBackend({
    name: DRIVER_NAME,
    locate,
    ...(team ? { candidates } : {}),
    fetch: (name, _kind, _id, options) => getOne(name, options),
    // GetParameters, 10 names a call (used by the resolver's prefetch); not with a team.
    ...batchOrNot(team, {
      backend: DRIVER_NAME,
      action: 'GetParameters',
      size: 10,
      logger,
      locate,
      batch: getBatch,
      one: (name, _kind, signal) => getOne(name, signal),
    }),
    close: () => aws.close(),
  });
  return { ...backend, ...writes };
}

/** GetParameter (one name, decrypted) and GetParameters (a chunk); `ParameterNotFound` is not found. */
function parameterReads(aws: ReturnType<typeof lazyAwsClient<Sdk>>, logger: Logger) {
  const getOne = async (name: string, signal?: SignalSource): Promise<string | null> => {
    try {
      const out = await aws.send<{ Parameter?: { Value?: string } }>(
        name,
        (sdk) => new sdk.GetParameterCommand({ Name: name, WithDecryption: true }),
        signal,
      );
      return out.Parameter?.Value ?? null;
    } catch (e) {
      if ((e as Error)?.name === 'ParameterNotFound')
        return logNotFound(logger, DRIVER_NAME, name, 'ParameterNotFound');
      throw mapAwsError(DRIVER_NAME, name, e);
    }
  };
  const getBatch = async (
    chunk: string[],
    _kind: SecretKind,
    signal?: AbortSignal,
  ): Promise<Map<string, string | null>> => {
    const out = await aws.send<{ Parameters?: { Name?: string; Value?: string }[] }>(
      chunk[0]!,
      (sdk) => new sdk.GetParametersCommand({ Names: chunk, WithDecryption: true }),
      signal,
    );
    // Unknown names come back in InvalidParameters: they stay "not found".
    return new Map(
      (out.Parameters ?? []).flatMap((p) => (p.Name && p.Value !== undefined ? [[p.Name, p.Value]] : [])),
    );
  };
  return { getOne, getBatch };
}

/** Between the team and the id in a team-scoped name (Airflow 3.2's `TEAM_SEP`). */
const TEAM_SEP = '--';

/** The kwargs of `SystemsManagerParameterStoreBackend` itself (the AWS session kwargs come on top). */
const SSM_KWARGS = new Set(
  ['connections', 'variables', 'config'].flatMap((k) => [`${k}_prefix`, `${k}_lookup_pattern`]),
);

/** `AIRFLOW__SECRETS__BACKEND=airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend`. */
export function fromAirflowKwargs(kw: Record<string, unknown>, context: AdapterContext): SecretsBackend {
  warnUnsupportedKwargs(kw, SSM_KWARGS, context.logger, DRIVER_NAME);
  return awsSsm({
    ...awsOptionsFromKwargs(kw, context, { id: 'ssm', envSuffix: 'SSM' }),
    ...kindKwargs(kw, 'prefix'),
    logger: context.logger,
    team: context.team,
    multiTeam: context.multiTeam,
    ...(context.confineIds ? { confineIds: true } : {}),
  });
}
