// store.cpp: the default implementations of Store's optional methods, built on its required ones.
#include "consentry/store.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consentry {

result<void> Store::scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                           const std::function<bool(const PurposePosition&)>& visit) {
  auto customers_with_keys = customers();
  if (!customers_with_keys) return std::move(customers_with_keys).err();
  auto events = purpose_history(purpose);
  if (!events) return std::move(events).err();
  // Both lists are sorted by customer, and each customer's events are in ledger order: one merge
  // pass finds every customer's last event.
  auto e = events->begin();
  for (const std::string& customer : *customers_with_keys) {
    while (e != events->end() && std::string_view(e->customer) < customer) ++e;
    PurposePosition position{customer, std::nullopt, std::nullopt};
    for (; e != events->end() && e->customer == customer; ++e) {
      position.action = e->action;
      position.expires_at = e->expires_at;
    }
    if (only_with_events && !position.action) continue;
    if (!visit(position)) break;
  }
  return ok();
}

}  // namespace consentry
