// Child process for the kill tests: `exitlab …` in a process of its own, so it can be SIGKILLed.
import { main } from '../../src-main/cli/main';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
