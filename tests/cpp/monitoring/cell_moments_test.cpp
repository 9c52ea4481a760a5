// cell_moments: count, mean and variance (divisor n − 1) per cell against a direct two-pass computation
// in long double (rel 1e-13); NaN values skipped, rows with cell −1 ignored; a large offset (1e9 + N(0,1))
// keeps the variance accurate; the same bits for 1 and 2 threads; bad cell codes are refused; ±inf
// reported at its first row. round_cell_moments: the same numbers (bits) as cell_moments on the cells
// g / G + g built from the round masks; bad group codes and rows in both rounds refused.
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <impactkit/core/errors.hpp>
#include <impactkit/core/threads.hpp>
#include <impactkit/monitoring/cell_moments.hpp>

using namespace impactkit;

namespace {

struct data {
  std::vector<std::vector<double>> cols;
  std::vector<int> cell;
};

data make(Eigen::Index n, int cells, double offset, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_int_distribution<int> c(-1, cells - 1);
  data d;
  d.cols.assign(3, std::vector<double>(static_cast<std::size_t>(n)));
  d.cell.resize(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    d.cell[k] = c(rng);
    d.cols[0][k] = offset + z(rng);
    d.cols[1][k] = (z(rng) > 0.3) ? 1.0 : 0.0;
    d.cols[2][k] = (i % 7 == 3) ? std::nan("") : 5.0 * z(rng) + d.cell[k];
  }
  return d;
}

cell_moments_result run(const data& d, int cells) {
  std::vector<const double*> p;
  for (const auto& c : d.cols) p.push_back(c.data());
  return cell_moments(p, d.cell.data(), static_cast<Eigen::Index>(d.cell.size()), cells);
}

}  // namespace

TEST(CellMoments, EqualsDirectTwoPassInLongDouble) {
  const int cells = 6;
  const data d = make(200000, cells, 1e9, 7);
  const cell_moments_result r = run(d, cells);
  for (std::size_t j = 0; j < 3; ++j)
    for (int c = 0; c < cells; ++c) {
      long double n = 0, s = 0, ss = 0;
      for (std::size_t i = 0; i < d.cell.size(); ++i)
        if (d.cell[i] == c && std::isfinite(d.cols[j][i])) {
          n += 1;
          s += d.cols[j][i];
        }
      const long double m = s / n;
      for (std::size_t i = 0; i < d.cell.size(); ++i)
        if (d.cell[i] == c && std::isfinite(d.cols[j][i])) ss += (d.cols[j][i] - m) * (d.cols[j][i] - m);
      const auto jj = static_cast<Eigen::Index>(j);
      EXPECT_EQ(r.count(c, jj), static_cast<double>(n));
      EXPECT_NEAR(r.mean(c, jj), static_cast<double>(m), 1e-13 * std::fabs(static_cast<double>(m)) + 1e-15);
      const double v = static_cast<double>(ss / (n - 1));
      EXPECT_NEAR(r.variance(c, jj), v, 1e-9 * v) << "column " << j << " cell " << c;
    }
}

TEST(CellMoments, SameBitsForAnyThreadCount) {
  const data d = make(300000, 40, 3.0, 11);
  const int t0 = get_num_threads();
  set_num_threads(1);
  const cell_moments_result a = run(d, 40);
  set_num_threads(2);
  const cell_moments_result b = run(d, 40);
  set_num_threads(t0);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.variance, b.variance);
}

TEST(CellMoments, EmptyAndSingleValueCellsAndBadCodes) {
  data d;
  d.cols = {{1.0, 2.0, 4.0}};
  d.cell = {0, 0, 2};
  const cell_moments_result r = run(d, 3);
  EXPECT_EQ(r.count(1, 0), 0.0);
  EXPECT_TRUE(std::isnan(r.mean(1, 0)));
  EXPECT_EQ(r.mean(2, 0), 4.0);
  EXPECT_TRUE(std::isnan(r.variance(2, 0)));
  EXPECT_DOUBLE_EQ(r.variance(0, 0), 0.5);
  d.cell = {0, 3, 0};
  EXPECT_THROW(run(d, 3), invalid_input);
  d.cell = {0, -2, 0};
  EXPECT_THROW(run(d, 3), invalid_input);
  EXPECT_THROW(run(d, 0), invalid_input);
}

TEST(CellMoments, FirstInfiniteRowPerColumn) {
  data d = make(100000, 5, 0.0, 3);
  d.cols[1][70001] = -std::numeric_limits<double>::infinity();
  d.cols[1][90000] = std::numeric_limits<double>::infinity();
  d.cell[70001] = -1;  // reported in a row outside every cell too
  const cell_moments_result r = run(d, 5);
  ASSERT_EQ(r.first_infinite.size(), 3u);
  EXPECT_EQ(r.first_infinite[0], -1);
  EXPECT_EQ(r.first_infinite[1], 70001);
  EXPECT_EQ(r.first_infinite[2], -1);  // NaN is missing, not infinite
}

TEST(RoundCellMoments, SameBitsAsCellMomentsOnRoundCells) {
  const int G = 7;
  const Eigen::Index n = 150000;
  data d = make(n, G, 2.0, 5);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> round(0, 3), grp(0, G - 1);
  std::vector<int> group(static_cast<std::size_t>(n));
  std::unique_ptr<bool[]> base(new bool[static_cast<std::size_t>(n)]), end(new bool[static_cast<std::size_t>(n)]);
  for (std::size_t i = 0; i < group.size(); ++i) {
    const int r = round(rng);
    group[i] = grp(rng);
    base[i] = r == 0;
    end[i] = r == 3;
    d.cell[i] = base[i] ? group[i] : end[i] ? G + group[i] : -1;
  }
  std::vector<const double*> p;
  for (const auto& c : d.cols) p.push_back(c.data());
  const cell_moments_result a = cell_moments(p, d.cell.data(), n, 2 * G);
  const cell_moments_result b = round_cell_moments(p, group.data(), G, base.get(), end.get(), n);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.variance, b.variance);
  group[10] = G;
  base[10] = true;
  EXPECT_THROW(round_cell_moments(p, group.data(), G, base.get(), end.get(), n), invalid_input);
  group[10] = 0;
  end[10] = true;  // a row in both rounds
  EXPECT_THROW(round_cell_moments(p, group.data(), G, base.get(), end.get(), n), invalid_input);
  EXPECT_THROW(round_cell_moments(p, group.data(), 0, base.get(), end.get(), n), invalid_input);
}
