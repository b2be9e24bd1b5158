import { QueueError, QueueReceiptError } from '../../ports/queue.js';

/** `@alicloud/mns` names its errors `MNS<Code>Error`; this returns `<Code>`. */
export function mnsErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  return /^MNS(\w+)Error$/.exec(err.name)?.[1];
}

/** Codes MNS answers for a receipt handle that is unknown, expired or already used. */
const RECEIPT_CODES = new Set(['ReceiptHandleError', 'MessageNotExist']);

export function translateMnsError(
  err: unknown,
  action: string,
  queue: string,
  options: { receipt?: boolean } = {},
): QueueError {
  if (err instanceof QueueError) return err;
  const code = mnsErrorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (options.receipt === true && code !== undefined && RECEIPT_CODES.has(code)) {
    return new QueueReceiptError(`receipt handle is stale or unknown (MNS ${code})`, { cause: err });
  }
  return new QueueError(`MNS ${action} on queue ${queue} failed: ${code ?? 'error'}: ${detail}`, {
    cause: err,
  });
}

/** The SDK throws only for XML error bodies; any other non-2xx answer ends up here. */
export function expectSuccess(response: { code: number }, action: string, queue: string): void {
  if (response.code >= 300) {
    throw new QueueError(`MNS ${action} on queue ${queue} answered HTTP ${response.code}`);
  }
}
