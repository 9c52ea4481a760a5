# Reference values for ik.cea's acceptability curve, acceptability frontier and EVPI from dampack's OWN
# functions (not a re-implementation): `make_psa_obj` (with its helper `create_sa`), `ceac` and `calc_evpi` of the R package dampack
# (GitHub DARTH-git/dampack, GPL-3, commit 0430fee), sourced from a checkout of its R/ folder because
# dampack is not packaged for Debian. Needs r-cran-tidyr (ceac() reshapes with tidyr::pivot_longer).
# Data: the same first 2000 draws of dampack's `example_psa` as make_ce_reference.R (example_psa_draws.csv).
# dampack's ceac() and calc_evpi() pick the best strategy per draw with max.col(), whose default
# ties.method = "random" treats entries within a relative 1e-5 of the row's largest |entry| as tied and picks
# one at random. impactkit picks the exact maximum. The script fixes the seed and stores, per WTP, the number
# of such near-tied draws: the tests allow the acceptability proportions to differ by at most that count / n
# (and are exact at every WTP without near ties).
#
# Run from this folder:  Rscript make_dampack_reference.R /path/to/dampack   (writes dampack_reference.json)
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript make_dampack_reference.R /path/to/dampack/checkout")
for (f in c("create_sa.R", "psa.R", "calculate_outcome.R", "ceac.R", "evpi.R")) source(file.path(args[1], "R", f))
source("../json_writer.R")
d <- read.csv("example_psa_draws.csv")
strategies <- c("Chemo", "Radio", "Surgery")
C <- as.data.frame(sapply(strategies, function(s) d$cost[d$strategy == s]))
E <- as.data.frame(sapply(strategies, function(s) d$effect[d$strategy == s]))
wtp <- seq(1000, 141000, by = 10000)   # dampack's example_psa$wtp
psa <- make_psa_obj(cost = C, effectiveness = E, strategies = strategies)
near_ties <- sapply(wtp, function(w) {
  nmb <- w * as.matrix(E) - as.matrix(C)
  sum(apply(nmb, 1, function(r) sum(r >= max(r) - 1e-5 * max(abs(r))) > 1))
})
set.seed(20261201)
ac <- ceac(wtp, psa)
ev <- calc_evpi(psa, wtp)
ac <- ac[order(ac$WTP, as.character(ac$Strategy)), ]
out <- list(
  source = "dampack 0430fee: make_psa_obj(), ceac(wtp, psa), calc_evpi(psa, wtp) on the first 2000 draws of example_psa",
  strategies = strategies, wtp = wtp,
  ceac_wtp = ac$WTP, ceac_strategy = as.character(ac$Strategy), ceac_proportion = ac$Proportion,
  ceac_on_frontier = ac$On_Frontier,
  evpi = ev$EVPI, near_ties = near_ties
)
writeLines(to_json(out), "dampack_reference.json")
