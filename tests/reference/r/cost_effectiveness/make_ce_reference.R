# Reference values for ik.cea's acceptability curve, EVPI and Fieller interval, computed with base R
# (no dampack on Debian) on the first 2000 draws of dampack's `example_psa` (Chemo / Radio / Surgery).
# The EVPI follows the formula of dampack's own test (tests/testthat/test_evpi.R):
#   nmb <- wtp * effect - cost; evpi <- mean(max_j nmb) - max_j mean(nmb)
# The CEAC is the share of draws in which each strategy has the highest NMB (ties: the first strategy,
# max.col(ties.method = "first")); the frontier strategy has the highest mean NMB.
# Fieller (Willan & O'Brien 1996): roots of (E^2 - z^2 ve) R^2 - 2 (C E - z^2 vce) R + (C^2 - z^2 vc) = 0,
# variances of the means = var()/n.
#
# Draws: example_psa_draws.csv, made from dampack's data/example_psa.rda (GitHub DARTH-git/dampack) with
#   load("example_psa.rda"); n <- 2000
#   d <- data.frame(draw = rep(1:n, each = 3), strategy = rep(example_psa$strategies, n),
#                   cost = as.vector(t(as.matrix(example_psa$cost[1:n, ]))),
#                   effect = as.vector(t(as.matrix(example_psa$effectiveness[1:n, ]))))
#   write.csv(d, "example_psa_draws.csv", row.names = FALSE)
# Run from this folder: Rscript make_ce_reference.R   (writes ce_reference.json)
source("../json_writer.R")
d <- read.csv("example_psa_draws.csv")
strategies <- c("Chemo", "Radio", "Surgery")
C <- sapply(strategies, function(s) d$cost[d$strategy == s])
E <- sapply(strategies, function(s) d$effect[d$strategy == s])
wtp <- seq(1000, 141000, by = 10000)   # dampack's example_psa$wtp
ceac <- matrix(NA, length(wtp), 3); evpi <- numeric(length(wtp)); optimal <- character(length(wtp))
enmb <- matrix(NA, length(wtp), 3)
for (l in seq_along(wtp)) {
  nmb <- wtp[l] * E - C
  best <- max.col(nmb, ties.method = "first")
  ceac[l, ] <- tabulate(best, 3) / nrow(nmb)
  enmb[l, ] <- colMeans(nmb)
  optimal[l] <- strategies[which.max(colMeans(nmb))]
  evpi[l] <- mean(nmb[cbind(seq_len(nrow(nmb)), best)]) - max(colMeans(nmb))
}
fieller <- function(dc, de, level = 0.95) {
  n <- length(dc); c <- mean(dc); e <- mean(de)
  vc <- var(dc) / n; ve <- var(de) / n; vce <- cov(dc, de) / n
  z <- qnorm(0.5 + level / 2)
  a <- e^2 - z^2 * ve; b <- c * e - z^2 * vce; cc <- c^2 - z^2 * vc
  disc <- b^2 - a * cc
  list(icer = c / e, low = (b - sqrt(disc)) / a, high = (b + sqrt(disc)) / a, bounded = a > 0 && disc >= 0)
}
out <- list(
  source = "dampack example_psa (first 2000 draws); base R formulas as in dampack tests/testthat/test_evpi.R",
  strategies = strategies, wtp = wtp,
  ceac = lapply(seq_len(nrow(ceac)), function(i) ceac[i, ]),
  expected_nmb = lapply(seq_len(nrow(enmb)), function(i) enmb[i, ]),
  optimal = optimal, evpi = evpi,
  fieller_chemo_vs_radio = fieller(C[, "Chemo"] - C[, "Radio"], E[, "Chemo"] - E[, "Radio"]),
  fieller_surgery_vs_radio = fieller(C[, "Surgery"] - C[, "Radio"], E[, "Surgery"] - E[, "Radio"]),
  fieller_surgery_vs_radio_90 = fieller(C[, "Surgery"] - C[, "Radio"], E[, "Surgery"] - E[, "Radio"], 0.90)
)
writeLines(to_json(out), "ce_reference.json")
