import { checkRequest, JOB_STATUSES, type ControlRequest, type JobStatus } from '../../src/shared/job-status';

const allowed: Record<ControlRequest, JobStatus[]> = {
  Ready: ['Suspended'],
  Cancelled: ['New', 'Preparing', 'Suspended', 'Ready', 'Active', 'Pausing', 'Paused'],
  Pause: ['Ready', 'Active'],
  Resume: ['Pausing', 'Paused'],
  UpdatePriority: ['New', 'Preparing', 'Suspended', 'Ready', 'Active', 'Pausing', 'Paused'],
  UpdateRate: ['New', 'Preparing', 'Suspended', 'Ready', 'Active', 'Pausing', 'Paused'],
};

describe('job status machine', () => {
  for (const request of Object.keys(allowed) as ControlRequest[]) {
    for (const status of JOB_STATUSES) {
      const ok = allowed[request].includes(status);
      test(`${request} in ${status} is ${ok ? 'accepted' : 'rejected with a reason'}`, () => {
        const check = checkRequest(status, request);
        expect(check.ok).toBe(ok);
        if (!check.ok) expect(check.reason).toMatch(new RegExp(status));
      });
    }
  }
});
