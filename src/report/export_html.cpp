// export_html.cpp: the customer's export as one HTML page, rendered from a Mustache template
// (kainjow's, Debian libkainjow-mustache-dev) over the plain-words view of export_words.
#include <kainjow/mustache.hpp>

#include "consentry/report.hpp"
#include "report/export_words.hpp"

namespace consentry {
namespace {

namespace mustache = kainjow::mustache;
using report_json::Json;

// escape makes text safe in HTML element content and in double- or single-quoted attributes.
// NUL, which HTML parsers drop or replace inconsistently, becomes U+FFFD.
std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

// to_data turns the view into the template engine's data. An empty string or null becomes false,
// so that `{{#name}}…{{/name}}` shows its text only when there is something to show.
mustache::data to_data(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      // Members are moved in: data::set would copy each, nested objects and lists included.
      mustache::data out{mustache::data::type::object};
      for (const auto& [key, value] : j.items()) out[key] = to_data(value);
      return out;
    }
    case Json::value_t::array: {
      // data::push_back copies each item; the list `out` owns is not const, so they are moved in.
      mustache::data out{mustache::data::type::list};
      auto& items = const_cast<mustache::list&>(out.list_value());
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(to_data(item));
      return out;
    }
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s.empty() ? mustache::data{false} : mustache::data{s};
    }
    case Json::value_t::boolean: return mustache::data{j.get<bool>()};
    case Json::value_t::null: return mustache::data{false};
    default: return mustache::data{j.dump()};
  }
}

}  // namespace

result<ExportTemplate> ExportTemplate::parse(std::string_view text, std::string_view origin) {
  mustache::mustache compiled{std::string(text)};
  if (!compiled.is_valid())
    return make_error(errc::bad_input,
                      std::string(origin) + ": not a valid template: " + compiled.error_message());
  return ExportTemplate(std::string(text));
}

const ExportTemplate& ExportTemplate::builtin() {
  static const ExportTemplate tmpl{std::string(export_words::kBuiltinHtmlTemplate)};
  return tmpl;
}

std::string export_html(const SubjectReport& report, const ExportOptions& options) {
  const ExportTemplate& tmpl = options.html ? *options.html : ExportTemplate::builtin();
  const export_words::Labels labels(report.glossary, options.language);
  mustache::mustache compiled{tmpl.text()};
  compiled.set_custom_escape(escape);
  return compiled.render(to_data(export_words::view(report, labels)));
}

}  // namespace consentry
