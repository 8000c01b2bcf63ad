import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { describeVectorStoreContract } from "./vector-store-contract.js";

describeVectorStoreContract("embedded", () => {
  const store = createEmbeddedStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});
