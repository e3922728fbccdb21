// Child of independent-steps.ts: builds the one-thread step rig, says 'ready', and on 'go' times
// its steps and sends back its images/s.
import { selectBackend } from '../../../src-main/engine/backends/select';
import { makeStepRig } from './training-step';
import { timeSteps } from './timing';

async function main(): Promise<void> {
  const [method, batch, steps, backend] = process.argv.slice(2);
  await selectBackend(backend as never);
  const rig = makeStepRig(method, Number(batch));
  await rig.step();
  process.send!('ready');
  await new Promise((resolve) => process.once('message', resolve));
  const { msPerStep } = await timeSteps(() => rig.step(), Number(steps));
  process.send!({ imagesPerSecond: (rig.imagesPerStep * 1000) / msPerStep });
  rig.dispose();
  process.disconnect();
}

main().catch((err) => {
  process.send?.(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
