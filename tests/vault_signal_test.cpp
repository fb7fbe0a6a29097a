// vault_signal_test.cpp: Vault::record_signal, consent as a website or app sends it (a TC string,
// a GPP string, Global Privacy Control) turned into ordinary ledger events through the policy's
// "signals" mapping, on every store.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "consentry/signals/gpp_string.hpp"
#include "consentry/signals/tcf_string.hpp"
#include "consentry/vault.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/raw_sql.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::must;
using signals::SignalKind;
using signals::SignalVerdict;

namespace {

constexpr int kVendor = 755;
constexpr std::chrono::seconds kDay{86400};

/// signal_policy is the retail policy with a "signals" mapping: marketing.email needs TCF
/// purposes 1 and 4, profiling 1, 3 and 4; a sale opt-out or GPC takes marketing back, a
/// targeted-advertising opt-out marketing and analytics.
Policy signal_policy() {
  std::string text(test::kRetailPolicy);
  const std::string signals_json = R"(,
  "signals": {
    "tcf": {"vendor_id": 755, "purposes": {"marketing.email": [1, 4], "profiling": [1, 3, 4]}},
    "gpp_usnat": {"sale_opt_out": ["marketing"], "targeted_advertising_opt_out": ["marketing", "analytics"]},
    "gpc": ["marketing", "analytics"]
  }
})";
  text.replace(text.rfind('}'), 1, signals_json);
  auto p = Policy::parse(text, "signal policy");
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  return std::move(*p);
}

/// tc_string encodes a TC string made at `made` by CMP 31 that consents to `purposes` and, when
/// `vendor` is set, to the controller's vendor.
std::string tc_string(timestamp made, std::set<int> purposes, bool vendor = true) {
  signals::TcString tc;
  tc.created_ds = made.time_since_epoch().count() * 10;
  tc.last_updated_ds = tc.created_ds;
  tc.cmp_id = 31;
  tc.cmp_version = 2;
  tc.vendor_list_version = 150;
  tc.purpose_consents = std::move(purposes);
  if (vendor) tc.vendor_consents = {12, kVendor, 900};
  auto s = signals::encode_tc_string(tc);
  REQUIRE_MESSAGE(s.ok(), s.err().message);
  return *s;
}

/// emails_readable is whether the newsletter tool may read C-1's email for marketing by email.
bool emails_readable(const Vault& v) {
  auto a = must(v.accessor("email-campaigns"));
  auto got = a.read("C-1", "marketing.email", {"email"});
  return got.ok() && got->front().ok();
}

const SignalOutcome& outcome(const SignalReport& r, std::string_view purpose) {
  for (const SignalOutcome& o : r.purposes)
    if (o.purpose == purpose) return o;
  FAIL("no outcome for " << purpose);
  return r.purposes.front();
}

}  // namespace

TEST_CASE("a TC string grants what it consents to and withdraws it when a later one does not") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  must(v.put("C-1", "email", "ann@example.com"));
  CHECK_FALSE(emails_readable(v));
  const timestamp now = clock.fn()();
  const std::size_t recorded_before = test::count_action(v, AuditAction::consent_recorded);

  auto first = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - kDay, {1, 2, 4})));
  CHECK(first.signal.kind == "tcf");
  CHECK(first.signal.cmp_id == 31);
  CHECK(first.signal.created == now - kDay);
  REQUIRE(first.purposes.size() == 2);
  const SignalOutcome& email = outcome(first, "marketing.email");
  CHECK(email.verdict == SignalVerdict::granted);
  REQUIRE(email.recorded.has_value());
  CHECK(email.recorded->action == ConsentAction::grant);
  CHECK(email.recorded->expires_at.has_value());  // the purpose's consent_valid_for still applies
  // Purpose 3 is missing: profiling is refused, and having no grant, nothing is recorded.
  const SignalOutcome& profiling = outcome(first, "profiling");
  CHECK(profiling.verdict == SignalVerdict::refused);
  CHECK_FALSE(profiling.recorded.has_value());
  CHECK(profiling.kept == "unchanged");
  CHECK(emails_readable(v));
  CHECK(test::count_action(v, AuditAction::consent_recorded) == recorded_before + 1);

  // The ledger names the signal.
  auto history = must(v.consent_history("C-1"));
  REQUIRE(history.size() == 1);
  REQUIRE(history[0].signal.has_value());
  CHECK(*history[0].signal == first.signal);
  CHECK(history[0].channel.empty());

  // The same string again changes nothing.
  auto again = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - kDay, {1, 2, 4})));
  CHECK(outcome(again, "marketing.email").kept == "unchanged");
  CHECK(must(v.consent_history("C-1")).size() == 1);

  // A later string without purpose 4 withdraws, and the very next read is denied.
  clock.advance(std::chrono::seconds(60));
  ConsentDetails web;
  web.channel = "web";
  auto later = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now, {1, 2}), web));
  const SignalOutcome& withdrawn = outcome(later, "marketing.email");
  CHECK(withdrawn.verdict == SignalVerdict::refused);
  REQUIRE(withdrawn.recorded.has_value());
  CHECK(withdrawn.recorded->action == ConsentAction::withdraw);
  CHECK(withdrawn.recorded->channel == "web");
  CHECK_FALSE(emails_readable(v));

  // A string that consents to every purpose but not to the controller's vendor grants nothing.
  auto no_vendor = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now, {1, 2, 3, 4}, false)));
  CHECK(outcome(no_vendor, "marketing.email").verdict == SignalVerdict::refused);
  CHECK(outcome(no_vendor, "profiling").verdict == SignalVerdict::refused);
  CHECK(must(v.consent_history("C-1")).size() == 2);
}

TEST_CASE("a signal older than a purpose's latest event leaves the purpose alone") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  const timestamp now = clock.fn()();
  must(v.put("C-1", "email", "ann@example.com"));
  // Withdrawn by phone now; a string made yesterday, arriving late, grants nothing.
  must(v.record_consent("C-1", "marketing.email", ConsentAction::withdraw));
  auto stale = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - kDay, {1, 3, 4})));
  CHECK(outcome(stale, "marketing.email").verdict == SignalVerdict::granted);
  CHECK(outcome(stale, "marketing.email").kept == "older");
  CHECK_FALSE(outcome(stale, "marketing.email").recorded.has_value());
  // profiling had no event: the same string grants it.
  REQUIRE(outcome(stale, "profiling").recorded.has_value());
  CHECK(outcome(stale, "profiling").recorded->action == ConsentAction::grant);
  CHECK_FALSE(emails_readable(v));

  // Strings are compared by when they were made: one made the same instant as the last string
  // decides (a CMP that rounds Created to the day issues many such), an earlier one does not.
  auto same_time = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - kDay, {1})));
  CHECK(outcome(same_time, "profiling").recorded->action == ConsentAction::withdraw);
  auto earlier = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - 2 * kDay, {1, 3, 4})));
  CHECK(outcome(earlier, "profiling").kept == "older");
}

TEST_CASE("a publisher restriction against the controller's vendor keeps a purpose from being granted") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  const timestamp now = clock.fn()();
  for (auto type :
       {signals::RestrictionType::not_allowed, signals::RestrictionType::require_legitimate_interest,
        signals::RestrictionType::require_consent}) {
    signals::TcString tc;
    tc.created_ds = (now - kDay).time_since_epoch().count() * 10;
    tc.last_updated_ds = tc.created_ds;
    tc.cmp_id = 31;
    tc.purpose_consents = {1, 3, 4};
    tc.vendor_consents = {kVendor};
    tc.publisher_restrictions = {{4, type, {kVendor}}};
    const std::string customer = "C-" + std::to_string(static_cast<int>(type));
    auto r = must(v.record_signal(customer, SignalKind::tcf, must(signals::encode_tc_string(tc))));
    const SignalVerdict expected =
        type == signals::RestrictionType::require_consent ? SignalVerdict::granted : SignalVerdict::refused;
    CHECK(outcome(r, "marketing.email").verdict == expected);
  }
}

TEST_CASE("Global Privacy Control withdraws consent and objects to legitimate interest, once") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.record_consent("C-1", "marketing", ConsentAction::grant));
  auto bi = must(v.accessor("bi-dashboard"));
  CHECK(bi.read("C-1", "analytics", {"email"})->front().ok());

  clock.advance(std::chrono::seconds(5));
  auto gpc = must(v.record_signal("C-1", SignalKind::gpc, "1"));
  CHECK(gpc.signal.kind == "gpc");
  CHECK(gpc.signal.cmp_id == 0);
  CHECK(gpc.signal.created == clock.fn()());
  REQUIRE(outcome(gpc, "marketing").recorded.has_value());
  CHECK(outcome(gpc, "marketing").recorded->action == ConsentAction::withdraw);
  REQUIRE(outcome(gpc, "analytics").recorded.has_value());
  CHECK(outcome(gpc, "analytics").recorded->action == ConsentAction::object);
  auto denied = bi.read("C-1", "analytics", {"email"});
  CHECK((!denied.ok() || !denied->front().ok()));

  auto again = must(v.record_signal("C-1", SignalKind::gpc, ""));
  CHECK(outcome(again, "marketing").kept == "unchanged");
  CHECK(outcome(again, "analytics").kept == "unchanged");
  CHECK(must(v.consent_history("C-1")).size() == 3);

  auto bad = v.record_signal("C-1", SignalKind::gpc, "0");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
}

TEST_CASE("a GPP string's TCF section grants and its usnat opt-outs take back, in one transaction") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  const timestamp now = clock.fn()();
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.record_consent("C-1", "marketing", ConsentAction::grant));
  clock.advance(std::chrono::seconds(5));

  signals::GppString gpp;
  signals::GppSection eu;
  eu.id = signals::kGppTcfEuSection;
  eu.tcf_eu = must(signals::decode_tc_string(tc_string(now, {1, 4})));
  signals::GppSection us;
  us.id = signals::kGppUsNatSection;
  signals::UsNat usnat;
  usnat.sale_opt_out_notice = 1;
  usnat.sale_opt_out = 1;                  // opted out of sale
  usnat.targeted_advertising_opt_out = 2;  // did not opt out
  usnat.sensitive_data_processing.assign(12, 0);
  usnat.known_child_sensitive_data_consents.assign(2, 0);
  usnat.mspa_covered_transaction = 2;  // not a transaction the MSPA covers
  us.us_national = usnat;
  gpp.sections = {eu, us};
  auto r = must(v.record_signal("C-1", SignalKind::gpp, must(signals::encode_gpp_string(gpp))));
  CHECK(r.signal.kind == "gpp");
  CHECK(r.signal.cmp_id == 31);
  CHECK(outcome(r, "marketing.email").recorded->action == ConsentAction::grant);
  CHECK(outcome(r, "marketing").recorded->action == ConsentAction::withdraw);
  // analytics's opt-out was not made: no verdict for it.
  for (const SignalOutcome& o : r.purposes) CHECK(o.purpose != "analytics");
  const auto history = must(v.consent_history("C-1"));
  REQUIRE(history.size() == 3);
  CHECK(history[1].signal == history[2].signal);
}

TEST_CASE("a malformed or unmapped signal is refused and changes nothing") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  must(v.put("C-1", "email", "ann@example.com"));
  const std::size_t audit_before = test::count_action(v, AuditAction::consent_recorded);
  const std::string good = tc_string(clock.fn()(), {1, 3, 4});
  for (const std::string& bad : {std::string("not a tc string!"), good.substr(0, 20), std::string(""),
                                 std::string("B") + good.substr(1)}) {
    INFO(bad);
    auto r = v.record_signal("C-1", SignalKind::tcf, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find("TC string") != std::string::npos);
  }
  // A header naming one section (2), followed by two.
  auto gpp = v.record_signal("C-1", SignalKind::gpp, "DBABMA~" + good + "~" + good);
  CHECK_FALSE(gpp.ok());
  CHECK(must(v.consent_history("C-1")).empty());
  CHECK(test::count_action(v, AuditAction::consent_recorded) == audit_before);

  // Under a policy without "signals", every signal is refused, naming the mapping it lacks.
  test::TempDir other_dir;
  Vault plain = test::on_each_store(other_dir, test::retail_policy(), test::kTestPassphrase,
                                    test::test_vault_options(clock));
  auto unmapped = plain.record_signal("C-1", SignalKind::tcf, good);
  REQUIRE_FALSE(unmapped.ok());
  CHECK(unmapped.err().code == errc::bad_input);
  CHECK(unmapped.err().message.find("\"tcf\"") != std::string::npos);
  auto unmapped_gpc = plain.record_signal("C-1", SignalKind::gpc, "1");
  REQUIRE_FALSE(unmapped_gpc.ok());
  CHECK(unmapped_gpc.err().message.find("\"gpc\"") != std::string::npos);
  CHECK_FALSE(must(plain.contains("C-1")));
}

TEST_CASE(
    "a signal that withdraws profiling takes the inferred values with it, and an erased customer is "
    "refused") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  const timestamp now = clock.fn()();
  must(v.record_signal("C-1", SignalKind::tcf, tc_string(now - kDay, {1, 3, 4})));
  must(v.put("C-1", "expecting_child", "true"));
  auto r = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now, {1, 4})));
  CHECK(outcome(r, "profiling").recorded->action == ConsentAction::withdraw);
  // The purge entry is written only when inferred values were deleted.
  CHECK(test::count_action(v, AuditAction::purge) == 1);

  must(v.erase("C-1"));
  auto gone = v.record_signal("C-1", SignalKind::tcf, tc_string(now, {1, 3, 4}));
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::erased);
  ConsentDetails known_only;
  known_only.require_known = true;
  auto unknown = v.record_signal("C-404", SignalKind::gpc, "1", known_only);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().code == errc::not_found);
}

TEST_CASE("an SQLite vault from before signals gains the column on open, and a malformed signal is refused") {
  test::TempDir dir;
  const auto file = dir.path() / "crm.vault";
  {
    auto v = must(Vault::create(file, signal_policy(), test::kTestPassphrase, test::test_vault_options()));
    must(v.record_consent("C-1", "marketing", ConsentAction::grant));
  }
  test::execute_sql(file, "ALTER TABLE consent_events DROP COLUMN signal");
  {
    auto v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
    auto history = must(v.consent_history("C-1"));
    REQUIRE(history.size() == 1);
    CHECK_FALSE(history[0].signal.has_value());
    must(v.record_signal("C-1", SignalKind::gpc, "1"));  // withdraws marketing, objects to analytics
    history = must(v.consent_history("C-1"));
    REQUIRE(history.size() == 3);
    CHECK(history[1].signal->kind == "gpc");
    CHECK(history[2].signal->kind == "gpc");
  }
  // The ledger is append-only; an administrator's change behind the vault is read as damage.
  REQUIRE(test::execute_sql(file,
                            "DROP TRIGGER consent_events_no_update; "
                            "UPDATE consent_events SET signal = 'tcf x 1' WHERE seq = 2") == 1);
  auto v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
  auto damaged = v.consent_history("C-1");
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.err().code == errc::integrity);
}

TEST_CASE("a policy update that adds the signals mapping applies to the next signal") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v =
      test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  must(v.record_consent("C-1", "marketing", ConsentAction::grant));
  CHECK(v.record_signal("C-1", SignalKind::gpc, "1").err().code == errc::bad_input);
  const PolicyUpdate update = must(v.update_policy(signal_policy()));
  REQUIRE(update.diff.changes.size() == 1);
  CHECK(update.diff.changes[0].kind == PolicyChangeKind::signals_changed);
  auto r = must(v.record_signal("C-1", SignalKind::gpc, "1"));
  CHECK(outcome(r, "marketing").recorded->action == ConsentAction::withdraw);
  CHECK(outcome(r, "marketing").recorded->policy_version == 2);
}

TEST_CASE("a TC string dated after its arrival is taken as made on arrival") {
  test::TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, signal_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  const timestamp now = clock.fn()();
  auto ahead = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now + 30 * kDay, {1, 4})));
  CHECK(ahead.signal.created == now);
  REQUIRE(outcome(ahead, "marketing.email").recorded.has_value());
  CHECK(outcome(ahead, "marketing.email").recorded->signal->created == now);
  // So a string made a little later still decides.
  clock.advance(std::chrono::seconds(3600));
  auto later = must(v.record_signal("C-1", SignalKind::tcf, tc_string(now + std::chrono::seconds(60), {1})));
  REQUIRE(outcome(later, "marketing.email").recorded.has_value());
  CHECK(outcome(later, "marketing.email").recorded->action == ConsentAction::withdraw);
}
