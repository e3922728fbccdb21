// The one test for "this failure was running out of memory", for errors thrown in the engine and
// for what a dead process or thread left on stderr (V8's heap limit, the wasm heap, the kernel's
// OOM killer as Node reports it, a worker thread's resource limit).
const PATTERN = /out of memory|\bOOM\b|allocation failed|Cannot allocate|Array buffer allocation|Invalid array length|ERR_WORKER_OUT_OF_MEMORY/i;

export function looksOutOfMemory(text: string): boolean {
  return PATTERN.test(text);
}
