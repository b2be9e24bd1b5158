import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';

// Node's ESM loader hands over `module.exports` (the class is its `default`); vitest hands over the class.
const OpenApiClient: typeof OpenApi.default =
  (OpenApi as unknown as { default?: typeof OpenApi.default }).default ??
  (OpenApi as unknown as typeof OpenApi.default);

/** Calls to the MNS queue OpenAPI (2022-01-19) of an emulator, through the official OpenAPI client. */
export function mnsControl(
  endpoint: string,
  key: { accessKeyId: string; accessKeySecret: string },
  timeouts: { readTimeout?: number; connectTimeout?: number } = {},
) {
  const client = new OpenApiClient(
    new Config({ ...key, endpoint: new URL(endpoint).host, protocol: 'http', ...timeouts }),
  );
  return (action: string, query: Record<string, string>) =>
    client.callApi(
      new Params({
        action,
        version: '2022-01-19',
        protocol: 'HTTPS',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      }),
      new OpenApiRequest({ query }),
      {} as Parameters<typeof client.callApi>[2],
    );
}
