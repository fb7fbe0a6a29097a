// test_main.cpp: the doctest runner of consentry_tests. ctest runs each test case on its own
// with --test-case=<name>; a name that ctest's discovery mangles (a ';' splits it into a list)
// would select nothing and pass without running a single check. The runner therefore fails a
// run whose --test-case filter selects no test case.
//
// The behavioural suites run on every store (support/store_backends.hpp, support/each_store.hpp).
// The PostgreSQL run (CONSENTRY_TEST_STORES=postgres, ctest's `postgres.*` tests, on the fixture's
// cluster) runs only their PostgreSQL cases and the `postgres: ` ones; every other run leaves
// those out, so that it needs no server.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

#include "support/postgres_cluster.hpp"

namespace {

/// selected holds how many test cases passed the filters of this run.
unsigned selected = 0;

/// SelectionCounter is a listener that records the run's count of selected test cases.
struct SelectionCounter : doctest::IReporter {
  explicit SelectionCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("selection-counter", 1, SelectionCounter);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  if (consentry::test::postgres_run()) {
    context.addFilter("test-case-exclude", "*<MemoryBackend>,*<SqliteBackend>,sqlite: *,memory: *");
  } else {
    context.addFilter("test-case-exclude", "*<PostgresBackend>,postgres: *");
  }
  const int code = context.run();
  if (context.shouldExit()) return code;
  bool filtered = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    filtered = filtered || arg.starts_with("--test-case=") || arg.starts_with("-tc=") ||
               arg.starts_with("--source-file=") || arg.starts_with("-sf=");
  }
  if (code == 0 && filtered && selected == 0) {
    std::fprintf(stderr,
                 "test_main: the --test-case or --source-file filter selected no test case (is a ';' in its "
                 "name?)\n");
    return 1;
  }
  return code;
}
