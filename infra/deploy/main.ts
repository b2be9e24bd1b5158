import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildFunctions, FUNCTIONS, type FunctionName } from '../build.js';
import { desiredState, sha256, type DeployConfig } from './desired.js';
import { crc64, zipFolder } from './package.js';
import type { CloudProviders } from './cloud.js';
import { formatPlan, keyOf, planChanges, type Described } from './plan.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DeployEnvironment {
  config: DeployConfig;
  /** The API token itself (kept in KMS by the deploy, never printed). */
  apiToken: string;
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  packages: Record<FunctionName, Buffer>;
}

/**
 * Reads the deploy settings from the environment. Without ACCOUNT_ID and keys a dry run still
 * shows the whole desired state, with `<account-id>` where the account belongs.
 */
export function deployConfigFromEnv(
  env: Record<string, string | undefined>,
  codeChecksums: Record<FunctionName, string>,
  apiToken: string,
): DeployConfig {
  const name = env.DEPLOY_NAME ?? 'ecs-backup';
  const region = env.DEPLOY_REGION ?? env.ECS_REGION ?? 'cn-hangzhou';
  const accountId = env.ACCOUNT_ID ?? '<account-id>';
  return {
    region,
    accountId,
    name,
    tablestoreInstance: env.TABLESTORE_INSTANCE ?? 'ecs-backup',
    exportsBucket: env.EXPORTS_BUCKET ?? `${name}-exports-${accountId}`,
    exportsExpireDays: Number(env.EXPORTS_EXPIRE_DAYS ?? '7'),
    logProject: env.LOG_PROJECT ?? `${name}-logs-${accountId}`,
    logstore: env.LOGSTORE ?? 'functions',
    apiTokenSecret: env.API_TOKEN_SECRET ?? `${name}-api-token`,
    apiTokenSha256: sha256(apiToken),
    codeChecksums,
  };
}

/**
 * The token operators use: API_TOKEN if set, else the one kept in `.deploy/api-token` (mode 0600)
 * by an earlier deploy, else a new one saved there. Kept so that re-running changes nothing.
 */
export function resolveApiToken(
  env: Record<string, string | undefined>,
  dir = path.join(REPO, '.deploy'),
): {
  token: string;
  generated: boolean;
} {
  if (env.API_TOKEN) return { token: env.API_TOKEN, generated: false };
  const file = path.join(dir, 'api-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, generated: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { 'dry-run': { type: 'boolean', default: false } },
  });
  const dryRun = values['dry-run'] === true;
  const env = process.env;
  const outRoot = path.join(REPO, 'dist', 'functions');
  process.stdout.write('building the function bundles ...\n');
  await buildFunctions(outRoot);
  const packages = Object.fromEntries(
    FUNCTIONS.map((fn) => [fn, zipFolder(path.join(outRoot, fn))]),
  ) as Record<FunctionName, Buffer>;
  const checksums = Object.fromEntries(FUNCTIONS.map((fn) => [fn, crc64(packages[fn])])) as Record<
    FunctionName,
    string
  >;
  const { token, generated } =
    dryRun && !env.API_TOKEN ? { token: 'dry-run', generated: false } : resolveApiToken(env);
  const config = deployConfigFromEnv(env, checksums, token);
  const desired = desiredState(config);
  const keys = env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET && env.ACCOUNT_ID;
  const described = new Map<string, Described>();
  let cloud: CloudProviders | undefined;
  if (keys) {
    const { createCloudProviders } = await import('./cloud.js');
    cloud = createCloudProviders({
      region: config.region,
      accountId: config.accountId,
      credentials: {
        accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID!,
        accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,
        ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
      },
      packages,
      apiToken: token,
      config,
    });
    process.stdout.write(`describing ${desired.length} resources in ${config.region} ...\n`);
    for (const r of desired) described.set(keyOf(r), await cloud.describe(r));
  } else if (!dryRun) {
    throw new Error(
      'deploying needs ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  }
  const changes = planChanges(desired, described);
  process.stdout.write(`\n${formatPlan(changes).join('\n')}\n`);
  if (dryRun || cloud === undefined) return;
  for (const change of changes) {
    if (change.action !== 'create' && change.action !== 'update') continue;
    process.stdout.write(`${change.action} ${keyOf(change.resource)} ...\n`);
    await cloud.apply(change);
  }
  if (generated) process.stdout.write(`\nAPI token (kept in .deploy/api-token and in KMS): ${token}\n`);
  process.stdout.write(
    `\ndone: ${changes.filter((c) => c.action !== 'unchanged').length} changed. Check it with npm run smoke.\n`,
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`deploy failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
