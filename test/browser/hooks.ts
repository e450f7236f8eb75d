// Root hooks of the browser suite: the shared harness is closed once, after every file ran.
import { closeHarness } from './harness';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30000);
    await closeHarness();
  },
};
