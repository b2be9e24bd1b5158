import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lib/api/openapi.js';
import { routes } from '../../lib/api/routes/index.js';

async function lint(document: unknown): Promise<string[]> {
  // recommended-strict = Redocly's recommended rules with every warning raised to an error.
  const config = await createConfig({ extends: ['recommended-strict'] });
  const problems = await lintFromString({
    source: JSON.stringify(document),
    absoluteRef: 'openapi.json',
    config,
  });
  return problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} @ ${p.location[0]?.pointer ?? ''}`);
}

describe('OpenAPI document', () => {
  it('lints clean with Redocly recommended-strict', async () => {
    expect(await lint(openApiDocument(routes))).toEqual([]);
  });

  it('is linted for real: a document with a dangling reference and no license fails', async () => {
    const broken = {
      openapi: '3.1.0',
      info: { title: 'x', version: '1' },
      paths: { '/a': { get: { responses: { 200: { $ref: '#/components/responses/Nope' } } } } },
    };
    const messages = await lint(broken);
    expect(messages.some((m) => m.includes('no-unresolved-refs'))).toBe(true);
    expect(messages.some((m) => m.includes('info-license'))).toBe(true);
  });

  it('documents every route with its operation, and names the request schemas', () => {
    const doc = openApiDocument(routes) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of routes) {
      expect(doc.paths[route.path]?.[route.method.toLowerCase()]?.operationId).toBe(route.operationId);
    }
    expect(doc.paths['/api/v1/protected-instances']?.post?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ProtectRequest' } } },
    });
    for (const name of [
      'ProtectRequest',
      'PlanSpec',
      'PlanChange',
      'Schedule',
      'Retention',
      'Problem',
      'Job',
      'Backup',
    ]) {
      expect(doc.components.schemas).toHaveProperty(name);
    }
  });
});
