#pragma once
// Reading the stored reference data of tests/reference (CSV with a header row, no quoted commas;
// surrounding double quotes, as R's write.csv puts around strings, are removed).
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace impactkit::test {

inline std::string unquote(std::string s) {
  if (!s.empty() && s.back() == '\r') s.pop_back();
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

/// Columns of a CSV file by name (empty map if the file cannot be read).
inline std::map<std::string, std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::vector<std::string>> out;
  std::string line;
  if (!std::getline(in, line)) return out;
  std::vector<std::string> names;
  std::stringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) names.push_back(unquote(cell));
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::size_t j = 0;
    for (std::string cell; std::getline(row, cell, ',') && j < names.size(); ++j) out[names[j]].push_back(unquote(cell));
  }
  return out;
}

/// A numeric column as a vector.
inline Eigen::VectorXd numeric_column(const std::vector<std::string>& cells) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(cells.size()));
  for (std::size_t i = 0; i < cells.size(); ++i) v(static_cast<Eigen::Index>(i)) = std::stod(cells[i]);
  return v;
}

}  // namespace impactkit::test
