// Child process for store-concurrency.test.ts: records runs epoch by epoch as fast as it can.
import { openStore } from '../../src-main/store/run-store';
import { config, epochMetrics, modelSummary } from '../unit/store/fixtures';

const [home, runsArg, epochsArg, prefix = 'w'] = process.argv.slice(2);
const store = openStore(home);
for (let r = 0; r < Number(runsArg); r++) {
  const id = `${prefix}${r}`;
  store.createRun({ id, config: config({ epochs: Number(epochsArg) }), codeVersion: 'v', ownerPid: process.pid });
  store.recordStarted(id, { backendUsed: 'cpu', modelSummary: modelSummary(7), startEpoch: 1, ownerPid: process.pid });
  for (let e = 1; e <= Number(epochsArg); e++) store.recordEpoch(id, epochMetrics(e, 7));
  store.finishRun(id, { status: 'completed', seconds: 1, epochsDone: Number(epochsArg) });
}
store.close();
