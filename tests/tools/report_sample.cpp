// report_sample.cpp: prints a render of the sample report for the Python tests and for a look by
// eye: consentry_report_sample
// [json|html|json-labelled|html-labelled|csv|json-empty|json-novalues|staff-text|staff-json|inventory-text]
// (json when no argument).
#include "support/report_sample.hpp"

#include <cstdio>
#include <iostream>
#include <string_view>

#include "consentry/report.hpp"

int main(int argc, char** argv) {
  const std::string_view what = argc > 1 ? argv[1] : "json";
  consentry::SubjectReport report = consentry::test::sample_report();
  if (what == "json") {
    std::cout << consentry::export_json(report);
  } else if (what == "html") {
    std::cout << consentry::export_html(report);
  } else if (what == "json-labelled") {
    std::cout << consentry::export_json(consentry::test::labelled_report());
  } else if (what == "html-labelled") {
    std::cout << consentry::export_html(consentry::test::labelled_report());
  } else if (what == "csv") {
    std::cout << consentry::export_csv(report);
  } else if (what == "json-empty") {
    consentry::SubjectReport empty;
    empty.customer = "C-0";
    empty.generated_at = report.generated_at;
    empty.with_values = true;
    empty.controller = {"Acme Retail Ltd", ""};
    std::cout << consentry::export_json(empty);
  } else if (what == "json-novalues") {
    report.with_values = false;
    std::cout << consentry::export_json(report);
  } else if (what == "staff-text") {
    std::cout << consentry::staff_audit_text(report);
  } else if (what == "staff-json") {
    std::cout << consentry::staff_audit_json(report);
  } else if (what == "inventory-text") {
    std::cout << consentry::inventory_text(consentry::test::sample_inventory());
  } else {
    std::cerr << "usage: consentry_report_sample "
                 "[json|html|json-labelled|html-labelled|csv|json-empty|json-novalues|staff-text|staff-json|"
                 "inventory-text]\n";
    return 2;
  }
  return std::cout.good() ? 0 : 1;
}
