# Reference values for ik.targeting: every targeting metric is a smooth function of design-weighted
# totals, so R survey's svytotal (per domain with svyby, covmat = TRUE) followed by svycontrast gives
# the linearised estimate and SE the metric must equal. Quintile groups by laeken::weightedQuantile.
# Run from the repository root: Rscript tests/reference/r/targeting/make_targeting_reference.R
# (Debian: r-cran-survey r-cran-laeken). Writes targeting_data.csv, targeting_repweights.csv and
# targeting_reference.json next to this file.
suppressMessages({library(survey); library(laeken)})
out_dir <- file.path("tests", "reference", "r", "targeting")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
set.seed(20261201)
n_str <- 6
rows <- list()
for (h in 1:n_str) {
  n_psu <- 3 + h %% 3
  for (j in 1:n_psu) {
    m <- 12 + (h * j) %% 9
    rows[[length(rows) + 1]] <- data.frame(stratum = h, psu = j, fpc = 10 + 2 * h, w = 40 + 5 * h + j)
    rows[[length(rows)]] <- rows[[length(rows)]][rep(1, m), ]
  }
}
d <- do.call(rbind, rows)
n <- nrow(d)
d$sex <- sample(c("F", "M"), n, replace = TRUE)
d$age_band <- sample(c("child", "adult", "elderly"), n, replace = TRUE, prob = c(.4, .45, .15))
d$welfare <- round(exp(rnorm(n, 3 + 0.08 * d$stratum, 0.6)), 2)
d$beneficiary <- as.integer(runif(n) < plogis(2.2 - 0.09 * d$welfare))
d$benefit <- ifelse(d$beneficiary == 1, round(runif(n, 5, 15), 2), 0)
d$eligible <- as.integer(d$welfare < 22 | runif(n) < 0.05)
d$w <- d$w * (1 + (seq_len(n) %% 7) / 10)
z <- 20
cuts <- weightedQuantile(d$welfare, d$w, probs = c(.2, .4, .6, .8))
d$quintile <- findInterval(d$welfare, cuts, left.open = TRUE) + 1   # y <= cut -> lower group
write.csv(d, file.path(out_dir, "targeting_data.csv"), row.names = FALSE)

base_vars <- function(d, T, z) {
  b <- d$benefit; B <- d$beneficiary; y <- d$welfare
  out <- data.frame(one = 1, T = T, B = B, TB = T * B, b = b, Tb = T * b,
                    gap0 = pmax(z - y, 0), gap1 = pmax(z - y - b, 0), By = B * y)
  for (g in 1:5) {
    ig <- as.numeric(d$quintile == g)
    out[[paste0("g", g)]] <- ig; out[[paste0("Bg", g)]] <- B * ig; out[[paste0("bg", g)]] <- b * ig
  }
  out
}
metric_exprs <- function(p) {  # p(name) -> the coefficient name of a total
  e <- function(s) parse(text = s)[[1]]
  P <- function(v) paste0("`", p(v), "`")
  out <- list(
    target_share = e(sprintf("%s/%s", P("T"), P("one"))),
    programme_coverage = e(sprintf("%s/%s", P("B"), P("one"))),
    coverage = e(sprintf("%s/%s", P("TB"), P("T"))),
    exclusion_error = e(sprintf("(%s-%s)/%s", P("T"), P("TB"), P("T"))),
    inclusion_error_beneficiaries = e(sprintf("(%s-%s)/%s", P("B"), P("TB"), P("B"))),
    inclusion_error_nontarget = e(sprintf("(%s-%s)/(%s-%s)", P("B"), P("TB"), P("one"), P("T"))),
    targeting_differential = e(sprintf("%s/%s-(%s-%s)/(%s-%s)", P("TB"), P("T"), P("B"), P("TB"), P("one"), P("T"))),
    cgh = e(sprintf("(%s/%s)/(%s/%s)", P("Tb"), P("b"), P("T"), P("one"))),
    leakage_amount = e(sprintf("%s-%s", P("b"), P("Tb"))),
    undercoverage = e(sprintf("%s-%s", P("T"), P("TB"))),
    adequacy = e(sprintf("%s/%s", P("b"), P("By"))),
    poverty_gap_reduction_per_budget = e(sprintf("(%s-%s)/%s", P("gap0"), P("gap1"), P("b"))))
  for (g in 1:5) {
    out[[sprintf("beneficiary_incidence[Q%d]", g)]] <- e(sprintf("%s/%s", P(paste0("Bg", g)), P("B")))
    out[[sprintf("benefit_incidence[Q%d]", g)]] <- e(sprintf("%s/%s", P(paste0("bg", g)), P("b")))
    out[[sprintf("group_coverage[Q%d]", g)]] <- e(sprintf("%s/%s", P(paste0("Bg", g)), P(paste0("g", g))))
  }
  out
}
fml <- as.formula(paste("~", paste(names(base_vars(d, d$eligible, z)), collapse = "+")))
as_list <- function(con) { v <- coef(con); s <- sqrt(diag(vcov(con))); list(names = names(v), estimate = unname(v), se = unname(s)) }

cases <- list()
run_case <- function(label, design_fn, T, by = NULL, lonely = "fail") {
  options(survey.lonely.psu = lonely)
  dd <- cbind(d, base_vars(d, T, z))
  des <- design_fn(dd)
  if (is.null(by)) {
    tot <- svytotal(fml, des)
    con <- svycontrast(tot, metric_exprs(function(v) v))
    res <- as_list(con)
  } else {
    tot <- svyby(fml, as.formula(paste0("~", by)), des, svytotal, covmat = TRUE)
    lev <- rownames(tot)
    res <- list(names = c(), estimate = c(), se = c(), vcov = NULL)
    exprs <- list()
    for (l in lev) {
      ex <- metric_exprs(function(v) paste0(l, ":", v))
      names(ex) <- paste0(names(ex), " [", by, "=", l, "]")
      exprs <- c(exprs, ex)
    }
    con <- svycontrast(tot, exprs)
    res <- as_list(con)
    res$vcov_coverage <- unname(vcov(con)[grepl("^coverage ", names(coef(con))), grepl("^coverage ", names(coef(con)))])
  }
  res$df <- degf(des)
  res$call <- label
  cases[[label]] <<- res
}
z_T <- as.numeric(d$welfare < z)
strat <- function(dd) svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = dd)
run_case("stratified_cluster_fpc_line", strat, z_T)
run_case("stratified_cluster_fpc_line_by_sex", strat, z_T, by = "sex")
run_case("stratified_cluster_fpc_column_by_age_band", strat, as.numeric(d$eligible), by = "age_band")
run_case("iid_weights_line", function(dd) svydesign(ids = ~1, weights = ~w, data = dd), z_T)
run_case("cluster_only_column", function(dd) svydesign(ids = ~psu, weights = ~w, data = transform(dd, psu = stratum * 100 + psu)), as.numeric(d$eligible))
# replicate design: JKn jackknife of the stratified cluster design
options(survey.lonely.psu = "fail")
dd <- cbind(d, base_vars(d, z_T, z))
rep <- as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = dd), type = "JKn", compress = FALSE)
repw <- matrix(as.numeric(as.matrix(unclass(weights(rep, "analysis")))), nrow = n)
colnames(repw) <- paste0("rw", seq_len(ncol(repw)))
write.csv(data.frame(repw), file.path(out_dir, "targeting_repweights.csv"), row.names = FALSE)
tot <- svytotal(fml, rep, return.replicates = TRUE)
con <- svycontrast(tot, metric_exprs(function(v) v))
res <- as_list(con); res$df <- degf(rep); res$rscales <- rep$rscales; res$scale <- rep$scale
res$call <- "as.svrepdesign(type='JKn') of the stratified cluster design; line"
cases[["replicate_jkn_line"]] <- res

# Estimated lines: an independent implementation of the linearisation (Deville 1999; Osier 2009) with
# convey's conventions (h_fun bandwidth, Gaussian densfun, iqalpha influence of a quantile), the SE
# from svytotal of the linearised variable. z = 0.6 * weighted median (strict <) or the weighted
# 0.2-quantile (<=); laeken::weightedQuantile.
options(survey.lonely.psu = "fail")
y <- d$welfare; w <- d$w; B <- d$beneficiary; b <- d$benefit; N <- sum(w)
h <- sqrt((sum(w * y * y) - sum(w * y)^2 / N) / N) / exp(0.2 * log(N))
kern <- function(x, v = 1) sum(w * v * dnorm((x - y) / h)) / h
linearised <- function(T, z, Q, p, s, dom = rep(1, n)) {
  if_z <- -s * ((y <= Q) - p) / kern(Q)                      # per row; svytotal weights it
  tot <- function(v) sum(w * v * dom)
  kd <- function(v) sum(w * v * dom * dnorm((z - y) / h)) / h
  cov <- tot(T * B) / tot(T)
  leak <- tot((1 - T) * B) / tot(B)
  list(
    coverage = list(value = cov, lin = (dom * (T * B - cov * T) + (kd(B) - cov * kd(1)) * if_z) / tot(T)),
    exclusion_error = list(value = 1 - cov, lin = -(dom * (T * B - cov * T) + (kd(B) - cov * kd(1)) * if_z) / tot(T)),
    inclusion_error_beneficiaries = list(value = leak, lin = (dom * ((1 - T) * B - leak * B) - kd(B) * if_z) / tot(B)),
    target_share = list(value = tot(T) / tot(1), lin = (dom * (T - tot(T) / tot(1)) + kd(1) * if_z) / tot(1)),
    line = list(value = z, lin = if_z))
}
for (rule in c("relative", "bottom")) {
  if (rule == "relative") { Q <- weightedQuantile(y, w, 0.5); z <- 0.6 * Q; T <- as.numeric(y < z); p <- 0.5; s <- 0.6 }
  else { Q <- weightedQuantile(y, w, 0.2); z <- Q; T <- as.numeric(y <= z); p <- 0.2; s <- 1 }
  for (by in c("none", "sex")) {
    doms <- if (by == "none") list(all = rep(1, n)) else list(F = as.numeric(d$sex == "F"), M = as.numeric(d$sex == "M"))
    res <- list(names = c(), estimate = c(), se = c())
    for (dn in names(doms)) {
      lin <- linearised(T, z, Q, p, s, doms[[dn]])
      for (m in names(lin)) {
        des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = transform(d, lin = lin[[m]]$lin))
        res$names <- c(res$names, if (by == "none") m else paste0(m, " [sex=", dn, "]"))
        res$estimate <- c(res$estimate, lin[[m]]$value)
        res$se <- c(res$se, unname(SE(svytotal(~lin, des))))
      }
    }
    res$df <- 18; res$bandwidth <- h; res$line <- z
    res$call <- paste("linearised", rule, "line, stratified cluster fpc design, by", by)
    cases[[paste0("estimated_", rule, "_line", if (by == "none") "" else "_by_sex")]] <- res
  }
}
cases[["quintile_cuts"]] <- list(cuts = unname(cuts))
writeLines(to_json(cases), file.path(out_dir, "targeting_reference.json"))
cat("wrote", length(cases), "cases\n")
