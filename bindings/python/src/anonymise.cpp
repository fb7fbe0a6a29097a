// anonymise.cpp: FF1, shape-keeping tokens, pseudonyms, forms and k-anonymity, for Python.
// Keys are bytes; they are copied into guarded memory (SecretBytes) for the call.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/ff1.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/field_type.hpp"
#include "consentry/form.hpp"

namespace consentry::python {

namespace {

using namespace pybind11::literals;

/// PyFf1 is FF1 over the characters of an alphabet.
struct PyFf1 {
  std::shared_ptr<Ff1> ff1;
  std::shared_ptr<Ff1Alphabet> alphabet;
};

FieldType field_type_of(const std::string& text) {
  auto t = parse_field_type(text);
  if (!t) invalid("type must be 'string', 'email', 'date', 'phone', 'integer' or 'boolean'");
  return *t;
}

/// dataset_of reads CSV text, or a list of dicts (the first one's keys are the columns).
Dataset dataset_of(const py::handle& data, const char* source) {
  if (py::isinstance<py::str>(data)) {
    std::string text = data.cast<Text>().s;
    return take(nogil([&] { return parse_dataset(text, detect_delimiter(text), source); }));
  }
  Dataset d;
  d.source = source;
  bool first = true;
  std::size_t line = 1;
  for (const py::handle row : data.cast<py::iterable>()) {
    if (!py::isinstance<py::dict>(row)) invalid(std::string(source) + ": each row must be a dict");
    const auto dict = row.cast<py::dict>();
    if (first) {
      for (const auto& item : dict) d.columns.push_back(item.first.cast<Text>().s);
      first = false;
    }
    if (dict.size() != d.columns.size())
      invalid(d.source + ":" + std::to_string(line) + ": a row must have the first row's columns");
    std::vector<std::string> cells;
    for (const auto& column : d.columns) {
      py::str key(column);
      if (!dict.contains(key))
        invalid(d.source + ":" + std::to_string(line) + ": missing column '" + column + "'");
      py::handle cell = dict[key];
      cells.push_back(py::isinstance<py::str>(cell) ? cell.cast<Text>().s : py::str(cell).cast<Text>().s);
    }
    d.rows.push_back(std::move(cells));
    d.lines.push_back(line++);
  }
  if (first) invalid(std::string(source) + ": no rows");
  return d;
}

Hierarchy hierarchy_of(const std::string& column, const py::handle& h) {
  const std::string source = "hierarchy '" + column + "'";
  if (py::isinstance<py::str>(h)) {
    std::string text = h.cast<Text>().s;
    return take(parse_hierarchy(text, detect_delimiter(text), source));
  }
  Hierarchy out;
  out.source = source;
  std::size_t line = 1;
  for (const py::handle row : h.cast<py::iterable>()) {
    std::vector<std::string> levels;
    for (const py::handle cell : row.cast<py::iterable>()) levels.push_back(py::str(cell).cast<Text>().s);
    out.rows.push_back(std::move(levels));
    out.lines.push_back(line++);
  }
  if (out.rows.empty()) invalid(source + ": no rows");
  // The same checks as a file gets: go through the text form (the first row as a header).
  Dataset as_text{source, out.rows.front(), {out.rows.begin() + 1, out.rows.end()}, {}};
  std::string text = format_dataset(as_text, ',');
  return take(parse_hierarchy(text, ',', source));
}

}  // namespace

void bind_anonymise(py::module_& m) {
  py::class_<PyFf1>(m, "Ff1",
                    "FF1 format-preserving encryption (NIST SP 800-38G) over the characters of an alphabet. "
                    "Its repr shows the radix only, never the key.")
      .def(py::init([](const py::bytes& key, const Text& alphabet) {
             SecretBytes secret = secret_of(key);
             auto a = take(Ff1Alphabet::parse(alphabet.s));
             auto f = take(Ff1::create(secret, a.radix()));
             return PyFf1{std::make_shared<Ff1>(std::move(f)), std::make_shared<Ff1Alphabet>(std::move(a))};
           }),
           "key"_a, "alphabet"_a = Text{std::string(kFf1DecimalAlphabet)},
           "FF1 under `key` (16, 24 or 32 bytes: AES-128/192/256) over `alphabet` (2 to 65536 distinct "
           "characters). Raises InvalidInput.")
      .def_property_readonly(
          "radix", [](const PyFf1& f) { return f.ff1->radix(); }, "The number of characters of the alphabet.")
      .def(
          "encrypt",
          [](const PyFf1& f, const Text& text, const py::bytes& tweak) {
            auto t = bytes_of(tweak);
            return take(nogil([&]() -> result<std::string> {
              auto digits = f.alphabet->digits(text.s);
              if (!digits) return digits.err();
              auto out = f.ff1->encrypt(*digits, t);
              if (!out) return out.err();
              return f.alphabet->text(*out);
            }));
          },
          "text"_a, "tweak"_a = py::bytes(),
          "Encrypt `text` (characters of the alphabet) to as many characters. Raises InvalidInput for a "
          "character outside the alphabet or a text too short (radix^length < 1,000,000) or too long.")
      .def(
          "decrypt",
          [](const PyFf1& f, const Text& text, const py::bytes& tweak) {
            auto t = bytes_of(tweak);
            return take(nogil([&]() -> result<std::string> {
              auto digits = f.alphabet->digits(text.s);
              if (!digits) return digits.err();
              auto out = f.ff1->decrypt(*digits, t);
              if (!out) return out.err();
              return f.alphabet->text(*out);
            }));
          },
          "text"_a, "tweak"_a = py::bytes(), "Reverse encrypt() under the same key, alphabet and tweak.")
      .def("__repr__",
           [](const PyFf1& f) { return "<consentry.Ff1 radix=" + std::to_string(f.ff1->radix()) + ">"; });

  py::class_<Tokeniser, std::shared_ptr<Tokeniser>>(
      m, "Tokeniser",
      "FF1 tokens that keep a value's shape: the digits of an integer or phone, the ASCII letters and "
      "digits of a string or email, are enciphered; every other character stays.")
      .def(py::init([](const py::bytes& key) {
             SecretBytes secret = secret_of(key);
             return std::make_shared<Tokeniser>(take(Tokeniser::create(secret)));
           }),
           "key"_a, "A tokeniser under `key` (16, 24 or 32 bytes). Raises InvalidInput.")
      .def(
          "tokenise",
          [](const Tokeniser& t, const std::string& type, const Text& value, const py::bytes& tweak) {
            const FieldType ft = field_type_of(type);
            auto tw = bytes_of(tweak);
            return take(nogil([&] { return t.tokenise(ft, value.s, tw); }));
          },
          "type"_a, "value"_a, "tweak"_a = py::bytes(),
          "The token of `value` of field type `type`. Raises Denied (form_unavailable) for a date, a "
          "boolean, or too few characters to encipher.")
      .def(
          "detokenise",
          [](const Tokeniser& t, const std::string& type, const Text& token, const py::bytes& tweak) {
            const FieldType ft = field_type_of(type);
            auto tw = bytes_of(tweak);
            return take(nogil([&] { return t.detokenise(ft, token.s, tw); }));
          },
          "type"_a, "token"_a, "tweak"_a = py::bytes(), "The value back from its token. Raises InvalidInput.")
      .def("__repr__", [](const Tokeniser&) { return std::string("<consentry.Tokeniser>"); });

  m.def(
      "pseudonym",
      [](const py::bytes& key, const Text& value) {
        SecretBytes secret = secret_of(key);
        if (secret.size() < 16 || secret.size() > 64) invalid("a pseudonym key must be 16 to 64 bytes");
        return nogil([&] { return pseudonym(secret, value.s); });
      },
      "key"_a, "value"_a,
      "The keyed BLAKE2b pseudonym (hex) of `value` under `key` (16 to 64 bytes): stable for one key, "
      "unlinkable without it.");
  m.def(
      "hmac_pseudonym",
      [](const py::bytes& key, const Text& value) {
        SecretBytes secret = secret_of(key);
        if (secret.size() < 16) invalid("an HMAC pseudonym key must be at least 16 bytes");
        return nogil([&] { return hmac_pseudonym(secret, value.s); });
      },
      "key"_a, "value"_a, "HMAC-SHA256 of `value` under `key` (at least 16 bytes), as 64 hex digits.");
  m.def(
      "apply_form",
      [](const std::string& form, const std::string& type, const Text& value, const py::bytes& key) {
        auto f = parse_form(form);
        if (!f) invalid("unknown form (see docs/policy.md for the spellings)");
        const FieldType ft = field_type_of(type);
        SecretBytes secret = secret_of(key);
        return take(nogil([&] { return apply_form(*f, ft, value.s, secret); }));
      },
      "form"_a, "type"_a, "value"_a, "key"_a = py::bytes(),
      "Turn `value` of field type `type` into `form` ('mask:last4', 'generalise:year', 'pseudonym', ...; "
      "not 'token'), with `key` for the keyed forms. Raises Denied (form_unavailable) when the form does "
      "not fit the value, InvalidInput for a missing key.");

  m.def(
      "anonymise",
      [](const py::object& data, const std::vector<Text>& quasi_identifiers, std::size_t k,
         const py::object& hierarchies, const std::string& method, std::size_t l, const Text& sensitive,
         const std::string& diversity, double max_suppression, const std::string& metric, double c,
         std::optional<double> t, const std::string& closeness, std::optional<double> highest_risk,
         std::optional<double> average_risk, const py::object& population, double delta_min, double delta_max,
         bool local_recoding) {
        Dataset d = dataset_of(data, "data");
        Dataset pop;
        AnonymityConfig config;
        config.c = c;
        config.t = t;
        config.max_highest_risk = highest_risk;
        config.max_average_risk = average_risk;
        config.delta_min = delta_min;
        config.delta_max = delta_max;
        config.local_recoding = local_recoding;
        if (!population.is_none()) {
          pop = dataset_of(population, "population");
          config.population = &pop;
        }
        if (auto chosen = parse_metric(metric)) {
          config.metric = *chosen;
        } else {
          invalid("metric must be 'discernibility', 'loss', 'ncp', 'aecs' or 'entropy'");
        }
        if (closeness == "equal") {
          config.closeness = ClosenessDistance::equal;
        } else if (closeness == "ordered") {
          config.closeness = ClosenessDistance::ordered;
        } else if (closeness == "hierarchical") {
          config.closeness = ClosenessDistance::hierarchical;
        } else {
          invalid("closeness must be 'equal', 'ordered' or 'hierarchical'");
        }
        for (const auto& q : quasi_identifiers) config.quasi_identifiers.push_back(q.s);
        config.k = k;
        config.l = l;
        config.sensitive = sensitive.s;
        config.max_suppression = max_suppression;
        if (method == "lattice") {
          config.method = AnonymityMethod::lattice;
        } else if (method == "mondrian") {
          config.method = AnonymityMethod::mondrian;
        } else {
          invalid("method must be 'lattice' or 'mondrian'");
        }
        if (diversity == "distinct") {
          config.diversity = DiversityMeasure::distinct;
        } else if (diversity == "entropy") {
          config.diversity = DiversityMeasure::entropy;
        } else if (diversity == "recursive") {
          config.diversity = DiversityMeasure::recursive;
        } else {
          invalid("diversity must be 'distinct', 'entropy' or 'recursive'");
        }
        Hierarchies hs;
        if (!hierarchies.is_none()) {
          for (const auto& item : hierarchies.cast<py::dict>()) {
            std::string column = item.first.cast<Text>().s;
            hs.emplace(column, hierarchy_of(column, item.second));
          }
        }
        auto out = take(nogil([&] { return anonymise(d, hs, config); }));
        py::list rows;
        for (const auto& row : out.data.rows) {
          py::dict r;
          for (std::size_t i = 0; i < out.data.columns.size(); ++i)
            r[py::str(out.data.columns[i])] = py::str(row[i]);
          rows.append(r);
        }
        const AnonymityReport& rep = out.report;
        py::dict report("method"_a = std::string(to_string(rep.method)),
                        "quasi_identifiers"_a = rep.quasi_identifiers, "levels"_a = rep.levels,
                        "max_levels"_a = rep.max_levels, "rows"_a = rep.rows, "suppressed"_a = rep.suppressed,
                        "classes"_a = rep.classes, "min_class_size"_a = rep.min_class_size,
                        "mean_class_size"_a = rep.mean_class_size,
                        "discernibility"_a = rep.loss.discernibility, "ncp"_a = rep.loss.ncp,
                        "loss"_a = rep.loss.loss, "aecs"_a = rep.loss.aecs, "entropy"_a = rep.loss.entropy,
                        "metric"_a = std::string(to_string(rep.metric)), "highest_risk"_a = rep.highest_risk,
                        "average_risk"_a = rep.average_risk, "recoded_cells"_a = rep.recoded_cells);
        return py::dict("columns"_a = out.data.columns, "rows"_a = rows, "report"_a = report);
      },
      "data"_a, py::kw_only(), "quasi_identifiers"_a, "k"_a, "hierarchies"_a = py::none(),
      "method"_a = "lattice", "l"_a = 1, "sensitive"_a = Text{}, "diversity"_a = "distinct",
      "max_suppression"_a = 0.0, "metric"_a = "discernibility", "c"_a = 0.0, "t"_a = py::none(),
      "closeness"_a = "equal", "highest_risk"_a = py::none(), "average_risk"_a = py::none(),
      "population"_a = py::none(), "delta_min"_a = 0.0, "delta_max"_a = 1.0, "local_recoding"_a = false,
      "Release `data` (CSV text with a header, or a list of dicts with the same keys) so that every class "
      "of rows equal on the quasi-identifiers has at least k rows (and is l-diverse in `sensitive`: "
      "'distinct', 'entropy' or 'recursive' with c; t-close with `t` and `closeness`; within the risk "
      "bounds; δ-present in `population` between delta_min and delta_max), minimising `metric` "
      "('discernibility', 'loss', 'ncp', 'aecs', 'entropy'). "
      "method 'lattice' needs a hierarchy per quasi-identifier: {column: [[value, level1, ..., '*'], ...]} "
      "or its CSV text; 'mondrian' needs numeric quasi-identifiers. Returns {'columns', 'rows' (dicts), "
      "'report'}. Raises InvalidInput naming the row and column, never a cell.");
}

}  // namespace consentry::python
