// Out-of-line definitions for impactkit/core/variance_conventions.hpp (the compiled part of impactkit::impactkit).
#include <impactkit/core/variance_conventions.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit {

const char* lonely_psu_name(lonely_psu_rule r) {
  switch (r) {
    case lonely_psu_rule::fail: return "fail";
    case lonely_psu_rule::remove: return "remove";
    case lonely_psu_rule::certainty: return "certainty";
    case lonely_psu_rule::average: return "average";
    case lonely_psu_rule::adjust: return "adjust";
  }
  return "?";
}

lonely_psu_rule parse_lonely_psu(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (lonely_psu_rule r : {lonely_psu_rule::fail, lonely_psu_rule::remove, lonely_psu_rule::certainty, lonely_psu_rule::average,
                            lonely_psu_rule::adjust})
    if (s == lonely_psu_name(r)) return r;
  detail::throw_invalid("parse_lonely_psu", "unknown lonely_psu rule '" + s + "'; use fail, remove, certainty, average or adjust");
}

const char* replicate_method_name(replicate_method m) {
  switch (m) {
    case replicate_method::jk1: return "JK1";
    case replicate_method::jkn: return "JKn";
    case replicate_method::brr: return "BRR";
    case replicate_method::fay: return "Fay";
    case replicate_method::bootstrap: return "bootstrap";
    case replicate_method::other: return "other";
  }
  return "?";
}

replicate_method parse_replicate_method(std::string s) {
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "JK1") return replicate_method::jk1;
  if (u == "JKN") return replicate_method::jkn;
  if (u == "BRR") return replicate_method::brr;
  if (u == "FAY") return replicate_method::fay;
  if (u == "BOOTSTRAP") return replicate_method::bootstrap;
  if (u == "OTHER") return replicate_method::other;
  detail::throw_invalid("parse_replicate_method", "unknown replicate type '" + s + "'; use JK1, JKn, BRR, Fay, bootstrap or other");
}

}  // namespace impactkit
