# Reference values for weighted quantile regression (impactkit::quantile_regression, ik.pmt method="quantile").
# Run from the repository root:
#     Rscript tests/reference/r/pmt/make_pmt_reference.R
# Writes tests/reference/r/pmt/pmt_data.csv (the simulated data) and pmt_reference.json.
#   - coefficients: quantreg rq(method = "br") (exact Barrodale-Roberts simplex), unweighted and weighted;
#   - standard errors: summary.rq(se = "ker") (Powell kernel sandwich, Hall-Sheather bandwidth);
#   - design-based SE: an independent linearisation in R survey: influence values
#     z_i = H^-1 x_i (tau - 1{e_i < 0}) (the interpolated rows, e = 0, count as not negative), H = sum_i w_i phi(e_i/h)/h x_i x_i' (h as summary.rq "ker" on the
#     unweighted residuals), V = vcov(svytotal(~z, design)) under a stratified two-stage cluster design;
#   - replicate-weight design (JK1): withReplicates() refitting rq per replicate.
suppressPackageStartupMessages({ library(quantreg); library(survey) })
source("tests/reference/r/json_writer.R")
set.seed(20261201)
n <- 600
strata <- rep(1:4, each = n / 4)
psu <- rep(1:60, each = n / 60)            # 15 PSUs per stratum, 10 rows each
x1 <- rnorm(n)
x2 <- runif(n, 0, 3)
x3 <- rlnorm(n, 0, 0.5)
region <- sample(c("north", "south", "east"), n, replace = TRUE)
u <- rnorm(n) * (0.5 + 0.3 * x2) + rnorm(60)[psu] * 0.3
y <- 1 + 0.5 * x1 - 0.3 * x2 + 0.8 * log(x3) + 0.4 * (region == "south") + u
w <- runif(n, 0.5, 3)
d <- data.frame(y = y, x1 = x1, x2 = x2, x3 = x3, region = region, w = w, strata = strata, psu = psu)
write.csv(d, "tests/reference/r/pmt/pmt_data.csv", row.names = FALSE)
d$region <- factor(d$region, levels = c("east", "north", "south"))
f <- y ~ x1 + x2 + log(x3) + region

one <- function(tau, weighted) {
  fit <- if (weighted) rq(f, tau = tau, data = d, weights = w, method = "br") else rq(f, tau = tau, data = d, method = "br")
  s <- summary(fit, se = "ker")
  list(tau = tau, weighted = weighted, terms = I(names(coef(fit))), coef = I(unname(coef(fit))),
       se_ker = I(unname(s$coefficients[, 2])), objective = sum((if (weighted) d$w else 1) * fit$residuals * (tau - (fit$residuals < 0))))
}
cases <- list(one(0.25, FALSE), one(0.5, FALSE), one(0.25, TRUE), one(0.4, TRUE))

# design-based variance by linearisation (independent of impactkit)
des <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, data = d)
design_case <- function(tau) {
  fit <- rq(f, tau = tau, data = d, weights = w, method = "br")
  X <- model.matrix(f, d)
  e <- fit$residuals
  hn <- bandwidth.rq(tau, n, hs = TRUE)
  while ((tau - hn < 0) || (tau + hn > 1)) hn <- hn / 2
  h <- (qnorm(tau + hn) - qnorm(tau - hn)) * min(sqrt(var(e)), (quantile(e, 0.75) - quantile(e, 0.25)) / 1.34)
  fk <- dnorm(e / h) / h
  H <- crossprod(X, X * (d$w * fk))
  neg <- e < -1e-9 * sd(d$y)  # the p interpolated rows have e = 0 up to rounding: not negative
  Z <- (X * (tau - neg)) %*% solve(H)
  colnames(Z) <- paste0("z", seq_len(ncol(Z)))
  for (j in seq_len(ncol(Z))) des$variables[[colnames(Z)[j]]] <- Z[, j]
  V <- vcov(svytotal(as.formula(paste("~", paste(colnames(Z), collapse = "+"))), des))
  list(tau = tau, coef = I(unname(coef(fit))), bandwidth = unname(h), se_design = I(unname(sqrt(diag(V)))),
       df = degf(des))
}
# replicate-weight design: JK1 deleting each of PSUs 1..20 (weights w * 20/19 elsewhere), scale 19/20;
# quantile regression refitted per replicate (rows with zero replicate weight left out)
replicate_case <- function(tau) {
  rw <- sapply(1:20, function(k) ifelse(d$psu == k, 0, d$w * 20 / 19))
  rd <- svrepdesign(data = d, repweights = rw, weights = ~w, type = "JK1", combined.weights = TRUE, scale = 19 / 20)
  est <- withReplicates(rd, function(wts, data) {
    keep <- wts > 0
    coef(rq(y ~ x1 + x2, tau = tau, data = data[keep, ], weights = wts[keep], method = "br"))
  })
  list(tau = tau, formula = "y ~ x1 + x2", coef = I(unname(coef(est))), se = I(unname(SE(est))))
}
out <- list(
  software = paste("R", getRversion(), "quantreg", packageVersion("quantreg"), "survey", packageVersion("survey")),
  formula = "y ~ x1 + x2 + log(x3) + C(region)", n = n, cases = cases,
  design = list(design_case(0.3)), replicate = list(replicate_case(0.4)))
writeLines(to_json(out), "tests/reference/r/pmt/pmt_reference.json")

# the same coefficients and kernel SEs as a flat CSV for the C++ test (tests/cpp/pmt/quantile_regression_test.cpp)
flat <- do.call(rbind, lapply(seq_along(cases), function(k) {
  c <- cases[[k]]
  data.frame(case = k - 1, tau = c$tau, weighted = as.integer(c$weighted), term = seq_along(c$coef) - 1,
             coef = sprintf("%.17g", c$coef), se_ker = sprintf("%.17g", c$se_ker))
}))
write.csv(flat, "tests/reference/r/pmt/pmt_reference_flat.csv", row.names = FALSE, quote = FALSE)
