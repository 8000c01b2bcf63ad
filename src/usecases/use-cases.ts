/** The five use cases of one store, as the transport receives them (built by src/main.ts). */
import type { VectorStore } from "../store/vector-store.js";
import { createIndexAdmin, type IndexAdmin } from "./index-admin.js";
import { createInteractionService, type InteractionService } from "./interactions.js";
import { createItemService, type ItemService } from "./items.js";
import { createRecommender, type Recommender } from "./recommend.js";
import { createSearchService, type SearchService } from "./search.js";

export interface UseCases {
  readonly indexAdmin: IndexAdmin;
  readonly items: ItemService;
  readonly search: SearchService;
  readonly recommender: Recommender;
  readonly interactions: InteractionService;
}

export function createUseCases(store: VectorStore): UseCases {
  return {
    indexAdmin: createIndexAdmin(store),
    items: createItemService(store),
    search: createSearchService(store),
    recommender: createRecommender(store),
    interactions: createInteractionService(store),
  };
}
