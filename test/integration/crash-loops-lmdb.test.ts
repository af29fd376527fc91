// Issue 12 item 1: kill -9 crash loops against a real gateway process, store `lmdb`
// (test/helpers/crash-loops.ts): zero acknowledged-then-lost in the mirror and the outbox.
import t from 'tap';
import { CRASH_LOOP_FILE_TIMEOUT_MS, runCrashLoops } from '../helpers/crash-loops.ts';

t.setTimeout(CRASH_LOOP_FILE_TIMEOUT_MS); // 50 rounds under CI on a machine running other files too

t.test('kill -9 at random moments during refusals, imports and pushes (store lmdb): nothing acknowledged is lost', (t) => runCrashLoops(t, 'lmdb'));
