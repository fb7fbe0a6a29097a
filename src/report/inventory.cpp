// inventory.cpp: the record of processing over all customers (GDPR Art. 30), with the
// minimisation hint naming the fields no purpose has read lately.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/report.hpp"
#include "report/report_json.hpp"
#include "text/text_table.hpp"

namespace consentry {
namespace {

using detail::TextTable;
using report_json::Json;

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

std::int64_t total_reads(const InventoryField& f) {
  std::int64_t n = 0;
  for (const auto& [purpose, reads] : f.reads) n += reads;
  return n;
}

std::int64_t reads_for(const InventoryField& f, std::string_view purpose) {
  const auto it = f.reads.find(purpose);
  return it == f.reads.end() ? 0 : it->second;
}

bool has_use(const InventoryField& f, std::string_view purpose) {
  for (const auto& u : f.uses)
    if (u.purpose == purpose) return true;
  return false;
}

// unused_hint is the minimisation hint's line, or "" when it was not asked for.
std::string unused_hint(const Inventory& inv) {
  if (!inv.unused_window) return "";
  return "fields no purpose read in the last " + inv.unused_window->to_string() + ": " +
         (inv.unused.empty() ? std::string("none") : joined(inv.unused, ", "));
}

}  // namespace

std::string inventory_text(const Inventory& inv) {
  using detail::terminal_safe;
  const std::string window = inv.window.to_string();
  std::string out = "Record of processing (GDPR Art. 30) at " + format_timestamp(inv.generated_at) + "\n";
  out += "Controller: " + terminal_safe(inv.controller.name.empty() ? "-" : inv.controller.name);
  if (!inv.controller.contact.empty()) out += " <" + terminal_safe(inv.controller.contact) + ">";
  out += "\nReads are counted over the " + window + " before that.\n";

  out += "\nFields (" + std::to_string(inv.fields.size()) + ")\n";
  TextTable fields(
      {"FIELD", "TYPE", "CATEGORY", "RETENTION", "SOURCES", "CUSTOMERS", "READS " + window, "LAST READ"});
  for (const auto& f : inv.fields) {
    std::string sources = f.sources.empty() ? "any" : joined(f.sources, ", ");
    if (!f.derived_from.empty()) sources = "derived from " + joined(f.derived_from, ", ");
    fields.add({f.field, std::string(to_string(f.type)), f.category,
                f.retention ? f.retention->to_string() : "until erased", sources, std::to_string(f.customers),
                std::to_string(total_reads(f)), f.last_read ? format_timestamp(*f.last_read) : "never"});
  }
  out += fields.empty() ? "  (none)\n" : fields.render();

  out += "\nPurposes per field\n";
  TextTable uses({"FIELD", "PURPOSE", "FORM", "BASIS", "AUTOMATED DECISION", "READS " + window});
  for (const auto& f : inv.fields) {
    for (const auto& u : f.uses)
      uses.add({f.field, u.purpose, u.form.to_string(), std::string(to_string(u.basis)),
                u.automated_decision ? "yes" : "no", std::to_string(reads_for(f, u.purpose))});
    // Reads by a purpose the policy no longer allows still count: the log is history.
    for (const auto& [purpose, reads] : f.reads)
      if (!has_use(f, purpose))
        uses.add({f.field, purpose, "(not allowed now)", "-", "-", std::to_string(reads)});
  }
  out += uses.empty() ? "  (none)\n" : uses.render();

  if (inv.unused_window) out += "\nMinimisation hint\n  " + terminal_safe(unused_hint(inv)) + "\n";
  return out;
}

std::string inventory_json(const Inventory& inv) {
  Json j;
  j["consentry_inventory"] = 1;
  j["generated_at"] = format_timestamp(inv.generated_at);
  j["controller"] = {{"name", inv.controller.name}, {"contact", inv.controller.contact}};
  j["window"] = inv.window.to_string();
  j["unused_window"] = inv.unused_window ? Json(inv.unused_window->to_string()) : Json(nullptr);
  Json fields = Json::array();
  for (const auto& f : inv.fields) {
    Json uses = report_json::uses(f.uses);
    Json reads = Json::object();
    for (const auto& [purpose, n] : f.reads) reads[purpose] = n;
    fields.push_back({{"name", f.field},
                      {"type", to_string(f.type)},
                      {"category", f.category},
                      {"retention", f.retention ? Json(f.retention->to_string()) : Json(nullptr)},
                      {"sources", f.sources},
                      {"derived_from", f.derived_from},
                      {"uses", std::move(uses)},
                      {"customers", f.customers},
                      {"reads", std::move(reads)},
                      {"last_read", f.last_read ? Json(format_timestamp(*f.last_read)) : Json(nullptr)}});
  }
  j["fields"] = std::move(fields);
  if (inv.unused_window) {
    j["unused"] = inv.unused;
    j["hint"] = unused_hint(inv);
  } else {
    j["unused"] = nullptr;
    j["hint"] = nullptr;
  }
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace consentry
