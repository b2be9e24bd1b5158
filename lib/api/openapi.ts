/**
 * The OpenAPI 3.1 document, generated from the route table and the zod schemas the handlers validate
 * with. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod 4 emits.
 */
import { z } from 'zod';
import { MAX_BODY_BYTES } from './http.js';
import { PROBLEM_KINDS, PROBLEM_TYPE_PREFIX } from './problem.js';
import type { Route } from './router.js';
import { apiRegistry } from './schemas/common.js';

type Json = Record<string, unknown>;

const TAGS: { name: string; description: string }[] = [
  { name: 'instances', description: 'ECS instances of the region and how each is protected' },
  { name: 'protected-instances', description: 'Protection of instances, and backups on demand' },
  { name: 'plans', description: 'Backup plans: schedule, retention, long-term rules, consistency' },
  { name: 'jobs', description: 'Backup (and other) jobs: status, progress, cancellation' },
  { name: 'backups', description: 'Backup points: snapshots per disk, expiry, deletion' },
  { name: 'meta', description: 'Health and this document' },
  { name: 'exports', description: 'Export records: files exported from backups, browse, download, cancel' },
  { name: 'protection-rules', description: 'Tag-based auto-protection: rules, their status and preview' },
];

const PROBLEM_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Malformed JSON or invalid fields; `errors` names each field' },
  401: { name: 'Unauthorized', description: 'Missing or wrong bearer token' },
  404: { name: 'NotFound', description: 'No such resource' },
  409: {
    name: 'Conflict',
    description: 'Clashes with the stored state, or the same Idempotency-Key is in flight',
  },
  413: { name: 'PayloadTooLarge', description: `Body over ${MAX_BODY_BYTES} bytes` },
  415: { name: 'UnsupportedMediaType', description: 'Body is not application/json' },
  422: { name: 'IdempotencyKeyReused', description: 'Idempotency-Key already used for another request' },
  500: { name: 'InternalError', description: 'Unexpected failure; the detail is in the log under requestId' },
};

let cached: Json | undefined;

export function openApiDocument(routes: readonly Route[]): Json {
  cached ??= buildDocument(routes);
  return cached;
}

function componentSchemas(): Record<string, Json> {
  const generated = z.toJSONSchema(apiRegistry, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    // Component schemas live inside the document: their own $schema/$id would start a new resource.
    const { $schema: _schema, $id: _id, ...rest } = schema;
    out[id] = rest;
  }
  return out;
}

function schemaRef(schema: z.ZodType): Json {
  const meta = apiRegistry.get(schema);
  if (meta !== undefined) return { $ref: `#/components/schemas/${meta.id}` };
  return inlineSchema(schema);
}

function inlineSchema(schema: z.ZodType): Json {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    metadata: z.registry(),
  }) as Json;
  return rest;
}

function parameters(route: Route): Json[] {
  const out: Json[] = [];
  const add = (schema: z.ZodType | undefined, location: 'path' | 'query') => {
    if (schema === undefined) return;
    const json = inlineSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const { description, ...propSchema } = prop as Json & { description?: string };
      const param: Json = {
        name,
        in: location,
        required: location === 'path' || (json.required ?? []).includes(name),
        schema: propSchema,
      };
      if (typeof description === 'string') param.description = description;
      out.push(param);
    }
  };
  add(route.params, 'path');
  add(route.query, 'query');
  if (route.method === 'POST') {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'A retried request with the same key gets the first answer and the work is done once (keys are kept 24 h).',
      schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
    });
  }
  return out;
}

function operation(route: Route): Json {
  const responses: Json = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const response: Json = { description: spec.description };
    if (spec.schema !== undefined)
      response.content = { 'application/json': { schema: schemaRef(spec.schema) } };
    const headers: Json = {};
    if (status === '201' || status === '202') {
      headers.Location = { description: 'URL of the created resource or job', schema: { type: 'string' } };
    }
    if (Object.keys(headers).length > 0) response.headers = headers;
    responses[status] = response;
  }
  const problems = new Set<number>([400, 500, ...(route.problems ?? [])]);
  if (route.public !== true) problems.add(401);
  if (route.body !== undefined) {
    problems.add(413);
    problems.add(415);
  }
  if (route.method === 'POST') {
    problems.add(409);
    problems.add(422);
  }
  for (const status of [...problems].sort()) {
    const problem = PROBLEM_RESPONSES[status];
    if (problem !== undefined) responses[String(status)] = { $ref: `#/components/responses/${problem.name}` };
  }
  const op: Json = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    responses,
  };
  if (route.description !== undefined) op.description = route.description;
  if (route.public === true) op.security = [];
  const params = parameters(route);
  if (params.length > 0) op.parameters = params;
  if (route.body !== undefined) {
    op.requestBody = {
      required: route.bodyRequired === true,
      content: { 'application/json': { schema: schemaRef(route.body) } },
    };
  }
  return op;
}

function buildDocument(routes: readonly Route[]): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  const responses: Record<string, Json> = {};
  for (const [status, problem] of Object.entries(PROBLEM_RESPONSES)) {
    const response: Json = {
      description: problem.description,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    if (status === '401') {
      response.headers = {
        'WWW-Authenticate': { description: 'Bearer challenge (RFC 6750)', schema: { type: 'string' } },
      };
    }
    responses[problem.name] = response;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ecs-backup API',
      version: '1.0.0',
      summary: 'Scheduled, agentless snapshot backups of Alibaba Cloud ECS instances',
      description: [
        'Every route except /healthz needs `Authorization: Bearer <token>`.',
        'Errors are RFC 9457 problem documents; `type` is one of:',
        ...Object.keys(PROBLEM_KINDS).map((k) => `\`${PROBLEM_TYPE_PREFIX}${k}\``),
        'Lists are newest first and paged with `limit` and `cursor` (from `nextCursor`).',
        'A cursor is bound to its list and query: send it back with the same query (only `limit` may change).',
        'A repeated query parameter is a list for `status` and refused (400) for every other parameter.',
      ].join('\n'),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'Local cloud (npm start)' }],
    security: [{ bearerAuth: [] }],
    tags: TAGS,
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'The API token' } },
      schemas: componentSchemas(),
      responses,
    },
  };
}
