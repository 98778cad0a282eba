/** How a recovered delivery reaches the front door's routing: counted `recovered` instead of `accepted`. */
import type { Delivery } from "../events/delivery.ts";
import type { DeliveryMetrics, DeliveryOutcome } from "../observe/metrics.ts";
import type { DeliveriesClient } from "./walk-deliveries.ts";

/** `route(delivery, count)` is the front door's routing with its outcome counter replaced. */
export function routeRecovered(
  route: (delivery: Delivery, count: DeliveryMetrics["delivery"]) => Promise<unknown>,
  metrics: Pick<DeliveryMetrics, "delivery">,
): (delivery: Delivery) => Promise<DeliveryOutcome> {
  return async (delivery) => {
    let outcome: DeliveryOutcome = "ignored";
    await route(delivery, (event, counted) => {
      outcome = counted === "accepted" ? "recovered" : counted;
      metrics.delivery(event, outcome);
    });
    return outcome;
  };
}

/** The deliveries API through an App-authenticated Octokit (Probot's `probot.auth()`, a fresh JWT each time). */
export function appDeliveriesClient(auth: () => Promise<unknown>): DeliveriesClient {
  return {
    request: async (route, parameters) => ((await auth()) as DeliveriesClient).request(route, parameters),
  };
}
