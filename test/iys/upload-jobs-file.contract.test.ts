import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileUploadJobs } from '../../src/iys/upload-jobs.ts';
import { runUploadJobsContract } from './upload-jobs-contract.ts';

// The upload-job contract against one gateway's job files (<dataDir>/uploads).
runUploadJobsContract(t, 'file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-jobs-'));
  return {
    jobs: new FileUploadJobs(dir), token: () => '',
    reopen: async () => new FileUploadJobs(dir),
    cleanup: async () => { rmSync(dir, { recursive: true, force: true }); },
  };
});
