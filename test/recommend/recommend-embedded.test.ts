import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { describeRecommendSuite } from "./recommend-suite.js";

describeRecommendSuite("embedded", () => {
  const store = createEmbeddedStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});
