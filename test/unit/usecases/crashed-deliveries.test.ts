import { describe, expect, it } from 'vitest';
import { decodeMnsBody, encodeMnsBody } from '../../../lib/adapters/mns/codec.js';
import { crashedJobMessage } from '../../../lib/usecases/jobs/crashed-deliveries.js';

/** What EventBridge puts in the dead-letter queue: the event it could not deliver. */
function deadLetteredEvent(jobBody: string, limit?: number): string {
  return JSON.stringify({
    id: 'e-1',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    data: { messageId: 'm-1', messageBody: encodeMnsBody(jobBody, limit) },
  });
}

describe('crashedJobMessage', () => {
  it('reads the job message inside an event EventBridge dead-lettered, its attempt count included', () => {
    expect(
      crashedJobMessage(deadLetteredEvent('{"v":1,"jobId":"job-1","seq":3,"attempt":4}'), decodeMnsBody),
    ).toEqual({ v: 1, jobId: 'job-1', seq: 3, attempt: 4 });
    // A large body travels deflated (`z:`).
    const big = JSON.stringify({ v: 1, jobId: `job-${'x'.repeat(200)}` });
    const event = deadLetteredEvent(big, 200);
    expect(event).toContain('"messageBody":"z:');
    expect(crashedJobMessage(event, decodeMnsBody)?.jobId).toBe(`job-${'x'.repeat(200)}`);
  });

  it('leaves alone what the worker dead-lettered itself and anything that is not a job event', () => {
    expect(crashedJobMessage('{"v":1,"jobId":"job-1"}', decodeMnsBody)).toBeNull();
    expect(crashedJobMessage('not json', decodeMnsBody)).toBeNull();
    expect(crashedJobMessage(deadLetteredEvent('{"kind":"delivery"}'), decodeMnsBody)).toBeNull();
    expect(
      crashedJobMessage(JSON.stringify({ specversion: '1.0', data: { messageBody: '%%%' } }), decodeMnsBody),
    ).toBeNull();
  });
});
