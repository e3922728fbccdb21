// Child process for runs-service.test.ts: owns a run, reports its id and engine pid, then trains
// until the test kills it.
import { TrainConfigSchema } from '../../src-shared/config';
import { RunService } from '../../src-main/runs/service';

const [home, configJson] = process.argv.slice(2);
const service = new RunService({ home, heartbeatMs: 200 });
const run = service.start(TrainConfigSchema.parse(JSON.parse(configJson)));
service.onEvent((id, e) => {
  if (id === run.runId && e.type === 'started') process.send!({ runId: run.runId, enginePid: run.pid });
});
