# Reference values from R `survey` for ik.change (design-based change between rounds), checked by
# tests/python/test_monitoring_change.py.
#
# Run from the repository root (R >= 4.2 with survey):
#   Rscript tests/reference/r/monitoring/make_change_reference.R
# Writes into tests/reference/r/monitoring/:
#   change_panel.csv   synthetic household panel: 4 strata x 6 villages (PSUs) x 8 households, 3 rounds
#                      (0, 1, 2) with attrition; columns stratum, village, hh, round, weight, sex,
#                      rural, income (continuous), school (0/1)
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
