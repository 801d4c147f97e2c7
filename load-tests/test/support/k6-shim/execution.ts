/** Set by run.ts before each call of an exec function, as k6 sets them per VU and iteration. */
const exec = {
  vu: { idInTest: 1, idInInstance: 1, iterationInInstance: 0, iterationInScenario: 0 },
  scenario: { name: 'default', startTime: Date.now(), iterationInTest: 0, iterationInInstance: 0, progress: 0, executor: 'shim' },
  test: { abort(reason?: string): never {
    throw new Error(`test aborted: ${reason ?? ''}`);
  } },
};
export default exec;
