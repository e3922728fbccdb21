// A child for the child-host tests: its behaviour is chosen by FIXTURE_MODE.
const mode = process.env.FIXTURE_MODE;
const send = (m) => process.send(m);
process.on('message', (m) => {
  if (mode === 'echo') {
    send({ type: 'bogus' });
    send({ type: 'final', value: m.value });
    setTimeout(() => process.exit(0), 20);
  }
});
if (mode === 'oom') {
  process.stderr.write('<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
  setTimeout(() => process.exit(134), 20);
} else {
  // Late on purpose: a command sent before this must wait for it.
  setTimeout(() => send({ type: 'ready' }), 100);
}
