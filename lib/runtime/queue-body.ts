/**
 * The job queue's body encoding, for the worker's trigger events: EventBridge hands the worker the
 * MNS message body as it was sent (base64, or `z:` + deflated base64), and the worker decodes it.
 */
export { decodeMnsBody as decodeQueueBody } from '../adapters/mns/codec.js';
