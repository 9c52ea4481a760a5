# Reference values from R `survey` for ik.change (design-based change between rounds), checked by
# tests/python/test_monitoring_change.py.
#
# Run from the repository root (R >= 4.2 with survey):
#   Rscript tests/reference/r/monitoring/make_change_reference.R
# Writes into tests/reference/r/monitoring/:
#   change_panel.csv   synthetic household panel: 4 strata x 6 villages (PSUs) x 8 households, 3 rounds
#                      (0, 1, 2) with attrition; columns stratum, village, hh, round, weight, sex,
#                      rural, income (continuous), school (0/1)
#   change_repweights.csv, change_replicate_reference.json: replicate-weight designs (section at the end)
#   change_reference.json  missing_outcome: svyby(na.rm=TRUE) on the shipped monitoring_panel.csv; gaps: F - M at one round (svycontrast on svyby(~y, ~sex+round)); per case: the design (ik.SurveyDesign arguments), outcome, by, baseline,
#                      endline, and R's estimates, standard errors and df
# Conventions: domains (round x group) on the full design, svyby(..., covmat = TRUE); absolute change by
# svycontrast (linear), relative change endline/baseline - 1 by svycontrast on a quoted expression
# (delta method); df = degf(design) (#PSU - #strata).

suppressPackageStartupMessages(library(survey))
source(file.path("tests", "reference", "r", "json_writer.R"))
out_dir <- file.path("tests", "reference", "r", "monitoring")
if (!dir.exists(out_dir)) stop("run from the repository root")
options(survey.lonely.psu = "fail", warn = 1)

set.seed(20261201)
rows <- list()
for (h in 1:4) for (v in 1:6) {
  vid <- (h - 1) * 6 + v
  veff <- rnorm(1, 0, 0.4)
  for (k in 1:8) {
    hid <- vid * 100 + k
    w <- round(runif(1, 20, 80), 3)
    sex <- sample(c("F", "M"), 1)
    rural <- rbinom(1, 1, 0.6)
    base <- 3 + 0.3 * h + veff + rnorm(1, 0, 0.5)
    for (r in 0:2) {
      if (r > 0 && runif(1) < 0.12) break  # attrition: the household leaves for good
      inc <- round(base + 0.25 * r + 0.2 * r * (sex == "F") + rnorm(1, 0, 0.6), 6)
      sch <- rbinom(1, 1, plogis(-0.3 + 0.4 * r + 0.3 * rural + 0.3 * veff))
      rows[[length(rows) + 1]] <- data.frame(stratum = h, village = vid, hh = hid, round = r, weight = w, sex = sex,
                                             rural = rural, income = inc, school = sch)
    }
  }
}
panel <- do.call(rbind, rows)
write.csv(panel, file.path(out_dir, "change_panel.csv"), row.names = FALSE)
panel <- read.csv(file.path(out_dir, "change_panel.csv"))

des <- svydesign(ids = ~village, strata = ~stratum, weights = ~weight, data = panel, nest = TRUE)

case <- function(name, outcome, by, baseline, endline) {
  f_by <- if (is.null(by)) ~round else as.formula(paste("~", paste(c(by, "round"), collapse = "+")))
  b <- svyby(as.formula(paste0("~", outcome)), f_by, des, svymean, covmat = TRUE)
  keys <- if (is.null(by)) list("all") else split(b[, by, drop = FALSE], seq_len(nrow(b)))
  groups <- if (is.null(by)) "all" else unique(do.call(paste, c(b[, by, drop = FALSE], sep = ".")))
  nm <- rownames(b)
  abs_est <- c(); abs_se <- c(); rel_est <- c(); rel_se <- c()
  for (g in groups) {
    n0 <- if (is.null(by)) as.character(baseline) else paste(g, baseline, sep = ".")
    n1 <- if (is.null(by)) as.character(endline) else paste(g, endline, sep = ".")
    i0 <- which(nm == n0); i1 <- which(nm == n1)
    L <- rep(0, length(nm)); L[i1] <- 1; L[i0] <- -1
    a <- svycontrast(b, L)
    expr <- parse(text = sprintf("`%s` / `%s` - 1", n1, n0))[[1]]
    r <- svycontrast(b, expr)
    abs_est <- c(abs_est, coef(a)); abs_se <- c(abs_se, SE(a))
    rel_est <- c(rel_est, coef(r)); rel_se <- c(rel_se, SE(r))
  }
  list(name = name, outcome = outcome, by = if (is.null(by)) list() else I(by), baseline = baseline, endline = endline,
       groups = I(groups), absolute = I(unname(abs_est)), absolute_se = I(unname(abs_se)),
       relative = I(unname(rel_est)), relative_se = I(unname(rel_se)), df = degf(des),
       r_call = sprintf("svycontrast(svyby(~%s, %s, des, svymean, covmat=TRUE), ...)", outcome, deparse(f_by)))
}

cases <- list(
  case("income_all_0_2", "income", NULL, 0, 2),
  case("income_sex_0_2", "income", "sex", 0, 2),
  case("school_sex_rural_0_1", "school", c("sex", "rural"), 0, 1),
  case("school_all_1_2", "school", NULL, 1, 2)
)
# gaps between groups at one round (ik.disaggregate): svyby on the round's domain, svycontrast F - M
gap_case <- function(outcome, round_value) {
  b <- svyby(as.formula(paste0("~", outcome)), ~sex + round, des, svymean, covmat = TRUE)
  nm <- rownames(b)
  L <- rep(0, length(nm)); L[nm == paste("F", round_value, sep = ".")] <- 1; L[nm == paste("M", round_value, sep = ".")] <- -1
  g <- svycontrast(b, L)
  list(outcome = outcome, round = round_value, gap_F_minus_M = unname(coef(g)), se = unname(SE(g)))
}
gaps <- list(gap_case("income", 2), gap_case("school", 1))

# missing outcomes (school_attendance is NA without school-age children) on the shipped synthetic panel:
# svyby(..., na.rm = TRUE) puts those rows outside the domains; change round 0 -> 3 by head_sex, and the
# round means (ik.ResultsFramework actuals)
mp <- read.csv(file.path("python", "impactkit", "datasets", "data", "monitoring_panel.csv"))
des_mp <- svydesign(ids = ~village, strata = ~district, weights = ~weight, data = mp, nest = TRUE)
# (svyby(na.rm = TRUE) with covmat = TRUE fails in survey 4.1; subset() is the same domain estimator:
# a subset of a survey.design2 keeps every PSU for the variance)
des_obs <- subset(des_mp, !is.na(school_attendance))
bm <- svyby(~school_attendance, ~head_sex + round, des_obs, svymean, covmat = TRUE)
nm <- rownames(bm)
mp_change <- list()
for (g in c("F", "M")) {
  L <- rep(0, length(nm)); L[nm == paste(g, 3, sep = ".")] <- 1; L[nm == paste(g, 0, sep = ".")] <- -1
  a <- svycontrast(bm, L)
  mp_change[[g]] <- list(change = unname(coef(a)), se = unname(SE(a)))
}
br <- svyby(~school_attendance, ~round, des_mp, svymean, na.rm = TRUE)
stopifnot(isTRUE(all.equal(unname(coef(br)), unname(coef(svyby(~school_attendance, ~round, des_obs, svymean))), tolerance = 1e-14)))
missing_case <- list(r_call = "svyby(~school_attendance, ~head_sex + round, subset(des_mp, !is.na(school_attendance)), svymean, covmat=TRUE)",
                     design = "svydesign(ids=~village, strata=~district, weights=~weight, data=mp, nest=TRUE)",
                     change_by_sex = mp_change, round = I(br$round), round_mean = I(unname(coef(br))),
                     round_se = I(unname(SE(br))), df = degf(des_mp), df_subset = degf(des_obs))

ref <- list(missing_outcome = missing_case, gaps = gaps, design = list(r_call = "svydesign(ids=~village, strata=~stratum, weights=~weight, data=panel, nest=TRUE)",
                          weights = "weight", strata = "stratum", psu = "village", nest = TRUE),
            survey_version = as.character(packageVersion("survey")), cases = cases)
writeLines(to_json(ref), file.path(out_dir, "change_reference.json"))
cat("wrote", file.path(out_dir, "change_reference.json"), "\n")

# ---------------------------------------------------------------------------------------------------
# Replicate-weight designs (ik.change / ik.disaggregate with ik.SurveyDesign(replicate_weights=...)):
# change_repweights.csv holds the combined replicate weights weights(as.svrepdesign(...), "analysis")
# of five designs on change_panel.csv, rounded to 12 significant digits and read back, so the rounded
# columns are the designs (svrepdesign(..., combined.weights = TRUE, mse = FALSE)):
#   jk1_*  JK1 on the unstratified cluster design (ids = ~village)
#   jkn_*  JKn on the stratified design above (rscales stored)
#   brr_*  BRR and fay_* Fay (rho = 0.3) on the paired design: villages paired within stratum
#          (pair = (village + 1) %/% 2, two PSUs per pseudo-stratum)
#   boot_* bootstrap (Rao-Wu rescaling, 40 replicates, set.seed(7))
# Per design: svyby(~y, ~sex + round, rdes, svymean, covmat = TRUE); the absolute change endline -
# baseline by svycontrast (linear, so the same as a contrast of the replicates); the relative change
# endline/baseline - 1 by the delta method on vcov(svyby) (svycontrast on a quoted expression, checked
# equal to the explicit gradient); the gap F - M at endline (svycontrast); df = degf(rdes) (rank of the
# replicate weights - 1). Also the overall (no by) change of school 1 -> 2.
set.seed(7)
panel$pair <- (panel$village + 1) %/% 2
des_jk1 <- svydesign(ids = ~village, weights = ~weight, data = panel)
des_pairs <- svydesign(ids = ~village, strata = ~pair, weights = ~weight, data = panel, nest = TRUE)
reps <- list(
  jk1 = list(rep = as.svrepdesign(des_jk1, type = "JK1", compress = FALSE), type = "JK1"),
  jkn = list(rep = as.svrepdesign(des, type = "JKn", compress = FALSE), type = "JKn"),
  brr = list(rep = as.svrepdesign(des_pairs, type = "BRR", compress = FALSE), type = "BRR"),
  fay = list(rep = as.svrepdesign(des_pairs, type = "Fay", fay.rho = 0.3, compress = FALSE), type = "Fay"),
  boot = list(rep = as.svrepdesign(des, type = "bootstrap", replicates = 40, compress = FALSE), type = "bootstrap"))
repw <- data.frame(row = seq_len(nrow(panel)))
for (k in names(reps)) {
  w <- as.matrix(unclass(weights(reps[[k]]$rep, "analysis")))
  colnames(w) <- sprintf("%s_%02d", k, seq_len(ncol(w)))
  repw <- cbind(repw, signif(w, 12))
}
repw$row <- NULL
write.csv(repw, file.path(out_dir, "change_repweights.csv"), row.names = FALSE)
repw <- read.csv(file.path(out_dir, "change_repweights.csv"))
panel_rep <- cbind(panel, repw)

rep_change <- function(rdes, outcome, baseline, endline) {
  b <- svyby(as.formula(paste0("~", outcome)), ~sex + round, rdes, svymean, covmat = TRUE)
  nm <- rownames(b); V <- vcov(b); m <- coef(b)
  out <- list(groups = I(c("F", "M")), absolute = c(), absolute_se = c(), relative = c(), relative_se = c())
  for (g in c("F", "M")) {
    n0 <- paste(g, baseline, sep = "."); n1 <- paste(g, endline, sep = ".")
    L <- rep(0, length(nm)); L[nm == n1] <- 1; L[nm == n0] <- -1
    a <- svycontrast(b, L)
    r <- svycontrast(b, parse(text = sprintf("`%s` / `%s` - 1", n1, n0))[[1]])
    G <- rep(0, length(nm)); G[nm == n1] <- 1 / m[n0]; G[nm == n0] <- -m[n1] / m[n0]^2  # delta method, explicitly
    stopifnot(abs(SE(r) - sqrt(drop(t(G) %*% V %*% G))) < 1e-12 * SE(r))
    out$absolute <- c(out$absolute, unname(coef(a))); out$absolute_se <- c(out$absolute_se, unname(SE(a)))
    out$relative <- c(out$relative, unname(coef(r))); out$relative_se <- c(out$relative_se, unname(SE(r)))
  }
  L <- rep(0, length(nm)); L[nm == paste("F", endline, sep = ".")] <- 1; L[nm == paste("M", endline, sep = ".")] <- -1
  gap <- svycontrast(b, L)
  out$baseline_means <- I(unname(m[paste(c("F", "M"), baseline, sep = ".")]))
  out$baseline_se <- I(unname(sqrt(diag(V))[match(paste(c("F", "M"), baseline, sep = "."), nm)]))
  out$gap_F_minus_M <- unname(coef(gap)); out$gap_se <- unname(SE(gap))
  out$absolute <- I(out$absolute); out$absolute_se <- I(out$absolute_se)
  out$relative <- I(out$relative); out$relative_se <- I(out$relative_se)
  c(list(outcome = outcome, baseline = baseline, endline = endline), out)
}
rep_overall <- function(rdes, outcome, baseline, endline) {
  b <- svyby(as.formula(paste0("~", outcome)), ~round, rdes, svymean, covmat = TRUE)
  nm <- rownames(b)
  L <- rep(0, length(nm)); L[nm == as.character(endline)] <- 1; L[nm == as.character(baseline)] <- -1
  a <- svycontrast(b, L)
  list(outcome = outcome, baseline = baseline, endline = endline, absolute = unname(coef(a)), absolute_se = unname(SE(a)))
}
rep_designs <- list()
for (k in names(reps)) {
  r0 <- reps[[k]]$rep
  cols <- grep(paste0("^", k, "_"), names(panel_rep), value = TRUE)
  args <- list(data = panel_rep, repweights = paste0("^", k, "_"), weights = ~weight, type = reps[[k]]$type,
               scale = r0$scale, rscales = r0$rscales, combined.weights = TRUE, mse = FALSE)
  if (k == "fay") { args$rho <- 0.3; args$scale <- NULL; args$rscales <- NULL }
  if (k == "brr") { args$scale <- NULL; args$rscales <- NULL }
  rdes <- do.call(svrepdesign, args)
  stopifnot(max(abs(as.matrix(unclass(weights(rdes, "analysis"))) - as.matrix(unclass(weights(r0, "analysis"))))) < 1e-8 * max(panel$weight))
  rep_designs[[k]] <- list(
    python = list(replicate_type = reps[[k]]$type, columns = I(cols), scale = rdes$scale, rscales = I(unname(rdes$rscales)),
                  fay_rho = if (k == "fay") 0.3 else NULL),
    degf = degf(rdes),
    r_call = sprintf("svrepdesign(data=panel_rep, repweights=\"^%s_\", weights=~weight, type=\"%s\"%s, combined.weights=TRUE, mse=FALSE)",
                     k, reps[[k]]$type, if (k == "fay") ", rho=0.3" else if (k == "brr") "" else ", scale=..., rscales=..."),
    income_sex_0_2 = rep_change(rdes, "income", 0, 2),
    school_sex_0_1 = rep_change(rdes, "school", 0, 1),
    school_all_1_2 = rep_overall(rdes, "school", 1, 2))
}
writeLines(to_json(list(survey_version = as.character(packageVersion("survey")), designs = rep_designs)),
           file.path(out_dir, "change_replicate_reference.json"))
cat("wrote", file.path(out_dir, "change_replicate_reference.json"), "\n")
