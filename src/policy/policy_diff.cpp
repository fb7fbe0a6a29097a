// policy_diff.cpp: diff_policies() and compare_forms() (policy_diff.hpp).
#include "consentry/policy_diff.hpp"

#include <algorithm>

namespace consentry {
namespace {

// date_rank orders the date generalisations by what they reveal; -1 for other kinds.
int date_rank(FormKind k) noexcept {
  switch (k) {
    case FormKind::generalise_decade: return 0;
    case FormKind::generalise_year: return 1;
    case FormKind::generalise_month: return 2;
    default: return -1;
  }
}

// reveals_nothing is true for the forms that show nothing of the value: redact and replace.
bool reveals_nothing(FormKind k) noexcept {
  return k == FormKind::redact || k == FormKind::replace;
}

FormOrder order_of(int a, int b) noexcept {
  return a < b ? FormOrder::less : a > b ? FormOrder::more : FormOrder::same;
}

// retention_order compares two retentions by where they end from one fixed day (years and months
// are calendar units); no retention keeps a value for ever.
FormOrder retention_order(const std::optional<IsoDuration>& a, const std::optional<IsoDuration>& b) {
  if (!a && !b) return FormOrder::same;
  if (!a) return FormOrder::more;
  if (!b) return FormOrder::less;
  const timestamp base = *parse_timestamp("2001-01-31");
  const timestamp ea = a->after(base), eb = b->after(base);
  return ea < eb ? FormOrder::less : eb < ea ? FormOrder::more : FormOrder::same;
}

std::string duration_text(const std::optional<IsoDuration>& d) {
  return d ? d->to_string() : std::string("none");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

bool contains(const std::vector<std::string>& items, std::string_view id) {
  return std::find(items.begin(), items.end(), id) != items.end();
}

// Differ collects the changes in order.
struct Differ {
  const Policy& from;
  const Policy& to;
  PolicyDiff out;
  PolicyChange scratch;  // what wording() gives when nothing changed

  PolicyChange& add(PolicyChangeKind kind, ChangeEffect effect) {
    PolicyChange c;
    c.kind = kind;
    c.effect = effect;
    out.changes.push_back(std::move(c));
    return out.changes.back();
  }

  // wording records a neutral change of `kind` naming `what` ("label", "description") when the
  // wording differs in any language, and gives it for its ids to be set; when it does not differ
  // it gives a scratch change that is not recorded. Wording never changes what data is used.
  PolicyChange& wording(PolicyChangeKind kind, const Wording& a, const Wording& b, std::string_view what) {
    if (a == b) {
      scratch = PolicyChange{};
      return scratch;
    }
    PolicyChange& c = add(kind, ChangeEffect::neutral);
    c.from = c.to = std::string(what);
    return c;
  }

  // renewing gives `purpose` as the one purpose whose consents a widening outdates, when it rests
  // on consent in the new policy and existed in the old one (a purpose new in this version has
  // no earlier consents to outdate).
  std::vector<std::string> renewing(std::string_view purpose) const {
    const Purpose* now = to.purpose(purpose);
    if (!now || now->basis != Basis::consent || !from.purpose(purpose)) return {};
    return {std::string(purpose)};
  }

  void purpose_attribute(const Purpose& p, std::string_view what, std::string a, std::string b,
                         ChangeEffect effect) {
    if (a == b) return;
    PolicyChange& c = add(PolicyChangeKind::purpose_changed, effect);
    c.purpose = p.id;
    c.from = std::string(what) + " " + a;
    c.to = std::string(what) + " " + b;
  }

  void purposes() {
    for (const Purpose& p : to.purposes()) {
      const Purpose* old = from.purpose(p.id);
      if (!old) {
        add(PolicyChangeKind::purpose_added, ChangeEffect::neutral).purpose = p.id;
        continue;
      }
      ChangeEffect basis_effect = ChangeEffect::neutral;
      if (p.basis == Basis::consent && old->basis != Basis::consent) basis_effect = ChangeEffect::tightening;
      if (p.basis != Basis::consent && old->basis == Basis::consent) basis_effect = ChangeEffect::widening;
      purpose_attribute(p, "basis", std::string(to_string(old->basis)), std::string(to_string(p.basis)),
                        basis_effect);
      const FormOrder validity = retention_order(old->consent_valid_for, p.consent_valid_for);
      purpose_attribute(p, "consent_valid_for", duration_text(old->consent_valid_for),
                        duration_text(p.consent_valid_for),
                        validity == FormOrder::less ? ChangeEffect::widening : ChangeEffect::tightening);
      auto limit_text = [](const std::optional<ContactLimit>& l) {
        return l ? std::to_string(l->max) + "/" + l->per.to_string() : std::string("none");
      };
      purpose_attribute(p, "contact_limit", limit_text(old->contact_limit), limit_text(p.contact_limit),
                        ChangeEffect::neutral);
      purpose_attribute(p, "automated_decision", old->automated_decision ? "true" : "false",
                        p.automated_decision ? "true" : "false", ChangeEffect::neutral);
      auto budget_text = [](const std::optional<double>& b) {
        return b ? std::to_string(*b) : std::string("none");
      };
      purpose_attribute(p, "privacy_budget", budget_text(old->privacy_budget), budget_text(p.privacy_budget),
                        ChangeEffect::neutral);
      wording(PolicyChangeKind::purpose_changed, old->label, p.label, "label").purpose = p.id;
      wording(PolicyChangeKind::purpose_changed, old->description, p.description, "description").purpose =
          p.id;
    }
    for (const Purpose& p : from.purposes())
      if (!to.purpose(p.id)) add(PolicyChangeKind::purpose_removed, ChangeEffect::tightening).purpose = p.id;
  }

  void accessors() {
    for (const AccessorSpec& a : to.accessors()) {
      const AccessorSpec* old = from.accessor(a.id);
      if (!old) {
        PolicyChange& c = add(PolicyChangeKind::accessor_added, ChangeEffect::neutral);
        c.accessor = a.id;
        c.to = join(a.purposes);
        continue;
      }
      for (const std::string& p : a.purposes)
        if (!contains(old->purposes, p)) {
          PolicyChange& c = add(PolicyChangeKind::accessor_purpose_added, ChangeEffect::widening);
          c.accessor = a.id;
          c.purpose = p;
        }
      for (const std::string& p : old->purposes)
        if (!contains(a.purposes, p)) {
          PolicyChange& c = add(PolicyChangeKind::accessor_purpose_removed, ChangeEffect::tightening);
          c.accessor = a.id;
          c.purpose = p;
        }
      wording(PolicyChangeKind::accessor_changed, old->label, a.label, "label").accessor = a.id;
      wording(PolicyChangeKind::accessor_changed, old->description, a.description, "description").accessor =
          a.id;
    }
    for (const AccessorSpec& a : from.accessors())
      if (!to.accessor(a.id))
        add(PolicyChangeKind::accessor_removed, ChangeEffect::tightening).accessor = a.id;
  }

  void form_added(const FieldSpec& f, const std::string& purpose, const Form& form) {
    PolicyChange& c = add(PolicyChangeKind::form_added, ChangeEffect::widening);
    c.field = f.name;
    c.purpose = purpose;
    c.to = form.to_string();
    c.renew_consent = renewing(purpose);
  }

  void field_added(const FieldSpec& f) {
    PolicyChange& c = add(PolicyChangeKind::field_added, ChangeEffect::neutral);
    c.field = f.name;
    c.to = std::string(to_string(f.type));
    for (const auto& [purpose, form] : f.access) form_added(f, purpose, form);
  }

  void sources(const FieldSpec& old, const FieldSpec& f) {
    // An empty list accepts any source: "*" stands for it.
    const std::vector<std::string> any{"*"};
    const std::vector<std::string>& a = old.sources.empty() ? any : old.sources;
    const std::vector<std::string>& b = f.sources.empty() ? any : f.sources;
    // A list that accepts any source adds none of its own; one that accepted any removes none.
    for (const std::string& s : b)
      if (!contains(a, s) && !contains(a, "*")) {
        PolicyChange& c = add(PolicyChangeKind::source_added, ChangeEffect::widening);
        c.field = f.name;
        c.source = s;
      }
    for (const std::string& s : a)
      if (!contains(b, s) && !contains(b, "*")) {
        PolicyChange& c = add(PolicyChangeKind::source_removed, ChangeEffect::tightening);
        c.field = f.name;
        c.source = s;
      }
  }

  void field_changed(const FieldSpec& old, const FieldSpec& f) {
    if (old.type != f.type) {
      PolicyChange& c = add(PolicyChangeKind::field_type_changed, ChangeEffect::destructive);
      c.field = f.name;
      c.from = std::string(to_string(old.type));
      c.to = std::string(to_string(f.type));
    }
    auto attribute = [&](std::string_view what, const std::string& a, const std::string& b) {
      if (a == b) return;
      PolicyChange& c = add(PolicyChangeKind::field_changed, ChangeEffect::neutral);
      c.field = f.name;
      c.from = std::string(what) + " " + a;
      c.to = std::string(what) + " " + b;
    };
    attribute("category", old.category, f.category);
    attribute("derived_from", join(old.derived_from), join(f.derived_from));
    // Searching by a field is an access by purposes that already see it in some form.
    attribute("lookup", old.is_indexed() ? join(old.lookup) : "none",
              f.is_indexed() ? join(f.lookup) : "none");
    if (old.is_indexed() && f.is_indexed())
      attribute("lookup_bits", std::to_string(old.lookup_bits), std::to_string(f.lookup_bits));
    wording(PolicyChangeKind::field_changed, old.label, f.label, "label").field = f.name;
    wording(PolicyChangeKind::field_changed, old.description, f.description, "description").field = f.name;
    if (const FormOrder r = retention_order(old.retention, f.retention); r != FormOrder::same) {
      const bool longer = r == FormOrder::less;
      PolicyChange& c =
          add(longer ? PolicyChangeKind::retention_lengthened : PolicyChangeKind::retention_shortened,
              longer ? ChangeEffect::widening : ChangeEffect::tightening);
      c.field = f.name;
      c.from = duration_text(old.retention);
      c.to = duration_text(f.retention);
      if (longer)
        for (const auto& [purpose, form] : f.access)
          for (std::string& p : renewing(purpose)) c.renew_consent.push_back(std::move(p));
    }
    sources(old, f);
    for (const auto& [purpose, form] : f.access) {
      const Form* was = old.form_for(purpose);
      if (!was) {
        form_added(f, purpose, form);
        continue;
      }
      const FormOrder o = compare_forms(form, *was);
      if (o == FormOrder::same) {
        // Another spelling that reveals as much (redact to replace:TEXT): what the purpose sees
        // changes, what it learns does not.
        if (form == *was) continue;
        PolicyChange& c = add(PolicyChangeKind::form_changed, ChangeEffect::neutral);
        c.field = f.name;
        c.purpose = purpose;
        c.from = was->to_string();
        c.to = form.to_string();
        continue;
      }
      const bool tighter = o == FormOrder::less;
      PolicyChange& c = add(tighter ? PolicyChangeKind::form_tightened : PolicyChangeKind::form_widened,
                            tighter ? ChangeEffect::tightening : ChangeEffect::widening);
      c.field = f.name;
      c.purpose = purpose;
      c.from = was->to_string();
      c.to = form.to_string();
      if (!tighter) c.renew_consent = renewing(purpose);
    }
    for (const auto& [purpose, form] : old.access)
      if (!f.form_for(purpose)) {
        PolicyChange& c = add(PolicyChangeKind::form_removed, ChangeEffect::tightening);
        c.field = f.name;
        c.purpose = purpose;
        c.from = form.to_string();
      }
  }

  void fields() {
    for (const FieldSpec& f : to.fields()) {
      if (const FieldSpec* old = from.field(f.name))
        field_changed(*old, f);
      else
        field_added(f);
    }
    for (const FieldSpec& f : from.fields())
      if (!to.field(f.name)) {
        PolicyChange& c = add(PolicyChangeKind::field_removed, ChangeEffect::destructive);
        c.field = f.name;
        c.from = std::string(to_string(f.type));
      }
  }

  void controller() {
    if (from.controller().name != to.controller().name ||
        from.controller().contact != to.controller().contact)
      add(PolicyChangeKind::controller_changed, ChangeEffect::neutral);
  }

  // declared_sources compares the top-level "sources" lists: declaring, dropping or rewording a
  // source changes how it is named, not what a field accepts (the fields' own lists say that).
  void declared_sources() {
    for (const SourceSpec& s : to.sources()) {
      const SourceSpec* old = from.source(s.id);
      if (!old) {
        add(PolicyChangeKind::declared_source_added, ChangeEffect::neutral).source = s.id;
        continue;
      }
      wording(PolicyChangeKind::declared_source_changed, old->label, s.label, "label").source = s.id;
      wording(PolicyChangeKind::declared_source_changed, old->description, s.description, "description")
          .source = s.id;
    }
    for (const SourceSpec& s : from.sources())
      if (!to.source(s.id))
        add(PolicyChangeKind::declared_source_removed, ChangeEffect::neutral).source = s.id;
  }

  void default_language() {
    if (from.default_language() == to.default_language()) return;
    PolicyChange& c = add(PolicyChangeKind::default_language_changed, ChangeEffect::neutral);
    c.from = from.default_language();
    c.to = to.default_language();
  }

  // default_region reads phone numbers written from now on; those stored keep their E.164 form.
  void default_region() {
    if (from.default_region() == to.default_region()) return;
    PolicyChange& c = add(PolicyChangeKind::default_region_changed, ChangeEffect::neutral);
    c.from = from.default_region().empty() ? std::string("none") : from.default_region();
    c.to = to.default_region().empty() ? std::string("none") : to.default_region();
  }

  // signals maps the consent signals recorded from now on; the events already recorded stand.
  void signals() {
    const SignalMapping& a = from.signals();
    const SignalMapping& b = to.signals();
    const bool same_tcf =
        a.tcf.has_value() == b.tcf.has_value() &&
        (!a.tcf || (a.tcf->vendor_id == b.tcf->vendor_id && a.tcf->purposes == b.tcf->purposes));
    if (same_tcf && a.gpp_usnat == b.gpp_usnat && a.gpc == b.gpc) return;
    add(PolicyChangeKind::signals_changed, ChangeEffect::neutral);
  }
};

}  // namespace

FormOrder compare_forms(const Form& a, const Form& b) noexcept {
  if (a == b) return FormOrder::same;
  if (a.kind == b.kind) {
    switch (a.kind) {
      case FormKind::mask_last:
      case FormKind::mask_first:
      case FormKind::generalise_prefix: return order_of(a.n, b.n);
      case FormKind::generalise_bucket: return order_of(b.n, a.n);  // a wider bucket reveals less
      default: return FormOrder::same;
    }
  }
  if (a.kind == FormKind::clear) return FormOrder::more;
  if (b.kind == FormKind::clear) return FormOrder::less;
  if (reveals_nothing(a.kind) && reveals_nothing(b.kind)) return FormOrder::same;
  if (reveals_nothing(a.kind)) return FormOrder::less;
  if (reveals_nothing(b.kind)) return FormOrder::more;
  const int ra = date_rank(a.kind), rb = date_rank(b.kind);
  if (ra >= 0 && rb >= 0) return order_of(ra, rb);
  return FormOrder::incomparable;
}

std::string_view to_string(PolicyChangeKind k) noexcept {
  switch (k) {
    case PolicyChangeKind::controller_changed: return "controller_changed";
    case PolicyChangeKind::purpose_added: return "purpose_added";
    case PolicyChangeKind::purpose_removed: return "purpose_removed";
    case PolicyChangeKind::purpose_changed: return "purpose_changed";
    case PolicyChangeKind::accessor_added: return "accessor_added";
    case PolicyChangeKind::accessor_removed: return "accessor_removed";
    case PolicyChangeKind::accessor_purpose_added: return "accessor_purpose_added";
    case PolicyChangeKind::accessor_purpose_removed: return "accessor_purpose_removed";
    case PolicyChangeKind::accessor_changed: return "accessor_changed";
    case PolicyChangeKind::field_added: return "field_added";
    case PolicyChangeKind::field_removed: return "field_removed";
    case PolicyChangeKind::field_type_changed: return "field_type_changed";
    case PolicyChangeKind::field_changed: return "field_changed";
    case PolicyChangeKind::retention_shortened: return "retention_shortened";
    case PolicyChangeKind::retention_lengthened: return "retention_lengthened";
    case PolicyChangeKind::form_added: return "form_added";
    case PolicyChangeKind::form_removed: return "form_removed";
    case PolicyChangeKind::form_tightened: return "form_tightened";
    case PolicyChangeKind::form_widened: return "form_widened";
    case PolicyChangeKind::form_changed: return "form_changed";
    case PolicyChangeKind::source_added: return "source_added";
    case PolicyChangeKind::source_removed: return "source_removed";
    case PolicyChangeKind::declared_source_added: return "declared_source_added";
    case PolicyChangeKind::declared_source_removed: return "declared_source_removed";
    case PolicyChangeKind::declared_source_changed: return "declared_source_changed";
    case PolicyChangeKind::default_language_changed: return "default_language_changed";
    case PolicyChangeKind::default_region_changed: return "default_region_changed";
    case PolicyChangeKind::signals_changed: return "signals_changed";
  }
  return "field_changed";
}

std::string_view to_string(ChangeEffect e) noexcept {
  switch (e) {
    case ChangeEffect::neutral: return "neutral";
    case ChangeEffect::tightening: return "tightening";
    case ChangeEffect::widening: return "widening";
    case ChangeEffect::destructive: return "destructive";
  }
  return "neutral";
}

std::string PolicyChange::describe() const {
  std::string out;
  auto quoted = [](std::string_view what, const std::string& id) {
    return std::string(what) + " '" + id + "'";
  };
  if (!field.empty())
    out = quoted("field", field);
  else if (!accessor.empty())
    out = quoted("accessor", accessor);
  else if (!purpose.empty())
    out = quoted("purpose", purpose);
  else if (!source.empty())
    out = quoted("source", source);
  else if (kind == PolicyChangeKind::default_language_changed ||
           kind == PolicyChangeKind::default_region_changed || kind == PolicyChangeKind::signals_changed)
    out = "policy";
  else
    out = "controller";
  out += ": ";
  out += to_string(kind);
  if (!field.empty() && !purpose.empty()) out += " for purpose '" + purpose + "'";
  if (!accessor.empty() && !purpose.empty()) out += " '" + purpose + "'";
  if (!field.empty() && !source.empty()) out += " '" + source + "'";
  if (!from.empty() && !to.empty() && from != to)
    out += " (" + from + " -> " + to + ")";
  else if (!from.empty() && from == to)
    out += " (" + from + ")";  // what changed, e.g. "label"
  else if (!to.empty() && from.empty())
    out += " (" + to + ")";
  else if (!from.empty() && to.empty())
    out += " (was " + from + ")";
  out += " [" + std::string(to_string(effect)) + "]";
  if (!renew_consent.empty()) out += "; consent to renew: " + join(renew_consent);
  return out;
}

std::vector<std::string> PolicyDiff::consent_to_renew() const {
  std::vector<std::string> out;
  for (const PolicyChange& c : changes) out.insert(out.end(), c.renew_consent.begin(), c.renew_consent.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<const PolicyChange*> PolicyDiff::of_effect(ChangeEffect e) const {
  std::vector<const PolicyChange*> out;
  for (const PolicyChange& c : changes)
    if (c.effect == e) out.push_back(&c);
  return out;
}

PolicyDiff diff_policies(const Policy& from, const Policy& to) {
  Differ d{from, to, {}, {}};
  d.purposes();
  d.accessors();
  d.declared_sources();
  d.fields();
  d.controller();
  d.default_language();
  d.default_region();
  d.signals();
  return std::move(d.out);
}

}  // namespace consentry
