// export_words.hpp: the customer's export in plain words (private to src/report/). It turns a
// SubjectReport into the view a template renders: every id replaced by the policy's label in the
// language asked for, refusals told in sentences, one row per access, every date in one style.
#pragma once

#include <string>
#include <string_view>

#include "consentry/report.hpp"
#include "report/report_json.hpp"

namespace consentry::export_words {

/// Labels names the report's ids in one language: the label the policy gives, else the id (a
/// field's underscores read as spaces).
class Labels {
 public:
  Labels(const Glossary& glossary, std::string_view language);
  /// language is the language asked for, or the policy's default when none was.
  const std::string& language() const noexcept { return language_; }
  std::string field(std::string_view id) const;
  std::string purpose(std::string_view id) const;
  std::string accessor(std::string_view id) const;
  std::string source(std::string_view id) const;
  /// field_description and purpose_description give the description, "" when there is none.
  std::string field_description(std::string_view id) const;
  std::string purpose_description(std::string_view id) const;

 private:
  std::string in(const std::map<std::string, Term, std::less<>>& terms, std::string_view id,
                 bool description) const;
  const Glossary& glossary_;
  std::string language_;
};

/// readable_time writes an instant as "1 May 2025, 10:00 UTC".
std::string readable_time(timestamp t);
/// readable_date writes a date value "1990-04-02" as "2 April 1990"; other text is returned as is.
std::string readable_date(std::string_view iso_date);
/// plain_form says how much of a value a form reveals ("partly hidden: only the last 4 characters").
std::string plain_form(const Form& f);
/// plain_duration writes P1Y6M as "1 year 6 months".
std::string plain_duration(const IsoDuration& d);
/// refusal_words says why an access was refused, as the end of a sentence ("you had not agreed
/// to this use"), from the entry's reason spelling.
std::string refusal_words(std::string_view reason);

/// The rights sentences, shared by the JSON and the HTML export so they cannot drift.
std::string withdraw_sentence(const Controller& c);
std::string object_sentence(const Controller& c);
std::string contact_sentence(const Controller& c);
std::string erasure_sentence(const Controller& c);

/// kBuiltinHtmlTemplate is templates/export.html.mustache, compiled in.
extern const std::string_view kBuiltinHtmlTemplate;

/// view builds what the HTML template renders (docs/export.md, "Templates", names each member).
/// Values are left unescaped here: the template engine escapes them.
report_json::Json view(const SubjectReport& report, const Labels& labels);

}  // namespace consentry::export_words
